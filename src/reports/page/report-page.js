/*
 * The top-tickets report page (served as /assets/report-page.js, an ES module; plain browser code, no build step).
 * Reads the query string (since | from+to, project, tracker, top), fetches GET /api/reports/top-tickets with it and renders
 * the report JSON (src/reports/report-types.ts): request types with their variants, and label groups. Filters
 * rewrite the URL so a view can be shared. Everything is built with textContent (ticket text is data) and styled
 * through classes or the CSSOM, as the page's Content-Security-Policy forbids inline style and script.
 * <html data-state> is loading|ready|empty|error. Charts: report-charts.js; table: report-table.js.
 */
import { destroyCharts, renderGroupsChart, renderRatioChart, renderSeriesChart } from './report-charts.js';
import { $, cssVar, dateFmt, hours, normaliseGroup, number, pct, periodTitle, rank, timeFmt, trackerNames, trackerPhrase, windowPhrase, windowQuery } from './report-format.js';
import { focusRow, renderTable } from './report-table.js';
import { loadKillSwitch } from './kill-switch.js';

const API = '/api/reports/top-tickets';
const PAGE = '/reports/top-tickets';
const DEFAULT_SINCE = '90d';
const DEFAULT_TOP = '10';
const TREND_GROUPS = 5;

const form = $('filters');
const knownProjects = new Set();
let loadSeq = 0;

// ---- query string --------------------------------------------------------------------------------------------

/** The API query for a set of raw parameters: dates win over `since`; blanks and unknown names are dropped. */
function normaliseQuery(raw) {
  const get = (name) => (raw.get(name) || '').trim();
  const q = windowQuery(raw, DEFAULT_SINCE);
  // Jira project and Linear team keys are upper case; a GitHub repository (`owner/name`) keeps its case.
  if (get('project')) q.set('project', /^[a-z][a-z0-9_]*$/i.test(get('project')) ? get('project').toUpperCase() : get('project'));
  // `tracker` may repeat or be a comma list; the API checks the names and says which are valid.
  const trackers = [...new Set(raw.getAll('tracker').join(',').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean))];
  if (trackers.length) q.set('tracker', trackers.join(','));
  if (get('top') && get('top') !== DEFAULT_TOP) q.set('top', get('top'));
  return q;
}

function fillForm(q) {
  const since = $('f-since');
  const custom = $('f-since-custom');
  const dates = q.has('from') || q.has('to');
  const value = dates ? '' : q.get('since');
  if (!dates && ![...since.options].some((o) => o.value === value)) since.add(new Option(value, value), custom);
  custom.hidden = !dates;
  since.value = value;
  $('f-from').value = q.get('from') || '';
  $('f-to').value = q.get('to') || '';
  $('f-project').value = q.get('project') || '';
  const tracker = $('f-tracker');
  const trackerValue = q.get('tracker') || '';
  if (![...tracker.options].some((o) => o.value === trackerValue)) tracker.add(new Option(trackerNames(trackerValue.split(',')), trackerValue));
  tracker.value = trackerValue;
  const top = $('f-top');
  const topValue = q.get('top') || DEFAULT_TOP;
  if (![...top.options].some((o) => o.value === topValue)) top.add(new Option('Top ' + topValue, topValue));
  top.value = topValue;
}

function navigate(q, how) {
  const url = PAGE + (q.toString() ? '?' + q : '');
  if (how === 'push' && url !== location.pathname + location.search) history.pushState(null, '', url);
  else if (how === 'replace') history.replaceState(null, '', url);
  fillForm(q);
  return load(q);
}

// ---- loading and states --------------------------------------------------------------------------------------

function setState(state) {
  document.documentElement.dataset.state = state;
  $('main').setAttribute('aria-busy', String(state === 'loading'));
  $('report').hidden = state !== 'ready';
  $('empty').hidden = state !== 'empty';
  $('error').hidden = state !== 'error';
}

