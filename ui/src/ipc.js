// @ts-check
/**
 * The only module that talks to Tauri. Every command is a typed wrapper here, and every rejection is
 * normalised to `{ code, message, nextStep }` so steps never see a raw Rust error.
 */

/** @typedef {'Internal'} KnownErrorCode */
/** @typedef {{ code: string, message: string, nextStep: string | null }} IpcError */
/** @typedef {{ version: string, cloud: 'sandbox' | 'global', cloudLabel: string }} AppInfo */

/** Codes the Rust side may send; anything else is treated as Internal. */
const KNOWN_CODES = new Set(['Internal']);

/**
 * Turns whatever a command rejected with into an {@link IpcError}.
 * @param {unknown} raw
 * @returns {IpcError}
 */
export function normaliseError(raw) {
  if (raw && typeof raw === 'object' && 'message' in raw && typeof raw.message === 'string') {
    const code = 'code' in raw && typeof raw.code === 'string' && KNOWN_CODES.has(raw.code) ? raw.code : 'Internal';
    const nextStep = 'nextStep' in raw && typeof raw.nextStep === 'string' ? raw.nextStep : null;
    return { code, message: raw.message, nextStep };
  }
  return {
    code: 'Internal',
    message: typeof raw === 'string' && raw ? raw : 'Something went wrong inside calconnect.',
    nextStep: 'Try again; if it keeps happening, restart calconnect.',
  };
}

/**
 * @param {string} command
 * @param {Record<string, unknown>} [args]
 * @returns {Promise<unknown>}
 */
async function call(command, args) {
  const tauri = /** @type {any} */ (globalThis).__TAURI__;
  if (!tauri?.core?.invoke) {
    throw normaliseError({ code: 'Internal', message: 'This page is not running inside the calconnect app.' });
  }
  try {
    return await tauri.core.invoke(command, args);
  } catch (raw) {
    throw normaliseError(raw);
  }
}

/** @returns {Promise<AppInfo>} */
export function appInfo() {
  return /** @type {Promise<AppInfo>} */ (call('app_info'));
}
