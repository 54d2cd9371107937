// @ts-check
/**
 * Step 4: the connected account. Full: its calendars, searchable. Free/Busy: the single read-only
 * "Free Busy" calendar and a week of busy blocks. Teams conferencing: no calendars at all, and a test
 * meeting that proves the connection makes a join link (and is deleted again).
 */
import { h, replaceChildren } from '../dom.js';
import { accountDetails, calendars as loadCalendars, createTestMeeting, freeBusy } from '../ipc.js';
import { linkActions } from '../link-actions.js';
import { accessLabel, filterCalendars } from '../wizard.js';
import { addWeeks, layoutWeek, STATUSES, visibleHours, weekDays, weekStart } from '../week.js';
import { errorCard } from '../error-card.js';

/** @typedef {import('../ipc.js').Calendar} Calendar */
/** @typedef {import('../ipc.js').Account} Account */

/**
 * @param {HTMLElement} root
 * @param {import('../wizard.js').StepContext} ctx
 * @returns {() => void} cleanup
 */
export function render(root, ctx) {
  const account = ctx.state.account;
  if (!account) {
    ctx.dispatch({ type: 'home' });
    return () => {};
  }
  let active = true;
  const content = h('div', {});
  replaceChildren(
    root,
    h('h1', {}, 'Connected'),
    accountCard(account),
    content,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', 'data-testid': 'connect-another', onclick: () => ctx.dispatch({ type: 'connectNew' }) }, 'Connect another account'),
      h('button', { type: 'button', onclick: () => ctx.dispatch({ type: 'showAccounts' }) }, 'All accounts'),
    ),
  );

  /** @param {import('../ipc.js').IpcError} error */
  const failed = (error) => {
    if (!active) return;
    const actions = [];
    // A refresh refused for missing consent also needs a sign-in; the browser's shows the consent page.
    if (error.code === 'NeedsSignInAgain' || error.code === 'ConsentRequired') {
      actions.push(h('button', { type: 'button', class: 'primary', onclick: () => ctx.dispatch({ type: 'reconnect', account }) }, 'Sign in again'));
    }
    replaceChildren(content, errorCard(error, ...actions));
  };

  if (account.access === 'teams') {
    teamsPanel(content, account, failed, () => active);
  } else if (account.access === 'full') {
    const list = calendarList(content);
    const known = ctx.state.calendars;
    if (known && known.length > 0) list.show(known);
    else loadCalendars(account.id).then((items) => active && list.show(items), failed);
  } else {
    weekView(content, account, failed, () => active);
  }

  return () => {
    active = false;
  };
}

/**
 * Teams conferencing: what the connection gives, and "Create a test meeting".
 * @param {HTMLElement} container
 * @param {Account} account
 * @param {(error: import('../ipc.js').IpcError) => void} failed
 * @param {() => boolean} isActive
 */
function teamsPanel(container, account, failed, isActive) {
  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'meeting-status' });
  const result = h('div', { 'data-testid': 'meeting-result' });
  const create = h('button', { type: 'button', class: 'primary', 'data-testid': 'create-test-meeting' }, 'Create a test meeting');
  const attempt = () => {
    create.setAttribute('disabled', '');
    replaceChildren(result);
    status.textContent = 'Creating a Teams meeting, then deleting it again…';
    createTestMeeting(account.id)
      .then((meeting) => {
        if (!isActive()) return;
        status.textContent = meeting.deleted
          ? 'Done: the meeting was created and deleted again, so testing left nothing behind.'
          : meeting.deleteError
            ? `The meeting was created, but could not be deleted: ${meeting.deleteError}`
            : 'Done: the meeting was kept.';
        // A deleted meeting's link no longer works: it is shown, not offered.
        const joinActions = meeting.deleted ? [] : linkActions(meeting.joinWebUrl, 'the join link');
        replaceChildren(
          result,
          h(
            'dl',
            { class: 'meta' },
            h('dt', {}, 'Join link'),
            h('dd', {}, h('code', { class: 'url', 'data-testid': 'meeting-join-url' }, meeting.joinWebUrl), ...joinActions),
            h('dt', {}, 'Meeting ID'),
            h('dd', {}, h('code', { 'data-testid': 'meeting-id' }, meeting.meetingId)),
            h('dt', {}, 'Afterwards'),
            h('dd', { 'data-testid': 'meeting-deleted' }, meeting.deleted ? 'Deleted again (the link no longer works).' : 'Still exists.'),
          ),
        );
      })
      .catch((/** @type {import('../ipc.js').IpcError} */ error) => {
        if (!isActive()) return;
        status.textContent = '';
        replaceChildren(result, errorCard(error, h('button', { type: 'button', class: 'primary', onclick: attempt }, 'Try again')));
      })
      .finally(() => create.removeAttribute('disabled'));
  };
  create.addEventListener('click', attempt);
  replaceChildren(
    container,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'teams-heading', 'data-testid': 'teams-panel' },
      h('h2', { id: 'teams-heading' }, 'Teams conferencing'),
      h('p', {}, 'calconnect can create Teams meeting links for you. This connection gives it no access to your calendar: connect your calendar separately for that.'),
      h('div', { class: 'actions' }, create),
      status,
      result,
    ),
  );
}

