/*
 * The impact page's charts (served as /assets/impact-charts.js), drawn with Chart.js (the global `Chart`):
 * per request type, tickets per week with the automation's start marked (a dashed line, bars before it grey, after it
 * in the automated colour), time to resolution p50/p90 before vs after, and adoption per week (reporters and teams
 * whose request deflect carried out, with running totals); across types, hours returned and the share resolved by
 * deflect; and the repeat share of the tickets people resolved per week (a week without resolutions is a gap).
 * Every label is set as chart data (canvas text), never as markup.
 */
import { $, cssVar, duration, el, hours, pct, periodLabel, periodTitle, short } from './report-format.js';

const charts = [];

/** A time to resolution (hours, rounded by the API to 0.1 h): `< 3 min` for 0, else minutes, hours or days. */
export const ttrText = (h) => (h === 0 ? '< 3 min' : duration(h));

export function destroyImpactCharts() {
  while (charts.length) charts.pop().destroy();
}

function options() {
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = cssVar('--muted');
  Chart.defaults.borderColor = cssVar('--grid');
  return { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { labels: { usePointStyle: true, boxWidth: 8, boxHeight: 8 } } } };
}

function draw(canvas, config) {
  const chart = new Chart(canvas, config);
  charts.push(chart);
  return chart;
}

function emptyChart(canvas, message) {
  canvas.hidden = true;
  canvas.parentElement.append(el('p', 'chart-empty', message));
}

/** Draws a dashed vertical line and a caption at category `index` of the x axis (the automation start). */
const startLinePlugin = {
  id: 'deflectStart',
  afterDatasetsDraw(chart, _args, opts) {
    if (opts.index == null || opts.index < 0) return;
    const { ctx, chartArea, scales } = chart;
    // Bars are centred on their category: the start's week begins half a category to the left.
    const step = chart.data.labels.length ? scales.x.width / chart.data.labels.length : 0;
    const x = scales.x.getPixelForValue(opts.index) - step / 2;
    ctx.save();
    ctx.strokeStyle = opts.color;
    ctx.lineWidth = 2;
    ctx.setLineDash([5, 4]);
    ctx.beginPath();
    ctx.moveTo(x, chartArea.top);
    ctx.lineTo(x, chartArea.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = opts.color;
    ctx.font = '600 12px ' + Chart.defaults.font.family;
    const text = opts.text;
    const width = ctx.measureText(text).width;
    ctx.fillText(text, x + 6 + width > chartArea.right ? x - width - 6 : x + 6, chartArea.top + 12);
    ctx.restore();
  },
};

/** Tickets per week of one type: by people before the start's week (grey) and after it (blue), carried out by deflect (green), the start marked. */
export function renderWeeklyChart(canvas, t) {
  const weeks = t.weekly;
  const startIndex = weeks.findIndex((w) => w.week >= t.automationStartWeek);
  const o = options();
  o.scales = {
    x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
    y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'tickets' } },
  };
  o.plugins.tooltip = { callbacks: { title: (items) => periodTitle(weeks[items[0].dataIndex].week, 'week') } };
  o.plugins.deflectStart = { index: startIndex, color: cssVar('--text'), text: 'automation starts ' + periodLabel(t.automationStart.slice(0, 10), 'week') };
  return draw(canvas, {
    type: 'bar',
    data: {
      labels: weeks.map((w) => periodLabel(w.week, 'week')),
      datasets: [
        { label: 'Before: by people', data: weeks.map((w, i) => (i < startIndex || startIndex < 0 ? w.tickets - w.automated : null)), backgroundColor: cssVar('--faint') },
        // Every week: a ticket filed before the start and carried out when the automation went live is deflect's too.
        { label: 'Carried out by deflect', data: weeks.map((w) => w.automated || null), backgroundColor: cssVar('--automated') },
        { label: 'After: by people', data: weeks.map((w, i) => (i >= startIndex && startIndex >= 0 ? w.tickets - w.automated : null)), backgroundColor: cssVar('--manual') },
      ],
    },
    options: o,
    plugins: [startLinePlugin],
  });
}

/** Time to resolution p50 and p90, before vs after (hours). */
export function renderTtrChart(canvas, t) {
  if (t.before.ttrP50Hours == null && t.after.ttrP50Hours == null) return emptyChart(canvas, 'No ticket of this type is resolved yet.');
  const o = options();
  o.scales = { x: { grid: { display: false } }, y: { beginAtZero: true, title: { display: true, text: 'hours' } } };
  o.plugins.tooltip = { callbacks: { label: (item) => item.dataset.label + ': ' + ttrText(item.raw) } };
  return draw(canvas, {
    type: 'bar',
    data: {
      labels: ['p50 (median)', 'p90'],
      datasets: [
        // A bar of a few minutes still shows (a sliver), so a fast resolution never reads as no data.
        { label: 'Before', data: [t.before.ttrP50Hours, t.before.ttrP90Hours], backgroundColor: cssVar('--faint'), minBarLength: 3 },
        { label: 'After', data: [t.after.ttrP50Hours, t.after.ttrP90Hours], backgroundColor: cssVar('--automated'), minBarLength: 3 },
      ],
    },
    options: o,
  });
}

