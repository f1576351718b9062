/*
 * The impact page (served as /assets/impact-page.js, an ES module; plain browser code, no build step).
 * Reads the query string (since | from+to, project, tracker, type), fetches GET /api/reports/impact with it and renders
 * the ImpactReport JSON (src/reports/impact-types.ts): per request type with automated runs, before vs after its
 * automation's start, and the charts in impact-charts.js. Everything is built with textContent (type names and labels
 * come from tickets: data, never markup). <html data-state> is loading|ready|empty|error.
 */
import { destroyImpactCharts, ttrText, renderAdoptionChart, renderHoursChart, renderRepeatChart, renderShareChart, renderTtrChart, renderWeeklyChart } from './impact-charts.js';
import { $, day, el, hours, number, pct, trackerNames, windowPhrase, windowQuery } from './report-format.js';

const API = '/api/reports/impact';
const DEFAULT_SINCE = '90d';
const PARAMS = ['since', 'from', 'to', 'project', 'tracker', 'type'];
const form = $('filters');
let loadSeq = 0;

/** The API query for raw parameters: dates win over `since`; blanks and unknown names are dropped. */
function normaliseQuery(raw) {
  const get = (name) => (raw.get(name) || '').trim();
  const q = windowQuery(raw, DEFAULT_SINCE);
  for (const name of PARAMS.slice(3)) if (get(name)) q.set(name, get(name));
  return q;
}

function fillForm(q) {
  const since = $('f-since');
  const dates = q.has('from') || q.has('to');
  const value = dates ? '' : q.get('since');
  if (!dates && ![...since.options].some((o) => o.value === value)) since.add(new Option(value, value), $('f-since-custom'));
  $('f-since-custom').hidden = !dates;
  since.value = value;
  $('f-from').value = q.get('from') || '';
  $('f-to').value = q.get('to') || '';
  $('f-project').value = q.get('project') || '';
  const tracker = $('f-tracker');
  const trackerValue = q.get('tracker') || '';
  if (![...tracker.options].some((o) => o.value === trackerValue)) tracker.add(new Option(trackerValue, trackerValue));
  tracker.value = trackerValue;
}

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
  $('api-link').href = API + '?' + q;
  $('api-link').textContent = API + '?' + q;
  $('top-tickets-link').href = '/reports/top-tickets?' + new URLSearchParams([...q].filter(([k]) => k !== 'type'));
  let response;
  let body = null;
  try {
    response = await fetch(API + '?' + q, { headers: { accept: 'application/json' } });
    try {
      body = JSON.parse(await response.text());
    } catch {
      body = null;
    }
  } catch (error) {
    if (seq === loadSeq) showError('deflect did not answer (' + error.message + ').');
    return;
  }
  if (seq !== loadSeq) return;
  if (!response.ok) showError(body && body.message ? body.message : 'HTTP ' + response.status + ' ' + response.statusText);
  else if (!body || !Array.isArray(body.types)) showError('The API answered something that is not an impact report.');
  else render(body);
}

function showError(message) {
  destroyImpactCharts();
  $('window-line').textContent = '';
  $('notice').hidden = true;
  $('error-message').textContent = message;
  setState('error');
}

/** `3.0 → 1.0`: a before → after pair with a unit formatter. */
const pair = (before, after, format) => format(before) + ' → ' + format(after);
const perWeek = (v) => (v == null ? '–' : number(v) + '/wk');
/** `3 of 4 reporters`, `1 of 1 team`. */
const ofTotal = (n, total, noun) => n + ' of ' + total + ' ' + noun + (total === 1 ? '' : 's');
/** Hours to one decimal (totals add up exactly to the per-type figures). */
const exactHours = (h) => number(h) + ' h';

function figure(label, value, note) {
  return el('div', 'impact-figure', el('dt', null, label), el('dd', null, value, note ? el('span', 'stat-note', note) : null));
}