async function load(q) {
  const seq = ++loadSeq;
  setState('loading');
  $('window-line').textContent = 'Loading the report…';
  $('api-link').href = API + '?' + q;
  $('api-link').textContent = API + '?' + q;
  let response;
  let body = null;
  try {
    response = await fetch(API + '?' + q, { headers: { accept: 'application/json' } });
    const text = await response.text();
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  } catch (error) {
    if (seq === loadSeq) showError('deflect did not answer (' + error.message + ').');
    return;
  }
  if (seq !== loadSeq) return; // a newer filter change is loading
  if (!response.ok) showError(body && body.message ? body.message : 'HTTP ' + response.status + ' ' + response.statusText);
  else if (!body || !Array.isArray(body.groups)) showError('The API answered something that is not a report.');
  else render(body);
}

function showError(message) {
  destroyCharts();
  $('window-line').textContent = '';
  $('notice').hidden = true;
  $('error-message').textContent = message;
  setState('error');
}

// ---- rendering -----------------------------------------------------------------------------------------------

function render(report) {
  destroyCharts();
  const groups = report.groups.map(normaliseGroup);
  const { steady, bursts } = rank(groups);
  const ranked = steady.concat(bursts);
  // `PLAT-12` → PLAT, `ENG-12` → ENG, `acme/api#12` → acme/api.
  for (const g of groups) for (const key of g.keys) knownProjects.add(key.replace(/(-|#)\d+$/, ''));
  if (report.project) knownProjects.add(report.project);
  $('f-projects').replaceChildren(...[...knownProjects].sort().map((p) => new Option(p)));

  const trackers = Array.isArray(report.trackers) && report.trackers.length ? report.trackers : null;
  const scope = windowPhrase(report) + (report.project ? ' · project ' + report.project : ' · all projects') + (trackers ? ' · ' + trackerNames(trackers) + ' only' : ' · all trackers');
  $('window-line').textContent = scope;
  const notice = report.grouping && report.grouping.notice;
  $('notice').hidden = !notice;
  $('notice').textContent = notice || '';
  renderFooter(report);

  if (!report.totalTickets) {
    renderEmpty(report, scope);
    setState('empty');
    return;
  }
  setState('ready'); // charts measure their boxes, so show the report before drawing
  const granularity = report.granularity === 'month' ? 'month' : 'week';
  const trend = ranked.slice(0, TREND_GROUPS);
  const palette = [1, 2, 3, 4, 5, 6].map((i) => cssVar('--series-' + i));
  const colours = new Map(trend.map((g, i) => [g.id, palette[i % palette.length]]));
  $('series-heading').textContent = granularity === 'month' ? 'Tickets per month, top rows' : 'Tickets per week, top rows';
  $('series-hint').textContent = granularity === 'month'
    ? 'Tickets created per calendar month (UTC): the window is longer than about 6 months.'
    : 'Tickets created per week (weeks start Monday, UTC).';
  $('ratio-hint').textContent = 'Share of each ' + granularity + "'s tickets in a repeated request type or label. It should fall as automation lands; no line where a " + granularity + ' had no tickets.';
  renderSummary(report, ranked, granularity);
  renderGroupsChart(steady, bursts, focusRow);
  renderSeriesChart(trend, colours, granularity);
  renderRatioChart(Array.isArray(report.repeatRatio) ? report.repeatRatio : [], granularity);
  renderTable(steady, bursts, report.jiraBaseUrl || null, colours, Object.keys(report.ticketsByTracker || {}).length > 1);
}

/** The empty window: say so, and when older tickets exist, offer all time with the date of the newest one. */
function renderEmpty(report, scope) {
  $('empty-scope').textContent = scope;
  const newest = report.newestTicket;
  const hint = $('empty-newest');
  hint.hidden = !newest || !report.window || !report.window.from;
  if (hint.hidden) return;
  $('empty-newest-date').textContent = dateFmt.format(new Date(newest));
  const q = new URLSearchParams({ since: 'all' });
  if (report.project) q.set('project', report.project);
  if (Array.isArray(report.trackers) && report.trackers.length) q.set('tracker', report.trackers.join(','));
  const link = $('empty-all-time');
  link.href = PAGE + '?' + q;
}

function renderSummary(report, groups, granularity) {
  const total = report.totalTickets;
  const spent = groups.reduce((s, g) => s + (g.hoursSpent || 0), 0);
  const saved = groups.reduce((s, g) => s + (g.hoursSaved || 0), 0);
  const periods = (report.repeatRatio || []).filter((p) => p.tickets > 0);
  const now = periods[periods.length - 1];
  const repeated = (report.repeatRatio || []).reduce((s, p) => s + (p.repeated || 0), 0);
  $('stat-total').textContent = number(total);
  $('stat-total-note').textContent = 'created in the window';
  $('stat-ratio').textContent = now ? pct(now.ratio) : '–';
  $('stat-ratio-note').textContent = now
    ? periodTitle(now.period, granularity).replace(/^Week/, 'week') + ': ' + now.repeated + ' of ' + now.tickets + (periods.length > 1 ? ' (first ' + granularity + ' ' + pct(periods[0].ratio) + ')' : '')
    : 'no ' + granularity + 'ly data';
  $('stat-spent').textContent = hours(spent);
  $('stat-spent-note').textContent = 'manual work in the rows shown';
  $('stat-saved').textContent = hours(saved);
  $('stat-saved-note').textContent = spent ? pct(saved / spent) + ' of it automated' : 'nothing automated yet';
  const top = groups[0];
  const byTracker = Object.keys(report.ticketsByTracker || {}).length > 1 ? ' (' + trackerPhrase(report.ticketsByTracker) + ')' : '';
  const head = number(total) + ' ticket' + (total === 1 ? '' : 's') + ' created' + (report.project ? ' in ' + report.project : '') + byTracker + '.';
  // The summary never contradicts the ratio: "nothing repeated" only when no ticket of the window repeats.
  $('summary-line').textContent = head + (top
    ? ' The top ' + (top.kind === 'type' ? 'request type' : 'label') + ', “' + top.name + '”, holds ' + number(top.count) + ' of them (' + pct(top.count / total) + ').'
    : repeated > 0
      ? ' ' + number(repeated) + ' of them repeat, in rows not shown here.'
      : ' None of them repeats yet: no request type or label has two tickets or more.');
}

function renderFooter(report) {
  const g = report.grouping;
  const parts = [];
  if (g) {
    parts.push(g.algorithm
      ? 'Request types: ' + g.algorithm + (g.algorithm !== g.currentAlgorithm ? ' (current: ' + g.currentAlgorithm + ')' : '') +
          (g.computedAt ? ', computed ' + timeFmt.format(new Date(g.computedAt)) + ' UTC' : '') +
          (g.ticketsSinceGrouping ? ', ' + number(g.ticketsSinceGrouping) + ' tickets since' : '') + '.'
      : 'No stored text grouping (current algorithm ' + g.currentAlgorithm + '): label groups only.');
  }
  if (report.generatedAt) parts.push('Generated ' + timeFmt.format(new Date(report.generatedAt)) + ' UTC.');
  $('grouping-line').textContent = parts.join(' ');
}

// ---- wiring --------------------------------------------------------------------------------------------------

form.addEventListener('submit', (event) => {
  event.preventDefault();
  navigate(normaliseQuery(new FormData(form)), 'push');
});
$('f-since').addEventListener('change', () => {
  $('f-from').value = '';
  $('f-to').value = '';
  form.requestSubmit();
});
for (const id of ['f-from', 'f-to']) {
  $(id).addEventListener('change', () => {
    $('f-since-custom').hidden = false;
    $('f-since').value = '';
    if ($('f-from').value || $('f-to').value) form.requestSubmit();
  });
}
$('f-top').addEventListener('change', () => form.requestSubmit());
$('f-tracker').addEventListener('change', () => form.requestSubmit());
window.addEventListener('popstate', () => navigate(normaliseQuery(new URLSearchParams(location.search)), 'none'));

if (typeof Chart === 'undefined') {
  showError('The chart library did not load (/assets/chart.umd.js).');
} else {
  navigate(normaliseQuery(new URLSearchParams(location.search)), 'replace');
}
// The kill-switch panel loads on its own: a failure there never blocks the report.
void loadKillSwitch();
