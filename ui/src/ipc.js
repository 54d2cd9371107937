// @ts-check
/**
 * The only module that talks to Tauri. Every command is a typed wrapper here, and every rejection is
 * normalised to `{ code, message, nextStep, … }` so steps never see a raw Rust error.
 */

/** @typedef {'Internal' | 'Failed' | 'Cancelled' | 'ConsentRequired' | 'AdminConsentRequired' | 'NeedsSignInAgain' | 'Configuration' | 'NotFound'} KnownErrorCode */
/**
 * @typedef {{
 *   code: KnownErrorCode,
 *   message: string,
 *   nextStep: string | null,
 *   traceId?: string,
 *   correlationId?: string,
 *   adminConsentUrl?: string,
 *   alternative?: 'browser' | 'deviceCode',
 * }} IpcError
 */
/** @typedef {'global' | 'usGovernment' | 'usGovernmentDod' | 'china' | 'sandbox'} CloudName */
/** @typedef {{ version: string, cloud: CloudName, cloudLabel: string }} AppInfo */
/** @typedef {'full' | 'freeBusy' | 'teams'} Access */
/**
 * @typedef {{
 *   id: string, name: string, email: string, access: Access, app: Access,
 *   grantedScopes: string[], needsSignInAgain: boolean, connectedAt: string,
 * }} Account
 */
/**
 * @typedef {{
 *   id: string, name: string, color: string | null, isDefault: boolean, canEdit: boolean,
 *   owner: string | null, freeBusyOnly: boolean,
 * }} Calendar
 */
/** @typedef {{ status: string, start: string, end: string }} BusyBlock */
/**
 * `source`: `calendarView` when Microsoft refused getSchedule for this sign-in and the busy times were read
 * from the account's own calendar instead.
 * @typedef {{ calendar: Calendar, start: string, end: string, blocks: BusyBlock[], source: 'getSchedule' | 'calendarView' }} FreeBusy
 */
/**
 * @typedef {{
 *   access: Access, title: string, summary: string,
 *   scopes: { scope: string, why: string }[], canSee: string[], cannotSee: string[],
 * }} AccessOption
 */
/** @typedef {{ authorizeUrl: string, browserOpened: boolean, timeoutSeconds: number }} BrowserSignIn */
/**
 * @typedef {{
 *   userCode: string, verificationUri: string, qrCode: string | null, expiresAt: string,
 *   remainingSeconds: number, message: string | null,
 * }} DeviceCode
 */
/**
 * @typedef {{ kind: 'countdown', remainingSeconds: number }
 *   | { kind: 'polling', poll: 'waiting' | 'pending' | 'slowDown', polls: number, intervalSeconds: number }
 *   | { kind: 'connected', account: Account, calendars: Calendar[] }
 *   | { kind: 'failed', error: IpcError }} SignInEvent
 */
/** @typedef {{ cloud: CloudName, tenant: string, fullClientId: string, freebusyClientId: string, teamsClientId: string }} Settings */
/**
 * @typedef {{
 *   saved: Settings, activeCloud: CloudName, activeCloudLabel: string, lockedByCommandLine: boolean,
 *   clouds: { value: CloudName, label: string }[], sandbox: Settings,
 * }} SettingsView
 */

/**
 * @typedef {{ kind: 'password', username: string, password: string }
 *   | { kind: 'app', tenantId: string, clientId: string, clientSecret: string }} ExchangeCredentials
 */
/**
 * `mailboxes`: one address a line, or a pasted CSV export with a header; `caPem`: the PEM text of an
 * internal CA file the admin chose (public), or null.
 * @typedef {{ mailboxes: string, credentials: ExchangeCredentials, ewsUrl: string | null, caPem: string | null }} ExchangeTestRequest
 */
/**
 * @typedef {{
 *   operation: string, method: string, url: string, status: number | null,
 *   responseCode: string | null, durationMs: number, note: string | null,
 * }} ExchangeRequestRecord
 */
/**
 * @typedef {{
 *   id: string, title: string, status: 'passed' | 'failed' | 'warning' | 'skipped' | 'unconfirmed', durationMs: number,
 *   detail: string, responseCode: string | null, docUrl: string | null, requests: ExchangeRequestRecord[],
 * }} ExchangeStep
 */
