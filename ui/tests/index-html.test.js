// index.html preloads exactly the modules of src/ that main.js reaches: a module added without its
// <link rel="modulepreload"> would load one import level later, a stale link would fetch nothing useful.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const src = new URL('../src/', import.meta.url).pathname;

/** @param {string} folder @returns {string[]} */
function modules(folder) {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return modules(path);
    return name.endsWith('.js') ? [relative(src, path)] : [];
  });
}

test('index.html preloads every module but main.js, and nothing else', () => {
  const html = readFileSync(join(src, 'index.html'), 'utf8');
  const preloaded = [...html.matchAll(/<link rel="modulepreload" href="\.\/([^"]+)"/g)].map((match) => match[1]).sort();
  const expected = modules(src).filter((path) => path !== 'main.js').sort();
  assert.deepEqual(preloaded, expected);
});
