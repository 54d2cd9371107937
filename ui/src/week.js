// @ts-check
/**
 * The Free/Busy week view's layout: busy blocks → positioned boxes per day column, in local time.
 * Pure, so it is tested with `node --test`.
 */

/** @typedef {import('./ipc.js').BusyBlock} BusyBlock */

/**
 * @typedef {{
 *   day: number,
 *   startMinute: number,
 *   endMinute: number,
 *   column: number,
 *   columns: number,
 *   status: string,
 *   start: Date,
 *   end: Date,
 * }} PlacedBlock
 */

const MINUTES_PER_DAY = 24 * 60;

/** Status colours' names for the legend, in Graph's freeBusyStatus vocabulary. */
export const STATUSES = /** @type {const} */ ([
  { status: 'busy', label: 'Busy' },
  { status: 'tentative', label: 'Tentative' },
  { status: 'oof', label: 'Away' },
  { status: 'workingElsewhere', label: 'Working elsewhere' },
]);

/**
 * Local midnight of the Monday of `date`'s week (ISO 8601 weeks start on Monday).
 * @param {Date} date
 */
export function weekStart(date) {
  const start = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const sinceMonday = (start.getDay() + 6) % 7;
  start.setDate(start.getDate() - sinceMonday);
  return start;
}

/**
 * The week `weeks` weeks after the one starting at `start` (negative for earlier).
 * @param {Date} start
 * @param {number} weeks
 */
export function addWeeks(start, weeks) {
  const moved = new Date(start);
  moved.setDate(moved.getDate() + 7 * weeks);
  return moved;
}

/**
 * The seven local midnights of the week starting at `start` (DST-safe: calendar arithmetic, not 24 h steps).
 * @param {Date} start
 */
export function weekDays(start) {
  return Array.from({ length: 7 }, (_, index) => {
    const day = new Date(start);
    day.setDate(day.getDate() + index);
    return day;
  });
}

/**
 * Splits blocks at local midnights, drops what lies outside the week and free time, and gives overlapping
 * blocks side-by-side columns within their day.
 * @param {BusyBlock[]} blocks
 * @param {Date} start local midnight of the week's Monday
 * @returns {PlacedBlock[]}
 */
export function layoutWeek(blocks, start) {
  const days = weekDays(start);
  const boundaries = [...days, addWeeks(start, 1)];
  /** @type {PlacedBlock[][]} */
  const perDay = days.map(() => []);
  for (const block of blocks) {
    if (block.status === 'free') continue;
    const blockStart = new Date(block.start);
    const blockEnd = new Date(block.end);
    if (!(blockEnd > blockStart)) continue;
    for (let day = 0; day < 7; day += 1) {
      const dayStart = boundaries[day];
      const dayEnd = boundaries[day + 1];
      const from = blockStart > dayStart ? blockStart : dayStart;
      const to = blockEnd < dayEnd ? blockEnd : dayEnd;
      if (to <= from) continue;
      const dayLength = (dayEnd.getTime() - dayStart.getTime()) / 60000;
      perDay[day].push({
        day,
        startMinute: Math.round(((from.getTime() - dayStart.getTime()) / 60000 / dayLength) * MINUTES_PER_DAY),
        endMinute: Math.round(((to.getTime() - dayStart.getTime()) / 60000 / dayLength) * MINUTES_PER_DAY),
        column: 0,
        columns: 1,
        status: block.status,
        start: blockStart,
        end: blockEnd,
      });
    }
  }
  return perDay.flatMap(assignColumns);
}

/**
 * Greedy interval colouring: each block takes the first free column; a cluster of overlapping blocks
 * shares one column count so their widths line up.
 * @param {PlacedBlock[]} placed
 */
function assignColumns(placed) {
  const sorted = [...placed].sort((a, b) => a.startMinute - b.startMinute || b.endMinute - a.endMinute);
  /** @type {PlacedBlock[]} */
  let cluster = [];
  /** @type {number[]} end minute per column */
  let columnEnds = [];
  let clusterEnd = -1;
  const finish = () => {
    for (const block of cluster) block.columns = columnEnds.length;
    cluster = [];
    columnEnds = [];
  };
  for (const block of sorted) {
    if (block.startMinute >= clusterEnd) finish();
    let column = columnEnds.findIndex((end) => end <= block.startMinute);
    if (column === -1) {
      column = columnEnds.length;
      columnEnds.push(block.endMinute);
    } else {
      columnEnds[column] = block.endMinute;
    }
    block.column = column;
    cluster.push(block);
    clusterEnd = Math.max(clusterEnd, block.endMinute);
  }
  finish();
  return sorted;
}

/**
 * The hours to draw: the working day, widened to whole hours around every block.
 * @param {PlacedBlock[]} placed
 * @returns {{ from: number, to: number }}
 */
export function visibleHours(placed, workday = { from: 8, to: 18 }) {
  let from = workday.from;
  let to = workday.to;
  for (const block of placed) {
    from = Math.min(from, Math.floor(block.startMinute / 60));
    to = Math.max(to, Math.ceil(block.endMinute / 60));
  }
  return { from, to };
}