/**
 * @typedef {{
 *   level: 'full' | 'restricted' | 'freeBusy' | 'none', summary: string, vendorCan: string[], vendorCannot: string[],
 *   fixes: { problem: string, reaches: string | null, changes: string, command: string | null, docUrl: string }[], chooseOne: boolean, notes: string[],
 * }} ExchangeVerdict
 */
/** @typedef {'impersonation' | 'delegate' | 'appOnly'} ExchangeRoute */
/**
 * @typedef {{
 *   mailbox: string, level: 'full' | 'restricted' | 'freeBusy' | 'none', route: ExchangeRoute | null,
 *   failed: string | null, availabilityView: string | null, verdict: ExchangeVerdict, steps: ExchangeStep[],
 * }} ExchangeMailboxReport
 */
/**
 * @typedef {{
 *   serviceAccount: string, mailbox: string, ewsUrl: string | null, serverVersion: string | null,
 *   deployment: 'exchangeOnline' | 'onPremises' | null, startedAt: string, steps: ExchangeStep[],
 *   mailboxes: ExchangeMailboxReport[], verdict: ExchangeVerdict,
 *   unconfirmedEwsUrl: string | null, credentialsSentTo: string[],
 * }} ExchangeReport
 */
/**
 * @typedef {{
 *   done: number, total: number, mailbox: string, level: 'full' | 'restricted' | 'freeBusy' | 'none',
 *   route: ExchangeRoute | null, failed: string | null,
 * }} ExchangeMailboxProgress
 */
/**
 * @typedef {{ event: 'stepStarted', id: string, title: string }
 *   | { event: 'stepFinished', step: ExchangeStep }
 *   | { event: 'mailboxFinished', progress: ExchangeMailboxProgress }} ExchangeTestEvent
 */

/** @typedef {{ keychain: string, refreshTokenLastUsed: string, refreshTokenExpiresAt: string }} AccountDetails */

/** Codes the Rust side may send; anything else is treated as Internal. */
const KNOWN_CODES = new Set([
  'Internal',
  'Failed',
  'Cancelled',
  'ConsentRequired',
  'AdminConsentRequired',
  'NeedsSignInAgain',
  'Configuration',
  'NotFound',
]);

/**
 * Turns whatever a command rejected with into an {@link IpcError}.
 * @param {unknown} raw
 * @returns {IpcError}
 */
export function normaliseError(raw) {
  if (raw && typeof raw === 'object' && 'message' in raw && typeof raw.message === 'string') {
    const code = /** @type {KnownErrorCode} */ (
      'code' in raw && typeof raw.code === 'string' && KNOWN_CODES.has(raw.code) ? raw.code : 'Internal'
    );
    const nextStep = 'nextStep' in raw && typeof raw.nextStep === 'string' ? raw.nextStep : null;
    /** @type {IpcError} */
    const error = { code, message: raw.message, nextStep };
    for (const key of /** @type {const} */ (['traceId', 'correlationId', 'adminConsentUrl'])) {
      if (key in raw && typeof (/** @type {any} */ (raw)[key]) === 'string') error[key] = /** @type {any} */ (raw)[key];
    }
    if ('alternative' in raw && (raw.alternative === 'browser' || raw.alternative === 'deviceCode')) {
      error.alternative = raw.alternative;
    }
    return error;
  }
  return {
    code: 'Internal',
    message: typeof raw === 'string' && raw ? raw : 'Something went wrong inside calconnect.',
    nextStep: 'Try again; if it keeps happening, restart calconnect.',
  };
}

/** @returns {any} */
function tauri() {
  const api = /** @type {any} */ (globalThis).__TAURI__;
  if (!api?.core?.invoke) {
    throw normaliseError({ code: 'Internal', message: 'This page is not running inside the calconnect app.' });
  }
  return api;
}

/**
 * @param {string} command
 * @param {Record<string, unknown>} [args]
 * @returns {Promise<any>}
 */
async function call(command, args) {
  const api = tauri();
  try {
    return await api.core.invoke(command, args);
  } catch (raw) {
    throw normaliseError(raw);
  }
}

/**
 * A channel on which Rust pushes a command's progress events.
 * @template T
 * @param {(event: T) => void} onEvent
 */
function eventChannel(onEvent) {
  const channel = new (tauri().core.Channel)();
  channel.onmessage = onEvent;
  return channel;
}

/** @returns {Promise<AppInfo>} */
export function appInfo() {
  return call('app_info');
}

