/*
 * Formatting and DOM helpers shared by the report page's modules (served as /assets/report-format.js).
 * Every node is built with createElement + textContent (via `el`): ticket text, labels and type names are data from
 * Jira, never markup.
 */

export const DAY = 86400000;
export const SHOWN_KEYS = 5;

const nf = new Intl.NumberFormat('en');
const nf1 = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
export const dateFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const monthFmt = new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
export const timeFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });

export const number = (v) => nf.format(v);
export const num = (v, fallback) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
export const pct = (x) => (x == null ? '–' : x > 0 && x < 0.01 ? '<1%' : Math.round(x * 100) + '%');
export const hours = (h) => (h == null ? '–' : (h < 10 && h % 1 ? nf1 : nf).format(h < 10 ? h : Math.round(h)) + ' h');
export const duration = (h) => (h == null ? '–' : h < 1 ? Math.max(1, Math.round(h * 60)) + ' min' : h < 48 ? nf1.format(h) + ' h' : nf1.format(h / 24) + ' d');
export const day = (iso) => dateFmt.format(new Date(iso));
export const short = (text, max) => (text.length > max ? text.slice(0, max - 1) + '…' : text);
export const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
export const $ = (id) => document.getElementById(id);

/** The window part of a page's API query from its raw URL parameters: `from`/`to` when either is given, else `since`. */
export function windowQuery(raw, defaultSince) {
  const get = (name) => (raw.get(name) || '').trim();
  const q = new URLSearchParams();
  if (get('from') || get('to')) {
    if (get('from')) q.set('from', get('from'));
    if (get('to')) q.set('to', get('to'));
  } else {
    q.set('since', get('since') || defaultSince);
  }
  return q;
}

/** A period start (`YYYY-MM-DD`) as an axis label, always with the year: `6 Jan 2025` (week) or `Jan 2025` (month). */
export function periodLabel(period, granularity) {
  const date = new Date(period + 'T00:00:00Z');
  return granularity === 'month' ? monthFmt.format(date) : dateFmt.format(date);
}

/** `Week of 6 Jan 2025` or `Jan 2025`, for tooltips. */
export function periodTitle(period, granularity) {
  return granularity === 'month' ? periodLabel(period, granularity) : 'Week of ' + periodLabel(period, granularity);
}

/** `el('span', 'badge', 'text')`; children may be nodes or strings (strings become text nodes). */
export function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) if (child != null && child !== false) node.append(child);
  return node;
}

/** A template or name with its `<*>`, `<version>`… placeholders and `…` marked, so what varies reads differently. */
export function templateText(text, className) {
  const node = el('span', className);
  for (const part of String(text).split(/(<[^<>\s]+>|…)/)) if (part) node.append(/^(<.+>|…)$/.test(part) ? el('span', 'placeholder', part) : part);
  return node;
}