/** Reporters and teams per week since the start (bars), with the running totals (lines). */
export function renderAdoptionChart(canvas, t) {
  const weeks = t.adoption;
  const o = options();
  o.scales = {
    x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 6 } },
    y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'people / teams' } },
  };
  o.plugins.tooltip = { callbacks: { title: (items) => periodTitle(weeks[items[0].dataIndex].week, 'week') } };
  return draw(canvas, {
    data: {
      labels: weeks.map((w) => periodLabel(w.week, 'week')),
      datasets: [
        { type: 'bar', label: 'Reporters that week', data: weeks.map((w) => w.reporters), backgroundColor: cssVar('--series-1'), order: 2 },
        { type: 'bar', label: 'Teams that week', data: weeks.map((w) => w.teams), backgroundColor: cssVar('--series-2'), order: 2 },
        { type: 'line', label: 'Reporters so far (of ' + t.reportersAfter + ')', data: weeks.map((w) => w.cumulativeReporters), borderColor: cssVar('--series-1'), backgroundColor: cssVar('--series-1'), pointRadius: 3, order: 1 },
        { type: 'line', label: 'Teams so far (of ' + t.teamsAfter + ')', data: weeks.map((w) => w.cumulativeTeams), borderColor: cssVar('--series-2'), backgroundColor: cssVar('--series-2'), borderDash: [5, 4], pointRadius: 3, order: 1 },
      ],
    },
    options: o,
  });
}

/** One horizontal bar per type. */
function typeBars(canvas, types, value, label, format, max) {
  canvas.parentElement.style.height = Math.max(140, types.length * 40 + 70) + 'px';
  const o = options();
  o.indexAxis = 'y';
  o.plugins.legend = { display: false };
  o.plugins.tooltip = { callbacks: { label: (item) => format(item.raw, types[item.dataIndex]) } };
  o.scales = { x: { beginAtZero: true, max, title: { display: true, text: label } }, y: { grid: { display: false } } };
  return draw(canvas, {
    type: 'bar',
    data: { labels: types.map((t) => short(t.name, 40)), datasets: [{ label, data: types.map(value), backgroundColor: cssVar('--automated'), borderRadius: 3 }] },
    options: o,
  });
}

export function renderHoursChart(types) {
  return typeBars($('chart-hours'), types, (t) => t.hoursReturned, 'hours returned', (v, t) =>
    hours(v) + ' = ' + t.automated + ' × ' + hours(t.hoursPerTicket) + (t.hoursReturnedBasis === 'estimate' ? ' (fixed estimate: no history)' : ' (median human time to resolution before)'));
}

export function renderShareChart(types) {
  return typeBars($('chart-share'), types, (t) => (t.shareResolvedByDeflect == null ? null : Math.round(t.shareResolvedByDeflect * 1000) / 10), '% of tickets after the start', (v, t) =>
    v + '% (' + t.resolvedByDeflect + ' of ' + t.after.tickets + ' tickets since the start)', 100);
}

/** The repeat share of people's resolutions per week; a week without resolutions is a gap. */
export function renderRepeatChart(weeks) {
  const canvas = $('chart-repeat');
  if (!weeks.some((w) => w.share != null)) return emptyChart(canvas, 'People resolved no ticket in this window.');
  const o = options();
  o.spanGaps = false;
  o.layout = { padding: { top: 6 } };
  o.scales = {
    x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 10 } },
    y: { beginAtZero: true, max: 100, ticks: { callback: (v) => v + '%' } },
  };
  o.plugins.tooltip = { callbacks: { title: (items) => periodTitle(weeks[items[0].dataIndex].week, 'week'), label: (item) => pct(weeks[item.dataIndex].share) + ' (' + weeks[item.dataIndex].repeated + ' of ' + weeks[item.dataIndex].resolvedByPeople + ')' } };
  return draw(canvas, {
    type: 'line',
    data: {
      labels: weeks.map((w) => periodLabel(w.week, 'week')),
      // Not clipped at the chart's edge: a week at 100 % stays visible on the top line.
      datasets: [{ label: 'Repeat share of the tickets people resolved', data: weeks.map((w) => (w.share == null ? null : Math.round(w.share * 1000) / 10)), borderColor: cssVar('--manual'), backgroundColor: cssVar('--manual'), pointRadius: 3, borderWidth: 2, clip: false }],
    },
    options: o,
  });
}
