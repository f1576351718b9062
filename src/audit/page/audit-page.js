/*
 * The /audit page (served as /assets/audit-page.js; plain browser code, no build step). The page is a static shell:
 * this script reads the filters from the URL query (since, from, to, outcome, handler, rule, ticket, reporter,
 * tracker, q, cursor: the same parameters as GET /api/runs), fetches GET /api/runs with them and renders the runs
 * newest first, with "Older" / "Newer" links that carry the page cursors, so every view can be shared by its link.
 * Opening a run fetches GET /api/runs/:id and lays its trace out as a timeline (audit-trace.js). The audit chain
 * panel reads GET /api/audit/chain and says "unavailable" when this deflect does not serve it (404). `?run=<id>` (with
 * `ticket=` or other filters that list it) opens that run's trace on load, so a trace can be shared by its link.
 * Every node is built with createElement + textContent (report-format.js `el`): ticket text is data, never markup.
 */
import { $, el, number, timeFmt, TRACKER_TITLES } from './report-format.js';
import { renderTrace, safeHref } from './audit-trace.js';

const FILTERS = ['since', 'from', 'to', 'outcome', 'handler', 'rule', 'ticket', 'reporter', 'tracker', 'q'];
const PAGE_SIZE = '50';

const params = new URLSearchParams(location.search);
let viewer = { canOperate: false };

/** The filters of the URL query that are set (cursor and paging left out). */
function activeFilters() {
  const active = new URLSearchParams();
  for (const name of FILTERS) {
    const value = params.get(name);
    if (value) active.set(name, value);
  }
  if (active.get('since') === 'all') active.delete('since');
  return active;
}

/** Fills the filter bar from the URL query. */
function fillForm() {
  for (const name of FILTERS) {
    const field = $('f-' + name);
    const value = params.get(name);
    if (!field || value === null) continue;
    if (field.tagName === 'SELECT' && ![...field.options].some((o) => o.value === value)) field.append(el('option', null, value));
    field.value = value;
  }
  if ((params.get('from') || params.get('to')) && !params.get('since')) {
    $('f-since-custom').hidden = false;
    $('f-since').value = '';
  }
}

/** Submitting the filter bar drops empty fields and the cursor (a new filter starts at the newest runs). */
function wireForm() {
  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      const value = ($('f-' + name).value || '').trim();
      if (value) next.set(name, value);
    }
    if (next.get('from') || next.get('to')) next.delete('since');
    if (next.get('since') === 'all') next.delete('since');
    location.assign('/audit' + (next.size ? '?' + next : ''));
  });
}

/** A link to this page with the current filters and `cursor`. */
function pageHref(cursor) {
  const next = activeFilters();
  if (cursor) next.set('cursor', cursor);
  return '/audit' + (next.size ? '?' + next : '');
}

const statusClass = (status) =>
  ({ succeeded: 'ok', failed: 'bad', dead: 'bad', denied: 'bad', expired: 'warn', 'awaiting-approval': 'warn', shadow: 'info', planned: 'info', skipped: 'muted', queued: 'muted', running: 'info' })[status] ?? 'muted';

/** The outcome badge of a run, with what qualifies it (shadow run, not applied, replay, manual retries). */
export function outcomeCell(run) {
  const cell = el('td', 'outcome', el('span', 'badge badge-' + statusClass(run.status), run.status));
  const notes = [];
  if (run.shadow && run.status !== 'shadow') notes.push('shadow run');
  if (run.dryRun && !run.shadow) notes.push('dry run');
  if (run.status === 'succeeded' && !run.applied) notes.push('not applied');
  if (run.replayOf !== null) notes.push('replay of delivery #' + run.replayOf);
  if (run.manualRetries > 0) notes.push('retried ×' + run.manualRetries);
  if (run.attempts > 1) notes.push(run.attempts + ' attempts');
  for (const note of notes) cell.append(el('span', 'sub', note));
  return cell;
}

