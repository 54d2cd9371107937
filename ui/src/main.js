// @ts-check
/** Boots the wizard: shows the first step and swaps steps as the person moves through it. */
import { initialStep } from './wizard.js';
import * as welcome from './steps/welcome.js';

const stepModules = { welcome };

/** @type {(() => void) | null} */
let cleanupCurrentStep = null;

/**
 * @param {import('./wizard.js').StepName} name
 */
function show(name) {
  const root = /** @type {HTMLElement} */ (document.getElementById('step'));
  cleanupCurrentStep?.();
  root.dataset.step = name;
  cleanupCurrentStep = stepModules[name].render(root);
}

show(initialStep());
