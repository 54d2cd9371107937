// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addWeeks, layoutWeek, visibleHours, weekDays, weekStart } from '../src/week.js';

// Local-time constructors keep these tests independent of the machine's time zone.
const monday = new Date(2024, 5, 3); // Monday 3 June 2024, local midnight
/** @param {number} day @param {number} hour @param {number} [minute] */
const at = (day, hour, minute = 0) => new Date(2024, 5, 3 + day, hour, minute).toISOString();

test('a week starts on the local Monday at midnight, whatever the day', () => {
  assert.equal(weekStart(new Date(2024, 5, 9, 23, 30)).getTime(), monday.getTime(), 'Sunday belongs to the week before');
  assert.equal(weekStart(new Date(2024, 5, 3, 0, 0)).getTime(), monday.getTime());
  assert.equal(weekStart(new Date(2024, 5, 5, 12)).getTime(), monday.getTime());
  assert.equal(addWeeks(monday, -1).getDate(), 27);
  assert.deepEqual(weekDays(monday).map((day) => day.getDate()), [3, 4, 5, 6, 7, 8, 9]);
});

test('a block lands in its day column at its local minutes', () => {
  const [block] = layoutWeek([{ status: 'busy', start: at(2, 9, 30), end: at(2, 11) }], monday);
  assert.equal(block.day, 2);
  assert.equal(block.startMinute, 570);
  assert.equal(block.endMinute, 660);
  assert.deepEqual([block.column, block.columns], [0, 1]);
});

test('free time and blocks outside the week are not drawn', () => {
  const placed = layoutWeek(
    [
      { status: 'free', start: at(0, 9), end: at(0, 10) },
      { status: 'busy', start: at(7, 9), end: at(7, 10) },
      { status: 'busy', start: at(-1, 9), end: at(-1, 10) },
    ],
    monday,
  );
  assert.equal(placed.length, 0);
});

test('a block across midnight is split into one piece per day', () => {
  const placed = layoutWeek([{ status: 'oof', start: at(0, 22), end: at(1, 2) }], monday);
  assert.deepEqual(
    placed.map((block) => [block.day, block.startMinute, block.endMinute]),
    [
      [0, 1320, 1440],
      [1, 0, 120],
    ],
  );
});

test('overlapping blocks share their day side by side and the next block gets the full width', () => {
  const placed = layoutWeek(
    [
      { status: 'busy', start: at(1, 9), end: at(1, 11) },
      { status: 'tentative', start: at(1, 10), end: at(1, 12) },
      { status: 'busy', start: at(1, 11), end: at(1, 11, 30) },
      { status: 'busy', start: at(1, 14), end: at(1, 15) },
    ],
    monday,
  );
  const byStart = Object.fromEntries(placed.map((block) => [block.startMinute, [block.column, block.columns]]));
  assert.deepEqual(byStart[540], [0, 2]);
  assert.deepEqual(byStart[600], [1, 2]);
  assert.deepEqual(byStart[660], [0, 2], 'reuses the column freed at 11:00, within the same cluster');
  assert.deepEqual(byStart[840], [0, 1]);
});

test('the visible hours widen the working day to include every block', () => {
  assert.deepEqual(visibleHours([]), { from: 8, to: 18 });
  const placed = layoutWeek([{ status: 'busy', start: at(3, 6, 30), end: at(3, 19, 15) }], monday);
  assert.deepEqual(visibleHours(placed), { from: 6, to: 20 });
});
