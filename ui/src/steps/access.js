// @ts-check
/**
 * Step 2: choose Full or Free/Busy, with each scope, why it is needed, and what calconnect will and will not see.
 */
import { h, replaceChildren } from '../dom.js';
import { accessOptions } from '../ipc.js';
import { errorCard } from '../error-card.js';

/**
 * @param {HTMLElement} root
 * @param {import('../wizard.js').StepContext} ctx
 * @returns {() => void} cleanup
 */
export function render(root, ctx) {
  let chosen = ctx.state.access ?? 'full';
  const options = h('div', { class: 'access-options', 'aria-busy': 'true' }, h('div', { class: 'card skeleton tall' }));
  const form = h(
    'form',
    {
      onsubmit: (/** @type {Event} */ event) => {
        event.preventDefault();
        ctx.dispatch({ type: 'chooseAccess', access: chosen });
      },
    },
    h('fieldset', { class: 'plain' }, h('legend', { class: 'sr-only' }, 'Access calconnect asks for'), options),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', onclick: () => ctx.dispatch({ type: 'back' }) }, 'Back'),
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'access-continue' }, 'Continue'),
    ),
  );
  replaceChildren(
    root,
    h('h1', {}, 'Choose what calconnect may see'),
    h('p', { class: 'lead' }, 'Microsoft will ask you to approve exactly these permissions. You can disconnect at any time.'),
    form,
  );

  let active = true;
  accessOptions()
    .then((list) => {
      if (!active) return;
      options.setAttribute('aria-busy', 'false');
      replaceChildren(
        options,
        ...list.map((option) => {
          const id = `access-${option.access}`;
          const radio = h('input', {
            type: 'radio',
            name: 'access',
            id,
            value: option.access,
            'data-testid': id,
            checked: option.access === chosen,
            onchange: () => {
              chosen = option.access;
            },
          });
          return h(
            'div',
            { class: 'card access-option' },
            h('div', { class: 'option-head' }, radio, h('label', { for: id }, h('strong', {}, option.title), h('span', { class: 'muted' }, ` — ${option.summary}`))),
            h(
              'dl',
              { class: 'scopes', 'aria-label': `Permissions of ${option.title}` },
              option.scopes.map((scope) => [h('dt', {}, h('code', {}, scope.scope)), h('dd', {}, scope.why)]).flat(),
            ),
            h(
              'div',
              { class: 'see-grid' },
              h('div', {}, h('h3', {}, 'calconnect will see'), h('ul', { class: 'facts yes' }, option.canSee.map((item) => h('li', {}, item)))),
              h('div', {}, h('h3', {}, 'calconnect will not see'), h('ul', { class: 'facts no' }, option.cannotSee.map((item) => h('li', {}, item)))),
            ),
          );
        }),
      );
    })
    .catch((/** @type {import('../ipc.js').IpcError} */ error) => {
      if (active) replaceChildren(options, errorCard(error));
    });

  return () => {
    active = false;
  };
}
