/*
 * The kill-switch panel of the report page (served as /assets/kill-switch.js; plain browser code, no build step).
 * Reads GET /api/handlers/kill-switch ({ state: active|paused|partial, paused, total, canOperate }). Everyone who can
 * see the page sees when handlers are paused; only a caller whose role may operate (canOperate) gets the button, which
 * POSTs /api/handlers/pause-all or /api/handlers/resume-all (operator routes; the server checks the role again).
 * Paused handlers keep their runs queued: nothing is dropped. Built with textContent only (CSP: no inline code).
 */
import { $ } from './report-format.js';

const STATE_API = '/api/handlers/kill-switch';

/** Fetches the switch's state and renders the panel; a failure hides the panel (the report itself still loads). */
export async function loadKillSwitch() {
  let body;
  try {
    const response = await fetch(STATE_API, { headers: { accept: 'application/json' } });
    if (!response.ok) return hide();
    body = await response.json();
  } catch {
    return hide();
  }
  render(body);
}

function hide() {
  $('kill-switch').hidden = true;
}

function render(s) {
  const panel = $('kill-switch');
  const paused = Array.isArray(s.paused) ? s.paused : [];
  // Auditors see the panel only when something is paused; operators always (the button is theirs).
  if (!s.canOperate && paused.length === 0) return hide();
  panel.hidden = false;
  panel.dataset.state = s.state;
  const text =
    s.state === 'paused'
      ? 'Every handler is paused: new runs wait in the queue, nothing acts.'
      : s.state === 'partial'
        ? paused.length + ' of ' + s.total + ' handlers paused (' + paused.join(', ') + '): their runs wait in the queue.'
        : 'All ' + s.total + ' handlers are live.';
  $('kill-switch-text').textContent = text;
  const button = $('kill-switch-button');
  button.hidden = !s.canOperate;
  const pauseNext = s.state !== 'paused';
  button.textContent = pauseNext ? 'Pause every handler' : 'Resume every handler';
  button.className = pauseNext ? 'button button-danger' : 'button';
  button.onclick = () => press(pauseNext);
}

async function press(pause) {
  const question = pause
    ? 'Pause every handler? Runs wait in the queue until they are resumed.'
    : 'Resume every paused handler, also those paused after failures?';
  if (!window.confirm(question)) return;
  const button = $('kill-switch-button');
  button.disabled = true;
  try {
    const response = await fetch(pause ? '/api/handlers/pause-all' : '/api/handlers/resume-all', { method: 'POST', headers: { accept: 'application/json' } });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      $('kill-switch-text').textContent = 'Not done: ' + (body && body.message ? body.message : 'HTTP ' + response.status);
      return;
    }
  } catch (error) {
    $('kill-switch-text').textContent = 'Not done: deflect did not answer (' + error.message + ').';
    return;
  } finally {
    button.disabled = false;
  }
  await loadKillSwitch();
}
