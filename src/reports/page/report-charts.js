/*
 * The report page's charts (served as /assets/report-charts.js), drawn with Chart.js (the global `Chart` from
 * /assets/chart.umd.js):
 * - the ranking: one bar per row whose length is its unmet demand, the measure the rows are ranked by, so the bars
 *   shorten down the list (bursts, listed after a divider, are not ranked);
 * - tickets per period for the top rows, and the repeat ratio: per week or per month as the API says
 *   (`granularity`), axis labels with the year. Series are zero-filled by the API (a period without tickets is a
 *   real 0); the ratio of a period without tickets is null and drawn as a gap, never bridged by a line.
 */
import { $, cssVar, el, hours, number, pct, periodLabel, periodTitle, short } from './report-format.js';

const charts = [];

export function destroyCharts() {
  while (charts.length) charts.pop().destroy();
}

function baseChartOptions() {
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = cssVar('--muted');
  Chart.defaults.borderColor = cssVar('--grid');
  return { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { labels: { usePointStyle: true, boxWidth: 8, boxHeight: 8 } } } };
}

function emptyChart(canvas, message) {
  const box = canvas.parentElement;
  canvas.hidden = true;
  box.querySelector('.chart-empty')?.remove();
  box.append(el('p', 'chart-empty', message));
}

function resetChart(canvas) {
  canvas.hidden = false;
  canvas.parentElement.querySelector('.chart-empty')?.remove();
}

/** Writes each bar's figures past its end (Chart.js has no built-in data labels). */
const totalsPlugin = {
  id: 'deflectTotals',
  afterDatasetsDraw(chart, _args, options) {
    const { ctx, scales } = chart;
    ctx.save();
    ctx.font = '600 12px ' + Chart.defaults.font.family;
    ctx.fillStyle = options.color;
    ctx.textBaseline = 'middle';
    options.rows.forEach((row, i) => {
      if (!row.group) return;
      const text = hours(row.value) + ' · ' + number(row.group.count) + ' tickets';
      ctx.fillText(text, scales.x.getPixelForValue(row.value) + 6, scales.y.getPixelForValue(i));
    });
    ctx.restore();
  },
};

/** Unmet demand in hours: the bar length, and the ranking's measure. */
const unmetHours = (g) => Math.max(0, (g.unmetDemandMinutes || 0) / 60);

export function renderGroupsChart(steady, bursts, onPick) {
  const canvas = $('chart-groups');
  if (!steady.length && !bursts.length) return emptyChart(canvas, 'No request type or label has two tickets or more in this window.');
  resetChart(canvas);
  // Chart.js clips a y axis wider than about a third of the chart: fit the labels (~7 px a character).
  const room = Math.max(12, Math.min(46, Math.floor((canvas.parentElement.clientWidth * 0.36) / 7)));
  const rows = steady.map((g, i) => ({ group: g, value: unmetHours(g), label: i + 1 + '. ' + short(g.name, room) }));
  if (bursts.length) rows.push({ divider: true, value: null, label: 'Bursts · not ranked' });
  for (const g of bursts) rows.push({ group: g, value: unmetHours(g), label: '[burst] ' + short(g.name, room - 8) });
  $('groups-chart-box').style.height = Math.max(160, rows.length * 34 + 64) + 'px';
  const datasets = [
    { label: 'Unmet demand (hours of manual work left)', data: rows.map((r) => (r.group && !r.group.burst ? r.value : null)), backgroundColor: cssVar('--manual') },
  ];
  if (bursts.length) datasets.push({ label: 'Burst (spike, not ranked)', data: rows.map((r) => (r.group && r.group.burst ? r.value : null)), backgroundColor: cssVar('--burst') });
  const max = Math.max(...rows.map((r) => r.value || 0));
  const text = cssVar('--text');
  const muted = cssVar('--muted');
  const options = baseChartOptions();
  options.indexAxis = 'y';
  options.layout = { padding: { left: 4, right: 8 } };
  options.datasets = { bar: { stack: 'groups', barPercentage: 0.78, categoryPercentage: 0.9, borderRadius: 3, borderSkipped: false } };
  options.scales = {
    // Room past the longest bar for its figures.
    x: { stacked: true, beginAtZero: true, suggestedMax: max * 1.35 + 0.5, title: { display: true, text: 'unmet demand, hours (what ranks the rows)' } },
    y: { stacked: true, grid: { display: false }, ticks: { autoSkip: false, color: (c) => (rows[c.index] && rows[c.index].divider ? muted : text), font: (c) => (rows[c.index] && rows[c.index].divider ? { style: 'italic' } : {}) } },
  };
  options.plugins.legend.position = 'top';
  options.plugins.legend.align = 'end';
  options.plugins.deflectTotals = { rows, color: text };
  options.plugins.tooltip = {
    filter: (item) => item.raw != null,
    callbacks: {
      title: (items) => (rows[items[0].dataIndex].group || {}).name || '',
      label: (item) => 'Unmet demand: ' + hours(item.raw),
      afterBody: (items) => {
        const g = rows[items[0].dataIndex].group;
        if (!g) return [];
        const lines = [number(g.count) + ' tickets, ' + pct(g.automatedShare) + ' automated'];
        if (g.burst && g.burstReason) lines.push('Burst: ' + g.burstReason);
        return lines;
      },
    },
  };
  options.onClick = (_event, elements) => {
    const row = elements.length && rows[elements[0].index].group;
    if (row) onPick(row);
  };
  options.onHover = (event, elements) => {
    event.native.target.style.cursor = elements.length ? 'pointer' : 'default';
  };
  canvas.setAttribute('aria-label', 'Bar chart, rows by unmet demand: ' +
    rows.filter((r) => r.group).map((r) => r.group.name + ', ' + hours(r.value) + ' unmet, ' + r.group.count + ' tickets' + (r.group.burst ? ', burst' : '')).join('; '));
  charts.push(new Chart(canvas, { type: 'bar', data: { labels: rows.map((r) => r.label), datasets }, options, plugins: [totalsPlugin] }));
}

