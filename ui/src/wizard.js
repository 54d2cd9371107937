// @ts-check
/**
 * The wizard's state machine, kept free of the DOM so it can be tested with `node --test`.
 */

/** @typedef {'welcome'} StepName */

/** The order of the wizard's steps. */
export const STEPS = /** @type {const} */ (['welcome']);

/**
 * The step to show first.
 * @returns {StepName}
 */
export function initialStep() {
  return 'welcome';
}
