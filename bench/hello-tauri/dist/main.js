// create-tauri-app's vanilla page, and the benchmark's signal: greet once at start, draw the answer, then
// tell Rust the first screen is interactive (calconnect's welcome step does the same with its first commands).
const { invoke } = window.__TAURI__.core;

async function greet(name) {
  document.querySelector('#greet-msg').textContent = await invoke('greet', { name });
}

window.addEventListener('DOMContentLoaded', () => {
  document.querySelector('#greet-form').addEventListener('submit', (event) => {
    event.preventDefault();
    greet(document.querySelector('#greet-input').value);
  });
  greet('World').finally(() => {
    requestAnimationFrame(() => setTimeout(() => invoke('ui_ready').catch(() => {}), 0));
  });
});