/** @param {Account} account */
function accountCard(account) {
  const keychain = h('dd', { 'data-testid': 'account-keychain', class: 'placeholder' }, '…');
  const renewed = h('dd', { 'data-testid': 'account-refresh', class: 'placeholder' }, '…');
  const card = h(
    'section',
    { class: 'card account-card', 'aria-labelledby': 'account-name', 'data-testid': 'account-card' },
    h('h2', { id: 'account-name', 'data-testid': 'account-name' }, account.name),
    h(
      'dl',
      { class: 'meta' },
      h('dt', {}, 'Email'),
      h('dd', { 'data-testid': 'account-email' }, account.email),
      h('dt', {}, 'Access'),
      h('dd', { 'data-testid': 'account-access' }, accessLabel(account.access)),
      h('dt', {}, 'Granted permissions'),
      h('dd', { 'data-testid': 'account-scopes' }, account.grantedScopes.map((scope) => h('code', { class: 'scope' }, scope))),
      h('dt', {}, 'Tokens kept in'),
      keychain,
      h('dt', {}, 'Sign-in renewed'),
      renewed,
    ),
  );
  // Filled in when the details arrive; the rows are there from the start so nothing moves.
  accountDetails(account.id)
    .then((details) => {
      keychain.textContent = details.keychain;
      const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
      const date = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
      renewed.textContent = `${dateTime.format(new Date(details.refreshTokenLastUsed))}; unused, it lapses on ${date.format(new Date(details.refreshTokenExpiresAt))}`;
      keychain.classList.remove('placeholder');
      renewed.classList.remove('placeholder');
    })
    .catch((/** @type {import('../ipc.js').IpcError} */ error) => {
      keychain.textContent = error.message;
      renewed.textContent = '—';
    });
  return card;
}

/**
 * The searchable calendar list; shows skeleton rows until `show` is called, so nothing jumps.
 * @param {HTMLElement} container
 */
function calendarList(container) {
  /** @type {Calendar[]} */
  let all = [];
  const count = h('p', { class: 'muted', role: 'status', 'data-testid': 'calendar-count' }, 'Loading calendars…');
  const rows = h(
    'ul',
    { class: 'calendar-list', 'data-testid': 'calendar-list', 'aria-busy': 'true', 'aria-label': 'Calendars' },
    [1, 2, 3].map(() => h('li', { class: 'calendar-row skeleton' })),
  );
  const search = /** @type {HTMLInputElement} */ (
    h('input', {
      type: 'search',
      id: 'calendar-search',
      'data-testid': 'calendar-search',
      placeholder: 'Name or owner',
      oninput: () => draw(),
    })
  );
  const draw = () => {
    const shown = filterCalendars(all, search.value);
    count.textContent = search.value.trim()
      ? `${shown.length} of ${all.length} calendars match`
      : `${all.length} calendar${all.length === 1 ? '' : 's'}`;
    replaceChildren(
      rows,
      ...shown.map((calendar) =>
        h(
          'li',
          { class: 'calendar-row', 'data-testid': 'calendar-row' },
          h('span', { class: 'swatch', 'aria-hidden': 'true', style: calendar.color ? `background:${calendar.color}` : '' }),
          h('span', { class: 'calendar-name', 'data-testid': 'calendar-name' }, calendar.name),
          // Always a cell, so rows line up whether or not the calendar is the default.
          h('span', {}, calendar.isDefault ? h('span', { class: 'badge' }, 'Default') : null),
          h('span', { class: calendar.canEdit ? 'badge ok' : 'badge' }, calendar.canEdit ? 'Editable' : 'Read-only'),
          h('span', { class: 'muted owner' }, calendar.owner ?? ''),
        ),
      ),
    );
  };
  replaceChildren(
    container,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'calendars-heading' },
      h('h2', { id: 'calendars-heading' }, 'Calendars'),
      h('div', { class: 'search-row' }, h('label', { for: 'calendar-search' }, 'Search calendars'), search),
      count,
      rows,
    ),
  );
  return {
    /** @param {Calendar[]} items */
    show(items) {
      all = items;
      rows.setAttribute('aria-busy', 'false');
      draw();
    },
  };
}

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric' });
const dayLabelFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const rangeFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' });

/**
 * The "Free Busy" calendar and its week view, with previous/next week and today.
 * @param {HTMLElement} container
 * @param {Account} account
 * @param {(error: import('../ipc.js').IpcError) => void} failed
 * @param {() => boolean} isActive
 */
