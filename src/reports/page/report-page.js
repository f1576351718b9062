/*
 * The top-tickets report page (served as /assets/report-page.js; plain browser script, no build step).
 * Reads the query string (since | from+to, project, top), fetches GET /api/reports/top-tickets with it and renders
 * the TopTicketsReportV2 JSON (src/reports/report-types.ts). Filters rewrite the URL so a view can be shared.
 * Everything is built with textContent (ticket text is user input) and styled through classes or the CSSOM, as the
 * page's Content-Security-Policy forbids inline style and script. <html data-state> is loading|ready|empty|error.
 */
(function () {
  'use strict';

  const API = '/api/reports/top-tickets';
  const PAGE = '/reports/top-tickets';
  const DEFAULT_SINCE = '90d';
  const DEFAULT_TOP = '10';
  const TREND_GROUPS = 5;
  const SHOWN_KEYS = 5;
  const DAY = 86400000;

  const $ = (id) => document.getElementById(id);
  const form = $('filters');
  const charts = [];
  const knownProjects = new Set();
  let loadSeq = 0;

  // ---- query string --------------------------------------------------------------------------------------------

  /** The API query for a set of raw parameters: dates win over `since`; blanks and unknown names are dropped. */
  function normaliseQuery(raw) {
    const get = (name) => (raw.get(name) || '').trim();
    const q = new URLSearchParams();
    if (get('from') || get('to')) {
      if (get('from')) q.set('from', get('from'));
      if (get('to')) q.set('to', get('to'));
    } else {
      q.set('since', get('since') || DEFAULT_SINCE);
    }
    if (get('project')) q.set('project', get('project').toUpperCase());
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

  // ---- formatting ----------------------------------------------------------------------------------------------

  const nf = new Intl.NumberFormat('en');
  const nf1 = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
  const dateFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const weekFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const timeFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });

  const num = (v, fallback) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
  const pct = (x) => (x == null ? '–' : x > 0 && x < 0.01 ? '<1%' : Math.round(x * 100) + '%');
  const hours = (h) => (h == null ? '–' : (h < 10 && h % 1 ? nf1 : nf).format(h < 10 ? h : Math.round(h)) + ' h');
  const duration = (h) => (h == null ? '–' : h < 1 ? Math.max(1, Math.round(h * 60)) + ' min' : h < 48 ? nf1.format(h) + ' h' : nf1.format(h / 24) + ' d');
  const day = (iso) => dateFmt.format(new Date(iso));
  const week = (iso) => weekFmt.format(new Date(iso + 'T00:00:00Z'));
  const short = (text, max) => (text.length > max ? text.slice(0, max - 1) + '…' : text);
  const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

  /** `el('span', 'badge', 'text')`, children may be nodes or strings. */
  function el(tag, className, ...children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    for (const child of children) if (child != null && child !== false) node.append(child);
    return node;
  }

  function windowPhrase(report) {
    const w = report.window || {};
    const to = new Date(w.to);
    // An end at midnight is exclusive: show the last day it covers.
    const last = to.getTime() % DAY === 0 ? new Date(to.getTime() - 1) : to;
    if (!w.from) return 'all time, up to ' + dateFmt.format(last);
    const days = Math.round((to - new Date(w.from)) / DAY);
    return day(w.from) + ' – ' + dateFmt.format(last) + ' (' + nf.format(days) + ' days)';
  }

  // ---- data ----------------------------------------------------------------------------------------------------

  /** Defaults for what a report may leave out (an older server sends a label-only subset), so it still renders. */
  function normaliseGroup(g, i) {
    const count = num(g.count, 0);
    const automated = num(g.automated, 0);
    return Object.assign({}, g, {
      id: g.id || 'label:' + g.key,
      count,
      automated,
      automatedShare: num(g.automatedShare, count ? automated / count : 0),
      weekly: Array.isArray(g.weekly) ? g.weekly : [],
      keys: Array.isArray(g.keys) ? g.keys : [],
      exampleKeys: Array.isArray(g.exampleKeys) && g.exampleKeys.length ? g.exampleKeys : (g.keys || []).slice(0, SHOWN_KEYS),
      labels: Array.isArray(g.labels) ? g.labels : [],
      burst: g.burst === true,
      order: i,
    });
  }

  /** Steady groups by unmet demand (the API's order on ties), then bursts: bursts are listed, never ranked. */
  function rank(groups) {
    const demand = (g) => num(g.unmetDemandMinutes, -1);
    const steady = groups.filter((g) => !g.burst).sort((a, b) => demand(b) - demand(a) || a.order - b.order);
    return { steady, bursts: groups.filter((g) => g.burst) };
  }

  function jiraLink(base, key) {
    if (!base || !/^https?:\/\//i.test(base)) return null;
    return base.replace(/\/+$/, '') + '/browse/' + encodeURIComponent(key);
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

  function destroyCharts() {
    while (charts.length) charts.pop().destroy();
  }

  // ---- rendering -----------------------------------------------------------------------------------------------

  function render(report) {
    destroyCharts();
    const groups = report.groups.map(normaliseGroup);
    const { steady, bursts } = rank(groups);
    const ranked = steady.concat(bursts);
    for (const g of groups) for (const key of g.keys) knownProjects.add(key.replace(/-\d+$/, ''));
    if (report.project) knownProjects.add(report.project);
    $('f-projects').replaceChildren(...[...knownProjects].sort().map((p) => new Option(p)));

    const scope = windowPhrase(report) + (report.project ? ' · project ' + report.project : ' · all projects');
    $('window-line').textContent = scope;
    const notice = report.grouping && report.grouping.notice;
    $('notice').hidden = !notice;
    $('notice').textContent = notice || '';
    renderFooter(report);

    if (!report.totalTickets) {
      $('empty-scope').textContent = scope;
      setState('empty');
      return;
    }
    setState('ready'); // charts measure their boxes, so show the report before drawing
    const trend = ranked.slice(0, TREND_GROUPS);
    const palette = [1, 2, 3, 4, 5, 6].map((i) => cssVar('--series-' + i));
    const colours = new Map(trend.map((g, i) => [g.id, palette[i % palette.length]]));
    renderSummary(report, ranked);
    renderGroupsChart(steady, bursts);
    renderWeeklyChart(trend, colours);
    renderRatioChart(report.repeatRatio || []);
    renderTable(steady, bursts, report.jiraBaseUrl || null, colours);
  }

  function renderSummary(report, groups) {
    const total = report.totalTickets;
    const spent = groups.reduce((s, g) => s + num(g.hoursSpent, 0), 0);
    const saved = groups.reduce((s, g) => s + num(g.hoursSaved, 0), 0);
    const weeks = (report.repeatRatio || []).filter((p) => p.tickets > 0);
    const now = weeks[weeks.length - 1];
    $('stat-total').textContent = nf.format(total);
    $('stat-total-note').textContent = 'created in the window';
    $('stat-ratio').textContent = now ? pct(now.ratio) : '–';
    $('stat-ratio-note').textContent = now
      ? 'week of ' + week(now.week) + ': ' + now.repeated + ' of ' + now.tickets + (weeks.length > 1 ? ' (first week ' + pct(weeks[0].ratio) + ')' : '')
      : 'no weekly data';
    $('stat-spent').textContent = hours(spent);
    $('stat-spent-note').textContent = 'manual work in the groups shown';
    $('stat-saved').textContent = hours(saved);
    $('stat-saved-note').textContent = spent ? pct(saved / spent) + ' of it automated' : 'nothing automated yet';
    const top = groups[0];
    $('summary-line').textContent =
      nf.format(total) + ' ticket' + (total === 1 ? '' : 's') + ' created' + (report.project ? ' in ' + report.project : '') + '.' +
      (top ? ' The top group, “' + top.key + '”, holds ' + nf.format(top.count) + ' of them (' + pct(top.count / total) + ').' : ' No request repeated yet.');
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

  /** Writes each bar's total past its end (Chart.js has no built-in data labels). */
  const totalsPlugin = {
    id: 'deflectTotals',
    afterDatasetsDraw(chart, _args, options) {
      const { ctx, scales } = chart;
      ctx.save();
      ctx.font = '600 12px ' + Chart.defaults.font.family;
      ctx.fillStyle = options.color;
      ctx.textBaseline = 'middle';
      options.rows.forEach((row, i) => {
        if (row.group) ctx.fillText(nf.format(row.group.count), scales.x.getPixelForValue(row.group.count) + 6, scales.y.getPixelForValue(i));
      });
      ctx.restore();
    },
  };

  function renderGroupsChart(steady, bursts) {
    const canvas = $('chart-groups');
    if (!steady.length && !bursts.length) return emptyChart(canvas, 'No request repeated in this window: no group has two tickets or more.');
    resetChart(canvas);
    // Chart.js clips a y axis wider than about a third of the chart: fit the labels (~7 px a character).
    const room = Math.max(12, Math.min(46, Math.floor((canvas.parentElement.clientWidth * 0.36) / 7)));
    const rows = steady.map((g, i) => ({ group: g, label: i + 1 + '. ' + short(g.key, room) }));
    if (bursts.length) rows.push({ divider: true, label: 'Bursts · not ranked' });
    for (const g of bursts) rows.push({ group: g, label: '[burst] ' + short(g.key, room - 8) });
    $('groups-chart-box').style.height = Math.max(160, rows.length * 34 + 64) + 'px';
    const part = (test, value) => rows.map((r) => (r.group && test(r.group) ? value(r.group) : null));
    const datasets = [
      { label: 'Automated', data: part(() => true, (g) => g.automated), backgroundColor: cssVar('--automated') },
      { label: 'Still manual', data: part((g) => !g.burst, (g) => g.count - g.automated), backgroundColor: cssVar('--manual') },
    ];
    if (bursts.length) datasets.push({ label: 'Burst (spike, still manual)', data: part((g) => g.burst, (g) => g.count - g.automated), backgroundColor: cssVar('--burst') });
    const max = Math.max(...rows.map((r) => (r.group ? r.group.count : 0)));
    const text = cssVar('--text');
    const muted = cssVar('--muted');
    const options = baseChartOptions();
    options.indexAxis = 'y';
    options.layout = { padding: { left: 4, right: 8 } };
    options.datasets = { bar: { stack: 'groups', barPercentage: 0.78, categoryPercentage: 0.9, borderRadius: 3, borderSkipped: false } };
    options.scales = {
      x: { stacked: true, beginAtZero: true, suggestedMax: max * 1.12 + 1, ticks: { precision: 0 }, title: { display: true, text: 'tickets in the window' } },
      y: { stacked: true, grid: { display: false }, ticks: { autoSkip: false, color: (c) => (rows[c.index] && rows[c.index].divider ? muted : text), font: (c) => (rows[c.index] && rows[c.index].divider ? { style: 'italic' } : {}) } },
    };
    options.plugins.legend.position = 'top';
    options.plugins.legend.align = 'end';
    options.plugins.deflectTotals = { rows, color: text };
    options.plugins.tooltip = {
      filter: (item) => item.raw != null,
      callbacks: {
        title: (items) => (rows[items[0].dataIndex].group || {}).key || '',
        afterBody: (items) => {
          const g = rows[items[0].dataIndex].group;
          if (!g) return [];
          const lines = [nf.format(g.count) + ' tickets, ' + pct(g.automatedShare) + ' automated'];
          if (g.unmetDemandMinutes != null) lines.push('Unmet demand: ' + hours(g.unmetDemandMinutes / 60));
          if (g.burst && g.burstReason) lines.push('Burst: ' + g.burstReason);
          return lines;
        },
      },
    };
    options.onClick = (_event, elements) => {
      const row = elements.length && rows[elements[0].index].group;
      if (row) focusRow(row);
    };
    options.onHover = (event, elements) => {
      event.native.target.style.cursor = elements.length ? 'pointer' : 'default';
    };
    canvas.setAttribute('aria-label', 'Bar chart, top groups by unmet demand: ' +
      rows.filter((r) => r.group).map((r) => r.group.key + ', ' + r.group.count + ' tickets, ' + r.group.automated + ' automated' + (r.group.burst ? ', burst' : '')).join('; '));
    charts.push(new Chart(canvas, { type: 'bar', data: { labels: rows.map((r) => r.label), datasets }, options, plugins: [totalsPlugin] }));
  }

  function renderWeeklyChart(trend, colours) {
    const canvas = $('chart-weekly');
    const weeks = [...new Set(trend.flatMap((g) => g.weekly.map((p) => p.week)))].sort();
    if (!weeks.length) return emptyChart(canvas, 'No weekly series in this report.');
    resetChart(canvas);
    const datasets = trend.map((g) => {
      const byWeek = new Map(g.weekly.map((p) => [p.week, p.count]));
      const colour = colours.get(g.id);
      return { label: short(g.key, 34), fullLabel: g.key, data: weeks.map((w) => byWeek.get(w) || 0), borderColor: colour, backgroundColor: colour, borderDash: g.burst ? [5, 4] : [], cubicInterpolationMode: 'monotone', pointRadius: weeks.length > 26 ? 0 : 2.5, borderWidth: 2 };
    });
    const options = baseChartOptions();
    options.interaction = { mode: 'index', intersect: false };
    options.scales = { x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } }, y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'tickets' } } };
    options.plugins.legend.position = 'bottom';
    options.plugins.tooltip = { callbacks: { title: (items) => 'Week of ' + items[0].label, label: (item) => item.dataset.fullLabel + ': ' + item.formattedValue } };
    canvas.setAttribute('aria-label', 'Weekly tickets for ' + trend.map((g) => g.key).join(', ') + ', from ' + week(weeks[0]) + ' to ' + week(weeks[weeks.length - 1]));
    charts.push(new Chart(canvas, { type: 'line', data: { labels: weeks.map(week), datasets }, options }));
  }

  function renderRatioChart(points) {
    const canvas = $('chart-ratio');
    if (!points.length) return emptyChart(canvas, 'No weekly repeat ratio in this report.');
    resetChart(canvas);
    const accent = cssVar('--accent');
    const options = baseChartOptions();
    options.interaction = { mode: 'index', intersect: false };
    options.scales = {
      x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
      y: { min: 0, max: 100, ticks: { callback: (v) => v + '%', stepSize: 25 }, title: { display: true, text: 'repeat ratio' } },
      y2: { position: 'right', beginAtZero: true, grid: { display: false }, ticks: { precision: 0 }, title: { display: true, text: 'tickets' } },
    };
    options.plugins.legend.position = 'bottom';
    options.plugins.tooltip = {
      callbacks: {
        title: (items) => 'Week of ' + items[0].label,
        label: (item) => {
          const p = points[item.dataIndex];
          return item.datasetIndex === 0 ? 'Repeat ratio ' + pct(p.ratio) + ' (' + p.repeated + ' of ' + p.tickets + ')' : 'Tickets ' + p.tickets;
        },
      },
    };
    const datasets = [
      { type: 'line', label: 'Repeat ratio', data: points.map((p) => (p.tickets ? Math.round(p.ratio * 1000) / 10 : null)), borderColor: accent, backgroundColor: accent, cubicInterpolationMode: 'monotone', pointRadius: points.length > 26 ? 0 : 2.5, borderWidth: 2.5, spanGaps: true, yAxisID: 'y', order: 0 },
      { type: 'bar', label: 'Tickets', data: points.map((p) => p.tickets), backgroundColor: cssVar('--volume'), yAxisID: 'y2', order: 1, borderRadius: 2 },
    ];
    const last = points.filter((p) => p.tickets).pop();
    canvas.setAttribute('aria-label', 'Weekly repeat ratio over ' + points.length + ' weeks' + (last ? ', latest ' + pct(last.ratio) : ''));
    charts.push(new Chart(canvas, { data: { labels: points.map((p) => week(p.week)), datasets }, options }));
  }

  // ---- table ---------------------------------------------------------------------------------------------------

  /** The key with its `<*>`/`<version>` placeholders marked, so what varies reads differently from what repeats. */
  function groupName(g) {
    if (g.kind !== 'text') return el('span', 'group-name label-name', g.key);
    const name = el('span', 'group-name');
    for (const part of g.key.split(/(<[^<>\s]+>)/)) if (part) name.append(/^<.+>$/.test(part) ? el('span', 'placeholder', part) : part);
    return name;
  }

  function changeCell(g) {
    if (g.change == null) {
      if (g.previousCount === 0 && g.count > 0) return el('span', 'change change-new', 'new');
      return el('span', 'muted', '–');
    }
    const up = g.change > 0;
    const flat = Math.round(g.change * 100) === 0;
    const cell = el('span', 'change ' + (flat ? 'change-flat' : up ? 'change-up' : 'change-down'), flat ? '±0%' : (up ? '▲ +' : '▼ −') + Math.abs(Math.round(g.change * 100)) + '%');
    cell.title = 'previous window: ' + g.previousCount + ' → now ' + g.count;
    return cell;
  }

  function automatedCell(g) {
    const bar = el('span', 'meter', el('span', 'meter-fill'));
    bar.firstChild.style.width = Math.round(g.automatedShare * 100) + '%';
    bar.setAttribute('aria-hidden', 'true');
    const handler = g.handler ? el('code', 'handler', g.handler) : el('span', 'no-handler', 'no handler');
    if (g.handler) handler.title = 'handler a rule routes this group to';
    return el('div', 'automated', bar, el('span', 'num-text', pct(g.automatedShare)), el('span', 'sub', g.automated + ' of ' + g.count), el('div', 'handler-line', handler));
  }

  function labelsCell(g) {
    const chip = (l) => el('span', 'chip', l.label, el('span', 'chip-count', String(l.count)));
    const others = g.labels.filter((l) => l.label !== g.key);
    if (g.kind === 'text') {
      if (!g.labels.length) return el('span', 'muted', 'unlabelled');
      const next = g.dominantLabel || g.labels[0].label;
      const carried = (g.labels.find((l) => l.label === next) || { count: 0 }).count;
      const wrap = el('div', 'labels', el('span', 'label-next', 'label next'), el('span', 'chip chip-strong', next), el('span', 'sub', carried + ' of ' + g.count + ' carry it'));
      const rest = g.labels.filter((l) => l.label !== next).slice(0, 3);
      if (rest.length) wrap.append(el('div', 'chips', ...rest.map(chip)));
      return wrap;
    }
    return others.length ? el('div', 'chips', ...others.slice(0, 4).map(chip)) : el('span', 'muted', '–');
  }

  function ticketsCell(g, base) {
    const item = (key) => {
      const href = jiraLink(base, key);
      if (!href) return el('li', null, el('span', 'ticket', key));
      const a = el('a', 'ticket', key);
      a.href = href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      return el('li', null, a);
    };
    const shown = g.exampleKeys.slice(0, SHOWN_KEYS);
    const cell = el('div', 'tickets', el('ul', 'ticket-list', ...shown.map(item)));
    if (g.keys.length > shown.length) {
      const details = el('details', 'all-tickets', el('summary', null, 'all ' + nf.format(g.keys.length)), el('ul', 'ticket-list', ...g.keys.map(item)));
      cell.append(details);
    }
    return cell;
  }

  function groupRow(g, rankNo, base, colours) {
    const row = el('tr', g.burst ? 'is-burst' : null);
    row.id = 'group-' + g.id.replace(/[^A-Za-z0-9_-]/g, '_');
    row.dataset.groupId = g.id;
    const swatch = colours.get(g.id) && el('span', 'swatch');
    if (swatch) {
      swatch.style.backgroundColor = colours.get(g.id);
      swatch.title = 'colour in the weekly chart';
    }
    const badges = el('div', 'badges', el('span', 'badge badge-' + g.kind, g.kind));
    if (g.burst) badges.append(el('span', 'badge badge-burst', 'burst'));
    const head = el('th', 'col-group', el('div', 'group-title', swatch, groupName(g)), badges);
    head.scope = 'row';
    if (g.burst && g.burstReason) head.append(el('p', 'burst-reason', g.burstReason));
    const demand = g.unmetDemandMinutes == null ? '–' : hours(g.unmetDemandMinutes / 60);
    row.append(
      el('td', 'col-rank num', rankNo == null ? '–' : String(rankNo)),
      head,
      el('td', 'num', el('span', 'count', nf.format(g.count)), el('span', 'sub', pct(g.share) + ' of all')),
      el('td', 'num', changeCell(g)),
      el('td', 'num', duration(g.medianTimeToResolutionHours), el('span', 'sub', 'p90 ' + duration(g.p90TimeToResolutionHours))),
      el('td', null, automatedCell(g)),
      el('td', 'num', hours(g.hoursSpent), el('span', 'sub good', hours(g.hoursSaved) + ' saved')),
      el('td', 'num strong', demand),
      el('td', null, labelsCell(g)),
      el('td', 'col-tickets', ticketsCell(g, base)),
    );
    return row;
  }

  function renderTable(steady, bursts, base, colours) {
    const body = $('groups-steady');
    body.replaceChildren(...steady.map((g, i) => groupRow(g, i + 1, base, colours)));
    if (!steady.length) {
      const cell = el('td', 'table-empty', bursts.length ? 'Only bursts repeat in this window.' : 'No group has two tickets or more in this window.');
      cell.colSpan = 10;
      body.append(el('tr', null, cell));
    }
    const burstBody = $('groups-bursts');
    burstBody.hidden = !bursts.length;
    const head = el('th', 'bursts-head', 'Bursts ', el('span', 'sub-inline', 'one week holds most of the group: a spike, listed but not ranked'));
    head.colSpan = 10;
    head.scope = 'rowgroup';
    burstBody.replaceChildren(el('tr', null, head), ...bursts.map((g) => groupRow(g, null, base, colours)));
  }

  function focusRow(g) {
    const row = document.getElementById('group-' + g.id.replace(/[^A-Za-z0-9_-]/g, '_'));
    if (!row) return;
    row.scrollIntoView({ block: 'center' });
    row.classList.remove('flash');
    void row.offsetWidth;
    row.classList.add('flash');
  }

  function renderFooter(report) {
    const g = report.grouping;
    const parts = [];
    if (g) {
      parts.push(g.algorithm
        ? 'Text groups: ' + g.algorithm + (g.algorithm !== g.currentAlgorithm ? ' (current: ' + g.currentAlgorithm + ')' : '') +
            (g.computedAt ? ', computed ' + timeFmt.format(new Date(g.computedAt)) + ' UTC' : '') +
            (g.ticketsSinceGrouping ? ', ' + nf.format(g.ticketsSinceGrouping) + ' tickets since' : '') + '.'
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
  window.addEventListener('popstate', () => navigate(normaliseQuery(new URLSearchParams(location.search)), 'none'));

  if (typeof Chart === 'undefined') {
    showError('The chart library did not load (/assets/chart.umd.js).');
    return;
  }
  navigate(normaliseQuery(new URLSearchParams(location.search)), 'replace');
})();