/**
 * Tells Rust the first screen is drawn and answered: the end of start-up that `scripts/bench.sh` times.
 * Sends the page's start-up marks (`performance.mark`, milliseconds since navigation began) for the log,
 * so each part of start-up is measured.
 * @returns {Promise<void>}
 */
export function uiReady() {
  /** @type {Record<string, number>} */
  const marks = {};
  for (const mark of performance.getEntriesByType('mark')) marks[mark.name] = Math.round(mark.startTime);
  return call('ui_ready', { marks });
}

/** @returns {Promise<AccessOption[]>} */
export function accessOptions() {
  return call('access_options');
}

/** @returns {Promise<Account[]>} */
export function listAccounts() {
  return call('list_accounts');
}

/**
 * @param {string} accountId
 * @returns {Promise<void>}
 */
export function disconnect(accountId) {
  return call('disconnect', { accountId });
}

/**
 * @param {Access} access
 * @param {(event: SignInEvent) => void} onEvent
 * @param {boolean} [askConsent] ask Microsoft to show its consent page (`prompt=consent`), after `ConsentRequired`
 * @returns {Promise<BrowserSignIn>}
 */
export function startBrowserSignIn(access, onEvent, askConsent = false) {
  return call('start_browser_sign_in', { access, askConsent, onEvent: eventChannel(onEvent) });
}

/**
 * @param {Access} access
 * @param {(event: SignInEvent) => void} onEvent
 * @returns {Promise<DeviceCode>}
 */
export function startDeviceCode(access, onEvent) {
  return call('start_device_code', { access, onEvent: eventChannel(onEvent) });
}

/** @returns {Promise<boolean>} */
export function cancelSignIn() {
  return call('cancel_sign_in');
}

/**
 * @param {string} accountId
 * @returns {Promise<Calendar[]>}
 */
export function calendars(accountId) {
  return call('calendars', { accountId });
}

/**
 * @param {string} accountId
 * @param {Date} start
 * @param {Date} end
 * @returns {Promise<FreeBusy>}
 */
export function freeBusy(accountId, start, end) {
  return call('free_busy', { accountId, start: start.toISOString(), end: end.toISOString() });
}

/**
 * @typedef {{ meetingId: string, joinWebUrl: string, subject: string, start: string, end: string, deleted: boolean, deleteError: string | null }} TestMeeting
 */

/**
 * Creates a Teams test meeting with a Teams conferencing account, then deletes it again.
 * @param {string} accountId
 * @returns {Promise<TestMeeting>}
 */
export function createTestMeeting(accountId) {
  return /** @type {Promise<TestMeeting>} */ (call('create_test_meeting', { accountId }));
}

/**
 * Opens a link in the system browser (Rust opens only https links without credentials in them).
 * @param {string} url
 * @returns {Promise<void>}
 */
export function openLink(url) {
  return /** @type {Promise<void>} */ (call('open_link', { url }));
}

/**
 * Opens the folder holding calconnect's log files; answers its path.
 * @returns {Promise<string>}
 */
export function openLogFolder() {
  return /** @type {Promise<string>} */ (call('open_log_folder'));
}

/**
 * What a helpdesk asks first (version, cloud, keychain, proxy, log folder, last errors), secret-free.
 * @returns {Promise<string>}
 */
export function diagnosticInfo() {
  return /** @type {Promise<string>} */ (call('diagnostic_info'));
}

/** @returns {Promise<SettingsView>} */
export function getSettings() {
  return call('get_settings');
}

/**
 * @param {Settings} settings
 * @returns {Promise<SettingsView>}
 */
export function saveSettings(settings) {
  return call('save_settings', { settings });
}

/**
 * @typedef {{
 *   access: Access, label: string, displayName: string,
 *   permissions: { name: string, id: string }[], manifest: string,
 * }} RegistrationApp
 */
/**
 * @typedef {{
 *   tenant: string | null, apps: RegistrationApp[], azureCli: string, powershell: string,
 *   manifest: string, notes: string[],
 * }} RegistrationGuide
 */

/**
 * The commands and manifest that register calconnect's three apps in the person's own tenant.
 * @param {CloudName} cloud
 * @param {string} tenant
 * @returns {Promise<RegistrationGuide>}
 */
export function registrationGuide(cloud, tenant) {
  return call('registration_guide', { cloud, tenant });
}

/**
 * Where an account's tokens live and when its refresh token was last used.
 * @param {string} accountId
 * @returns {Promise<AccountDetails>}
 */