function weekView(container, account, failed, isActive) {
  let start = weekStart(new Date());
  let request = 0;
  const title = h('h3', { class: 'week-title', 'data-testid': 'week-title', 'aria-live': 'polite' }, '');
  const grid = h('div', { class: 'week-grid', 'data-testid': 'week-grid', 'aria-busy': 'true' });
  const summary = h('p', { class: 'muted', role: 'status', 'data-testid': 'week-summary' }, 'Loading busy times…');
  const source = h('p', { class: 'muted small', 'data-testid': 'week-source' }, '');
  const move = (/** @type {number} */ weeks) => {
    start = weeks === 0 ? weekStart(new Date()) : addWeeks(start, weeks);
    load();
  };

  const load = () => {
    const current = ++request;
    const end = addWeeks(start, 1);
    const last = new Date(end.getTime() - 1);
    title.textContent = `${rangeFormat.format(start)} – ${rangeFormat.format(last)}`;
    grid.setAttribute('aria-busy', 'true');
    summary.textContent = 'Loading busy times…';
    freeBusy(account.id, start, end).then((result) => {
      if (!isActive() || current !== request) return;
      drawWeek(grid, start, result.blocks);
      grid.setAttribute('aria-busy', 'false');
      const busy = result.blocks.filter((block) => block.status !== 'free').length;
      summary.textContent = busy === 0 ? 'Free all week.' : `${busy} busy block${busy === 1 ? '' : 's'} this week.`;
      source.textContent =
        result.source === 'calendarView'
          ? 'Read from your calendar (calendarView): Microsoft refused the free/busy API (getSchedule) for this sign-in. Only status and times are kept.'
          : '';
    }, failed);
  };

  replaceChildren(
    container,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'free-busy-heading' },
      h('h2', { id: 'free-busy-heading' }, 'Calendars'),
      h(
        'ul',
        { class: 'calendar-list', 'data-testid': 'calendar-list' },
        h(
          'li',
          { class: 'calendar-row', 'data-testid': 'calendar-row' },
          h('span', { class: 'swatch', 'aria-hidden': 'true' }),
          h('span', { class: 'calendar-name', 'data-testid': 'calendar-name' }, 'Free Busy'),
          h('span', { class: 'badge' }, 'Default'),
          h('span', { class: 'badge' }, 'Read-only'),
          h('span', { class: 'muted owner' }, account.email),
        ),
      ),
      h(
        'div',
        { class: 'week-toolbar' },
        h('button', { type: 'button', 'data-testid': 'week-previous', 'aria-label': 'Previous week', onclick: () => move(-1) }, '‹ Previous'),
        h('button', { type: 'button', 'data-testid': 'week-today', onclick: () => move(0) }, 'Today'),
        h('button', { type: 'button', 'data-testid': 'week-next', 'aria-label': 'Next week', onclick: () => move(1) }, 'Next ›'),
        title,
      ),
      legend(),
      grid,
      summary,
      source,
    ),
  );
  drawWeek(grid, start, []);
  load();
}

function legend() {
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Legend' },
    STATUSES.map(({ status, label }) => h('li', {}, h('span', { class: `swatch status-${status}`, 'aria-hidden': 'true' }), label)),
  );
}

/**
 * @param {HTMLElement} grid
 * @param {Date} start
 * @param {import('../ipc.js').BusyBlock[]} blocks
 */
function drawWeek(grid, start, blocks) {
  const placed = layoutWeek(blocks, start);
  const hours = visibleHours(placed);
  const span = (hours.to - hours.from) * 60;
  const today = new Date().toDateString();
  const days = weekDays(start);
  const hourLabels = h(
    'div',
    { class: 'hour-labels', 'aria-hidden': 'true' },
    Array.from({ length: hours.to - hours.from }, (_, index) =>
      h('span', { style: `top:${((index * 60) / span) * 100}%` }, `${String(hours.from + index).padStart(2, '0')}:00`),
    ),
  );
  const columns = days.map((day, index) =>
    h(
      'div',
      { class: 'day', role: 'group', 'aria-label': dayLabelFormat.format(day) },
      h(
        'div',
        { class: day.toDateString() === today ? 'day-head today' : 'day-head', style: `grid-column:${index + 2}` },
        dayFormat.format(day),
      ),
      h(
        'div',
        { class: 'day-body', style: `grid-column:${index + 2};background-size:100% ${100 / (hours.to - hours.from)}%` },
        placed
          .filter((block) => block.day === index)
          .map((block) => {
            const top = ((block.startMinute - hours.from * 60) / span) * 100;
            const height = ((block.endMinute - block.startMinute) / span) * 100;
            const width = 100 / block.columns;
            const label = `${statusLabel(block.status)} ${timeFormat.format(block.start)}–${timeFormat.format(block.end)}`;
            return h(
              'div',
              {
                class: `busy status-${block.status}`,
                'data-testid': 'busy-block',
                'data-status': block.status,
                role: 'img',
                'aria-label': label,
                title: label,
                style: `top:${top}%;height:${Math.max(height, 1.5)}%;left:${block.column * width}%;width:${width}%`,
              },
              // Under half an hour the time would be clipped; the tooltip and the spoken label still give it.
              block.endMinute - block.startMinute >= 30
                ? h('span', { class: 'busy-text', 'aria-hidden': 'true' }, timeFormat.format(block.start))
                : null,
            );
          }),
      ),
    ),
  );
  replaceChildren(grid, hourLabels, ...columns);
}

/** @param {string} status */
function statusLabel(status) {
  return STATUSES.find((entry) => entry.status === status)?.label ?? 'Unknown';
}