function chartBox(title, className, label) {
  const canvas = el('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  return { canvas, node: el('div', null, el('h4', null, title), el('div', 'chart-box ' + className, canvas)) };
}

function typePanel(t, i) {
  const last = t.adoption[t.adoption.length - 1];
  const basis = t.hoursReturnedBasis === 'estimate' ? el('span', 'stat-note basis-estimate', 'fixed estimate: no resolved history before') : el('span', 'stat-note', t.automated + ' × ' + hours(t.hoursPerTicket) + ' median before');
  const figures = el('dl', 'impact-figures',
    figure('Tickets per week', pair(t.before.ticketsPerWeek, t.after.ticketsPerWeek, perWeek),
      t.before.tickets + ' in ' + number(t.before.weeks) + ' wk → ' + t.after.tickets + ' in ' + (t.after.shorterThanAWeek ? 'under a week so far (counted as 1 wk)' : number(t.after.weeks) + ' wk')),
    figure('Time to resolution p50', pair(t.before.ttrP50Hours, t.after.ttrP50Hours, ttrText),
      'p90 ' + pair(t.before.ttrP90Hours, t.after.ttrP90Hours, ttrText) + (t.waitingAtStart ? ' · ' + t.waitingAtStart + ' waiting at the start left out' : '')),
    figure('Resolved by deflect', pct(t.shareResolvedByDeflect), t.resolvedByDeflect + ' of ' + t.after.tickets + ' since the start'),
    el('div', 'impact-figure', el('dt', null, 'Hours returned'), el('dd', null, exactHours(t.hoursReturned), basis)),
    figure('Adoption', last ? ofTotal(last.cumulativeReporters, t.reportersAfter, 'reporter') : '–', last ? ofTotal(last.cumulativeTeams, t.teamsAfter, 'team') : null),
  );
  const weekly = chartBox('Tickets per week', 'chart-box-line', 'Bar chart of ' + t.name + ' tickets per week with the automation start marked');
  const ttr = chartBox('Time to resolution', 'chart-box-line', 'Bar chart of time to resolution before and after automation');
  const adoption = chartBox('Adoption per week', 'chart-box-line', 'Chart of reporters and teams using the automation per week');
  weekly.canvas.id = 'chart-weekly-' + i;
  ttr.canvas.id = 'chart-ttr-' + i;
  adoption.canvas.id = 'chart-adoption-' + i;
  const meta = (t.kind === 'type' ? 'Request type' : 'Label') + (t.label && t.kind === 'type' ? ' (label ' + t.label + ')' : '') +
    ' · automated by ' + (t.handler || '–') + ' since ' + day(t.automationStart) + ' · ' + t.id;
  const section = el('section', 'panel impact-type',
    el('div', 'panel-head', el('h3', null, t.name), el('p', 'impact-meta', meta)),
    figures,
    el('div', 'impact-charts', weekly.node, ttr.node, adoption.node));
  section.dataset.typeId = t.id;
  return { section, draw: () => [renderWeeklyChart(weekly.canvas, t), renderTtrChart(ttr.canvas, t), renderAdoptionChart(adoption.canvas, t)] };
}

function render(report) {
  destroyImpactCharts();
  const trackers = Array.isArray(report.trackers) && report.trackers.length ? report.trackers : null;
  $('window-line').textContent = windowPhrase(report) + (report.project ? ' · project ' + report.project : ' · all projects') + (trackers ? ' · ' + trackerNames(trackers) + ' only' : ' · all trackers') + (report.typeFilter ? ' · ' + report.typeFilter : '');
  $('notice').hidden = !report.groupingNotice;
  $('notice').textContent = report.groupingNotice || '';
  if (!report.types.length) {
    $('empty-hint').textContent = report.emptyHint || 'no automated runs yet.';
    $('empty-all-time').hidden = !report.window.from;
    setState('empty');
    return;
  }
  setState('ready');
  const types = report.types;
  $('stat-types').textContent = number(types.length);
  $('stat-types-note').textContent = report.withoutAutomation.count ? report.withoutAutomation.count + ' more without automation yet' : 'every repeated request type';
  $('stat-automated').textContent = number(report.totals.automated);
  $('stat-automated-note').textContent = number(report.totals.resolvedByDeflect) + ' resolved by deflect';
  $('stat-hours').textContent = exactHours(report.totals.hoursReturned);
  $('stat-hours-note').textContent = types.some((t) => t.hoursReturnedBasis === 'estimate') ? 'some from the fixed estimate (no history)' : 'from the median human time to resolution';
  const weeks = report.repeatShare.filter((w) => w.share != null);
  const lastWeek = weeks[weeks.length - 1];
  $('stat-repeat').textContent = lastWeek ? pct(lastWeek.share) : '–';
  $('stat-repeat-note').textContent = lastWeek ? 'week of ' + day(lastWeek.week) + ' (' + lastWeek.repeated + ' of ' + lastWeek.resolvedByPeople + ')' : 'no resolutions by people';
  const panels = types.map(typePanel);
  $('types').replaceChildren(...panels.map((p) => p.section));
  renderHoursChart(types);
  renderShareChart(types);
  for (const p of panels) p.draw();
  renderRepeatChart(report.repeatShare);
  const without = report.withoutAutomation;
  $('without-line').textContent = without.count
    ? without.count + ' request types or labels have no automated run yet (' + without.examples.slice(0, 5).map((e) => e.name + ' ×' + e.tickets).join(', ') + (without.count > 5 ? ', …' : '') + ').'
    : '';
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const q = normaliseQuery(new FormData(form));
  history.pushState(null, '', '/reports/impact?' + q);
  load(q);
});
window.addEventListener('popstate', () => {
  const q = normaliseQuery(new URLSearchParams(location.search));
  fillForm(q);
  load(q);
});
const initial = normaliseQuery(new URLSearchParams(location.search));
fillForm(initial);
// Chart.js is a classic deferred script, run before this module.
if (typeof Chart === 'undefined') showError('The chart library did not load (/assets/chart.umd.js).');
else load(initial);