export function accountDetails(accountId) {
  return /** @type {Promise<AccountDetails>} */ (call('account_details', { accountId }));
}

/**
 * Runs the Exchange service-account test; each step is pushed on `onEvent` as it starts and finishes.
 * @param {ExchangeTestRequest} request
 * @param {(event: ExchangeTestEvent) => void} onEvent
 * @returns {Promise<ExchangeReport>}
 */
export function testExchangeAccount(request, onEvent) {
  return /** @type {Promise<ExchangeReport>} */ (call('test_exchange_account', { request, onEvent: eventChannel(onEvent) }));
}

/**
 * Saves the last Exchange test report and resolves with the file's path.
 * @param {'json' | 'text'} format
 * @returns {Promise<string | null>} the saved file, or null when the Save dialog was cancelled
 */
export function exportExchangeReport(format) {
  return /** @type {Promise<string | null>} */ (call('export_exchange_report', { format }));
}

/**
 * @typedef {{ id: string, title: string, status: 'passed' | 'failed' | 'warning' | 'skipped', durationMs: number, detail: string, requests: string[] }} TeamsStep
 */
/**
 * @typedef {{ problem: string, changes: string, command: string | null, link: string | null, docUrl: string }} TeamsFix
 */
/**
 * @typedef {{
 *   clientId: string, tenant: string, user: string, startedAt: string, roles: string[], missingRoles: string[],
 *   organization: string | null, verifiedDomains: string[], joinWebUrl: string | null, steps: TeamsStep[],
 *   passed: boolean, summary: string, fixes: TeamsFix[],
 * }} TeamsReport
 */
/**
 * @typedef {{ tenantId: string, clientId: string, user: string, clientSecret: string | null, certificatePem: string | null }} TeamsTestRequest
 */

/**
 * Runs the Teams Enterprise app test; each step is pushed on `onStep` as it finishes.
 * @param {TeamsTestRequest} request
 * @param {(step: TeamsStep) => void} onStep
 * @returns {Promise<TeamsReport>}
 */
export function testTeamsApp(request, onStep) {
  return /** @type {Promise<TeamsReport>} */ (call('test_teams_app', { request, onStep: eventChannel(onStep) }));
}

/**
 * Saves the last Teams test report and resolves with the file's path.
 * @param {'json' | 'text'} format
 * @returns {Promise<string | null>} the saved file, or null when the Save dialog was cancelled
 */
export function exportTeamsReport(format) {
  return /** @type {Promise<string | null>} */ (call('export_teams_report', { format }));
}

/**
 * @typedef {{
 *   clientId: string, tenant: string, mailbox: string, startedAt: string, roles: string[], missingRoles: string[],
 *   tenantId: string | null, verifiedDomains: string[], users: number | null, rooms: number | null, roomLists: number | null,
 *   userInScope: boolean | null, steps: TeamsStep[], level: 'full' | 'restricted' | 'freeBusy' | 'none', summary: string,
 *   vendorCan: string[], vendorCannot: string[], fixes: TeamsFix[],
 * }} GraphReport
 */

/**
 * Runs the Graph Enterprise Connect app test; each step is pushed on `onStep` as it finishes.
 * @param {TeamsTestRequest} request
 * @param {boolean} writeTest
 * @param {(step: TeamsStep) => void} onStep
 * @returns {Promise<GraphReport>}
 */
export function testGraphApp(request, writeTest, onStep) {
  return /** @type {Promise<GraphReport>} */ (call('test_graph_app', { request, writeTest, onStep: eventChannel(onStep) }));
}

/**
 * Saves the last Graph test report and resolves with the file's path.
 * @param {'json' | 'text'} format
 * @returns {Promise<string | null>} the saved file, or null when the Save dialog was cancelled
 */
export function exportGraphReport(format) {
  return /** @type {Promise<string | null>} */ (call('export_graph_report', { format }));
}

/** @typedef {{ schedule: string, busyBlocks: { start: string, end: string, status: string }[] | null, error: string | null }} ScheduleView */

/**
 * The Graph test's Free/Busy variant: getSchedule for up to 20 addresses with a connected Free/Busy account.
 * @param {string} accountId
 * @param {string[]} addresses
 * @returns {Promise<ScheduleView[]>}
 */
export function readSchedules(accountId, addresses) {
  return /** @type {Promise<ScheduleView[]>} */ (call('read_schedules', { accountId, addresses }));
}