function ticketCell(run) {
  const href = safeHref(run.ticketUrl);
  const key = href ? el('a', 'ticket-key', run.ticketKey) : el('span', 'ticket-key', run.ticketKey);
  if (href) Object.assign(key, { href, target: '_blank', rel: 'noopener noreferrer' });
  return el('td', null, key, el('span', 'sub', TRACKER_TITLES[run.tracker] ?? run.tracker));
}

/** The run's summary, else its error; a queued or running run's error is its previous attempt's, and says so. */
function summaryCell(run) {
  if (run.summary || !run.error) return el('td', 'summary', run.summary ?? '');
  const waiting = run.status === 'queued' || run.status === 'running';
  return el('td', 'summary error-text', (waiting ? 'previous attempt: ' : '') + run.error);
}

const ruleOf = (reason) => /\(rule (\S+) #\d+/.exec(reason)?.[1] ?? null;

/** One run's row, and the (hidden) row its trace opens into. */
function runRows(run) {
  const toggle = el('button', 'button button-quiet trace-toggle', 'Trace');
  toggle.type = 'button';
  toggle.setAttribute('aria-expanded', 'false');
  toggle.setAttribute('aria-label', 'Trace of run #' + run.id);
  const row = el(
    'tr',
    'run-row',
    el('td', 'nowrap', timeFmt.format(new Date(run.createdAt)), el('span', 'sub', 'run #' + run.id)),
    ticketCell(run),
    el('td', null, run.handler, el('span', 'sub', ruleOf(run.reason) ?? '')),
    outcomeCell(run),
    summaryCell(run),
    el('td', 'num', number(run.actions.length)),
    el('td', null, toggle),
  );
  row.dataset.run = String(run.id);
  const cell = el('td', 'trace-cell');
  cell.colSpan = 7;
  const detail = el('tr', 'trace-row', cell);
  detail.hidden = true;
  toggle.addEventListener('click', () => void toggleTrace(run, toggle, detail, cell));
  return [row, detail];
}

async function toggleTrace(run, toggle, detail, cell) {
  const open = toggle.getAttribute('aria-expanded') !== 'true';
  toggle.setAttribute('aria-expanded', String(open));
  toggle.textContent = open ? 'Close' : 'Trace';
  detail.hidden = !open;
  if (!open || cell.dataset.loaded) return;
  cell.replaceChildren(el('p', 'muted', 'Loading the trace…'));
  try {
    const response = await fetch('/api/runs/' + run.id, { headers: { accept: 'application/json' } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || 'HTTP ' + response.status);
    cell.replaceChildren(renderTrace(body, viewer));
    cell.dataset.loaded = 'yes';
  } catch (error) {
    cell.replaceChildren(el('p', 'error-text', 'The trace could not be loaded: ' + error.message));
  }
}

function showError(message) {
  $('error').hidden = false;
  $('error-message').textContent = message;
  $('list-line').textContent = '';
}

function render(body) {
  viewer = body.viewer ?? viewer;
  const filtered = activeFilters().size > 0;
  const runs = body.runs ?? [];
  const paused = body.pausedHandlers ?? [];
  const line = [];
  if (paused.length) line.push('Paused: ' + paused.map((p) => p.handler).join(', ') + ' (their runs wait in the queue).');
  if (!runs.length) {
    $('list-line').textContent = line.join(' ');
    $('empty').hidden = false;
    if (filtered || params.get('cursor')) {
      $('empty-heading').textContent = params.get('cursor') ? 'No runs on this page' : 'No run matches these filters';
      $('empty-text').textContent = 'Widen the window or clear a filter. Runs are listed newest first; the filters are in the link, so this view can be shared.';
      $('empty-reset').hidden = false;
    }
    return;
  }
  line.unshift(
    number(runs.length) + (runs.length === 1 ? ' run' : ' runs') + (params.get('cursor') ? ' on this page' : body.page?.older ? ', the newest' : '') + (filtered ? ' matching the filters' : '') + '.',
  );
  $('list-line').textContent = line.join(' ');
  $('runs').hidden = false;
  $('runs-body').replaceChildren(...runs.flatMap(runRows));
  const pager = [
    ['page-older', body.page?.older],
    ['page-newer', body.page?.newer],
  ];
  for (const [id, cursor] of pager) {
    $(id).hidden = !cursor;
    if (cursor) $(id).href = pageHref(cursor);
  }
  $('page-first').hidden = !params.get('cursor');
  $('page-first').href = pageHref(null);
  const opened = params.get('run');
  if (opened) document.querySelector('tr.run-row[data-run="' + CSS.escape(opened) + '"] .trace-toggle')?.click();
}

const FLAGS = { since: '--since', from: '--from', to: '--to', outcome: '--outcome', handler: '--handler', rule: '--rule', ticket: '--ticket', reporter: '--reporter', tracker: '--tracker', q: '--search' };
/** A shell word: bare when safe, else single-quoted. */
const shellWord = (value) => (/^[\w@%+=:,./#-]+$/.test(value) ? value : "'" + value.replace(/'/g, "'\\''") + "'");

/** The `deflect audit` command that exports the view on screen (every matching run, not only this page). */
function exportCommand() {
  const words = ['deflect', 'audit'];
  for (const [name, value] of activeFilters()) words.push(FLAGS[name], shellWord(value));
  return words.concat('--format', 'csv').join(' ');
}

async function loadRuns() {
  $('cli-export').textContent = exportCommand();
  const query = activeFilters();
  if (params.get('cursor')) query.set('cursor', params.get('cursor'));
  query.set('limit', PAGE_SIZE);
  $('api-link').href = '/api/runs?' + query;
  $('api-link').textContent = '/api/runs?' + query;
  try {
    const response = await fetch('/api/runs?' + query, { headers: { accept: 'application/json' } });
    const body = await response.json();
    if (!response.ok) return showError(body.message || 'HTTP ' + response.status);
    render(body);
  } catch (error) {
    showError(error.message);
  } finally {
    document.documentElement.dataset.state = 'ready';
    $('main').setAttribute('aria-busy', 'false');
  }
}

/** The audit chain's state (GET /api/audit/chain); "unavailable" when this deflect does not check the chain. */
async function loadChain() {
  const panel = $('chain');
  const text = $('chain-text');
  let body = null;
  try {
    const response = await fetch('/api/audit/chain', { headers: { accept: 'application/json' } });
    if (response.ok) body = await response.json();
  } catch {
    body = null;
  }
  if (!body || !['intact', 'broken', 'empty'].includes(body.state)) {
    panel.dataset.state = 'unavailable';
    text.textContent = 'Chain state unavailable: this deflect does not report whether the audit records were changed.';
    return;
  }
  panel.dataset.state = body.state;
  const checked = body.checkedAt ? ' Checked ' + timeFmt.format(new Date(body.checkedAt)) + ' UTC.' : '';
  if (body.state === 'intact') text.textContent = 'Intact: ' + number(body.checkedRows) + ' records verified, none changed, removed or inserted out of order.' + checked;
  else if (body.state === 'empty') text.textContent = 'Nothing recorded yet.' + checked;
  else {
    const bad = body.firstBad;
    text.textContent =
      'BROKEN: the audit records were changed after they were written' +
      (bad ? ' — first bad row: ' + bad.table + ' #' + bad.id + ' (' + bad.problem + ')' : '') +
      '. Run deflect audit verify on the host.' +
      checked;
  }
}

/** Handler names for the handler field's suggestions (GET /api/handlers); the field works without them. */
async function loadHandlers() {
  try {
    const response = await fetch('/api/handlers', { headers: { accept: 'application/json' } });
    if (!response.ok) return;
    const body = await response.json();
    $('f-handlers').replaceChildren(...(body.handlers ?? []).map((h) => Object.assign(el('option'), { value: h.name })));
  } catch {
    // Suggestions only.
  }
}

fillForm();
wireForm();
void loadChain();
void loadHandlers();
void loadRuns();