export function renderSeriesChart(trend, colours, granularity) {
  const canvas = $('chart-weekly');
  const periods = [...new Set(trend.flatMap((g) => g.series.map((p) => p.period)))].sort();
  if (!periods.length) return emptyChart(canvas, 'No series in this report.');
  resetChart(canvas);
  const datasets = trend.map((g) => {
    const byPeriod = new Map(g.series.map((p) => [p.period, p.count]));
    const colour = colours.get(g.id);
    // A period the API did not send is unknown (null: a gap); a period it sent with 0 tickets is a real 0.
    const data = periods.map((p) => (byPeriod.has(p) ? byPeriod.get(p) : null));
    return { label: short(g.name, 34), fullLabel: g.name, data, borderColor: colour, backgroundColor: colour, borderDash: g.burst ? [5, 4] : [], spanGaps: false, tension: 0, pointRadius: periods.length > 26 ? 0 : 2.5, borderWidth: 2 };
  });
  const options = baseChartOptions();
  options.interaction = { mode: 'index', intersect: false };
  options.scales = { x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } }, y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'tickets per ' + granularity } } };
  options.plugins.legend.position = 'bottom';
  options.plugins.tooltip = { callbacks: { title: (items) => periodTitle(periods[items[0].dataIndex], granularity), label: (item) => item.dataset.fullLabel + ': ' + item.formattedValue } };
  canvas.setAttribute('aria-label', 'Tickets per ' + granularity + ' for ' + trend.map((g) => g.name).join(', ') + ', from ' + periodLabel(periods[0], granularity) + ' to ' + periodLabel(periods[periods.length - 1], granularity));
  charts.push(new Chart(canvas, { type: 'line', data: { labels: periods.map((p) => periodLabel(p, granularity)), datasets }, options }));
}

export function renderRatioChart(points, granularity) {
  const canvas = $('chart-ratio');
  if (!points.length) return emptyChart(canvas, 'No repeat ratio in this report.');
  resetChart(canvas);
  const accent = cssVar('--accent');
  const options = baseChartOptions();
  options.interaction = { mode: 'index', intersect: false };
  options.scales = {
    x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
    y: { min: 0, max: 100, ticks: { callback: (v) => v + '%', stepSize: 25 }, title: { display: true, text: 'repeat ratio' } },
    y2: { position: 'right', beginAtZero: true, grid: { display: false }, ticks: { precision: 0 }, title: { display: true, text: 'tickets per ' + granularity } },
  };
  options.plugins.legend.position = 'bottom';
  options.plugins.tooltip = {
    callbacks: {
      title: (items) => periodTitle(points[items[0].dataIndex].period, granularity),
      label: (item) => {
        const p = points[item.dataIndex];
        if (item.datasetIndex === 1) return 'Tickets ' + p.tickets;
        return p.tickets ? 'Repeat ratio ' + pct(p.ratio) + ' (' + p.repeated + ' of ' + p.tickets + ')' : 'No tickets';
      },
    },
  };
  // No tickets in a period: no ratio (null), and the line stops there instead of bridging the gap.
  const ratio = points.map((p) => (p.tickets && p.ratio != null ? Math.round(p.ratio * 1000) / 10 : null));
  const datasets = [
    { type: 'line', label: 'Repeat ratio', data: ratio, borderColor: accent, backgroundColor: accent, tension: 0, pointRadius: points.length > 26 ? 1.5 : 2.5, borderWidth: 2.5, spanGaps: false, clip: false, yAxisID: 'y', order: 0 },
    { type: 'bar', label: 'Tickets', data: points.map((p) => p.tickets), backgroundColor: cssVar('--volume'), yAxisID: 'y2', order: 1, borderRadius: 2 },
  ];
  const last = points.filter((p) => p.tickets).pop();
  canvas.setAttribute('aria-label', 'Repeat ratio per ' + granularity + ' over ' + points.length + ' ' + granularity + 's' + (last ? ', latest ' + pct(last.ratio) : ''));
  charts.push(new Chart(canvas, { data: { labels: points.map((p) => periodLabel(p.period, granularity)), datasets }, options }));
}