/** `<siteUrl>/browse/<KEY>` for an http(s) base, else null. */
export function jiraLink(base, key) {
  if (!base || !/^https?:\/\//i.test(base)) return null;
  return base.replace(/\/+$/, '') + '/browse/' + encodeURIComponent(key);
}

/** Trackers as people write them, in the order the API uses (`TRACKER_NAMES`). */
export const TRACKER_TITLES = { jira: 'Jira', github: 'GitHub', linear: 'Linear', trello: 'Trello' };
const trackerTitle = (name) => (Object.prototype.hasOwnProperty.call(TRACKER_TITLES, name) ? TRACKER_TITLES[name] : String(name));

/** `{ jira: 3, github: 2 }` as `Jira 3 · GitHub 2` (the trackers a row's tickets came from). */
export function trackerPhrase(counts) {
  return Object.entries(counts || {}).map(([name, n]) => trackerTitle(name) + ' ' + number(n)).join(' · ');
}

/** A tracker filter (`['github']`, `['jira', 'linear']`) as words: `GitHub`, `Jira + Linear`. */
export const trackerNames = (trackers) => trackers.map(trackerTitle).join(' + ');

/** Chips saying how many of a row's tickets came from each tracker. */
export function trackerChips(counts) {
  return el('span', 'tracker-counts', ...Object.entries(counts || {}).map(([name, n]) => {
    const chip = el('span', 'tracker-chip', trackerTitle(name) + ' ', el('span', 'tracker-chip-count', number(n)));
    chip.dataset.tracker = name;
    return chip;
  }));
}

/**
 * The ticket lists of one row: `(keys) → <li>` items, each key linked to its ticket on its own tracker from the row's
 * `links` (for an older answer without them, `<jiraBaseUrl>/browse/<KEY>`). A key two trackers share (Jira's ENG-7 and
 * Linear's ENG-7) names its tracker, and its n-th appearance in a list takes the n-th such ticket. Addresses that are
 * not http(s) are dropped.
 */
export function ticketLister(g, base) {
  const byKey = new Map();
  for (const l of Array.isArray(g.links) ? g.links : []) {
    if (!l || typeof l.key !== 'string') continue;
    if (!byKey.has(l.key)) byKey.set(l.key, []);
    byKey.get(l.key).push(l);
  }
  const linkOf = (key, nth) => {
    if (!Array.isArray(g.links)) return { href: jiraLink(base, key), text: key, title: null };
    const same = byKey.get(key) || [];
    const link = same[Math.min(nth, same.length - 1)];
    if (!link) return { href: null, text: key, title: null };
    const href = typeof link.url === 'string' && /^https?:\/\//i.test(link.url) ? link.url : null;
    return { href, text: same.length > 1 ? key + ' (' + trackerTitle(link.tracker) + ')' : key, title: trackerTitle(link.tracker) + ' ticket ' + key };
  };
  return (keys) => {
    const seen = new Map();
    return keys.map((key) => {
      const nth = seen.get(key) || 0;
      seen.set(key, nth + 1);
      return ticketItem(linkOf(key, nth));
    });
  };
}

/** A list item with the key, linked to its ticket when the address is known. */
function ticketItem({ href, text, title }) {
  if (!href) return el('li', null, el('span', 'ticket', text));
  const a = el('a', 'ticket', text);
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  if (title) a.title = title;
  return el('li', null, a);
}

/** The window as words: `6 Jan 2025 – 5 Apr 2025 (90 days)` or `all time, up to 5 Apr 2025`. */
export function windowPhrase(report) {
  const w = report.window || {};
  const to = new Date(w.to);
  // An end at midnight is exclusive: show the last day it covers.
  const last = to.getTime() % DAY === 0 ? new Date(to.getTime() - 1) : to;
  if (!w.from) return 'all time, up to ' + dateFmt.format(last);
  const days = Math.round((to - new Date(w.from)) / DAY);
  return day(w.from) + ' – ' + dateFmt.format(last) + ' (' + nf.format(days) + ' days)';
}

/** Defaults for what a report may leave out, so an older or partial answer still renders. */
export function normaliseGroup(g, i) {
  const count = num(g.count, 0);
  const automated = num(g.automated, 0);
  const keys = Array.isArray(g.keys) ? g.keys : [];
  return Object.assign({}, g, {
    id: String(g.id || 'label:' + g.key),
    name: String(g.name || g.key || ''),
    kind: g.kind === 'type' ? 'type' : 'label',
    count,
    automated,
    automatedShare: num(g.automatedShare, count ? automated / count : 0),
    series: Array.isArray(g.series) ? g.series : [],
    keys,
    variants: Array.isArray(g.variants) ? g.variants : [],
    exampleKeys: Array.isArray(g.exampleKeys) && g.exampleKeys.length ? g.exampleKeys : keys.slice(0, SHOWN_KEYS),
    labels: Array.isArray(g.labels) ? g.labels : [],
    burst: g.burst === true,
    order: i,
  });
}

/** Steady rows by unmet demand (the API's order on ties), then bursts: bursts are listed, never ranked. */
export function rank(groups) {
  const demand = (g) => num(g.unmetDemandMinutes, -1);
  const steady = groups.filter((g) => !g.burst).sort((a, b) => demand(b) - demand(a) || a.order - b.order);
  return { steady, bursts: groups.filter((g) => g.burst) };
}
