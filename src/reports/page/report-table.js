/*
 * The report page's table (served as /assets/report-table.js): one row per request type or label group, ranked;
 * a type lists its variants (wordings) in an expandable block; a row that stands for both a type and a label says so;
 * when tickets come from several trackers, each row says how many came from each, and every ticket links to its own.
 * Built with textContent only (names, templates and labels are ticket data).
 */
import { $, duration, el, hours, number, pct, SHOWN_KEYS, templateText, ticketLister, trackerChips } from './report-format.js';

const COLUMNS = 10;
/** Variants listed before "all N variants" is needed. */
const SHOWN_VARIANTS = 3;

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
  if (g.handler) handler.title = 'handler a rule routes this row to';
  return el('div', 'automated', bar, el('span', 'num-text', pct(g.automatedShare)), el('span', 'sub', g.automated + ' of ' + g.count), el('div', 'handler-line', handler));
}

function labelsCell(g) {
  const chip = (l) => el('span', 'chip', l.label, el('span', 'chip-count', String(l.count)));
  const others = g.labels.filter((l) => l.label !== g.label);
  if (g.kind === 'type' && !g.label) {
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

function ticketsCell(g, list) {
  const shown = g.exampleKeys.slice(0, SHOWN_KEYS);
  const cell = el('div', 'tickets', el('ul', 'ticket-list', ...list(shown)));
  const total = typeof g.keyCount === 'number' ? g.keyCount : g.keys.length;
  if (total > shown.length) {
    const all = el('ul', 'ticket-list', ...list(g.keys));
    const details = el('details', 'all-tickets', el('summary', null, 'all ' + number(total)), all);
    if (typeof g.keysNext === 'string' && g.keysNext.startsWith('/api/')) details.append(moreTickets(g.keysNext, all));
    cell.append(details);
  }
  return cell;
}

/**
 * A row lists its newest 1,000 tickets; this button appends the next page (the row's `keysNext`, then each page's
 * `next`: GET /api/reports/top-tickets/groups/<id>/keys?cursor=…) while there is one.
 */
function moreTickets(first, list) {
  const button = el('button', 'more-tickets', 'more tickets');
  button.type = 'button';
  let next = first;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const response = await fetch(next, { headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      const page = await response.json();
      list.append(...ticketLister(page, null)(Array.isArray(page.keys) ? page.keys : []));
      next = typeof page.next === 'string' && page.next.startsWith('/api/') ? page.next : null;
      if (next) button.disabled = false;
      else button.remove();
    } catch (error) {
      button.textContent = 'could not load more tickets (' + error.message + '): reload the page';
    }
  });
  return button;
}

/** One variant: its template (placeholders marked), its count, and its first tickets. */
function variantItem(v, list) {
  const item = el('li', 'variant' + (v.id == null ? ' variant-other' : ''), templateText(v.template, 'variant-template'), el('span', 'variant-count', number(v.count)));
  const keys = Array.isArray(v.keys) ? v.keys : [];
  if (keys.length) {
    const shown = el('ul', 'ticket-list ticket-list-inline', ...list(keys.slice(0, SHOWN_KEYS)));
    const count = typeof v.count === 'number' ? v.count : keys.length;
    if (count > SHOWN_KEYS) shown.append(el('li', 'more', '+' + (count - SHOWN_KEYS)));
    item.append(shown);
  }
  return item;
}

/** A type's wordings: the first few, then the rest behind "all N variants" (a <details>, so it expands in place). */
function variantsBlock(g, list) {
  const variants = g.variants;
  if (!variants.length || (g.kind === 'label' && !g.label)) return null;
  const block = el('details', 'variants');
  block.append(
    el('summary', null, number(variants.length) + ' variant' + (variants.length === 1 ? '' : 's')),
    el('ul', 'variant-list', ...variants.map((v) => variantItem(v, list))),
  );
  const top = variants.slice(0, SHOWN_VARIANTS).map((v) => templateText(v.template, 'variant-peek'));
  return el('div', 'variants-wrap', el('div', 'variant-peeks', ...top), block);
}

function groupRow(g, rankNo, jiraBase, colours, showTrackers) {
  const list = ticketLister(g, jiraBase);
  const row = el('tr', g.burst ? 'is-burst' : null);
  row.dataset.groupId = g.id;
  const swatch = colours.get(g.id) && el('span', 'swatch');
  if (swatch) {
    swatch.style.backgroundColor = colours.get(g.id);
    swatch.title = 'colour in the series chart';
  }
  const badges = el('div', 'badges', el('span', 'badge badge-' + g.kind, g.kind === 'type' ? 'request type' : 'label'));
  if (g.kind === 'type' && g.label) badges.append(el('span', 'badge badge-label badge-also', 'label ' + g.label));
  if (g.kind === 'label' && g.merged) badges.append(el('span', 'badge badge-type badge-also', g.merged.typeIds.length + ' request types'));
  if (g.burst) badges.append(el('span', 'badge badge-burst', 'burst'));
  const name = g.kind === 'type' ? templateText(g.name, 'group-name') : el('span', 'group-name label-name', g.name);
  const head = el('th', 'col-group', el('div', 'group-title', swatch, name), badges);
  head.scope = 'row';
  if (g.merged) {
    const what = g.kind === 'type' ? 'This type and label ' + g.merged.label : 'Label ' + g.merged.label + ' and its ' + g.merged.typeIds.length + ' request types';
    head.append(el('p', 'merged-note', what + ' share ' + number(g.merged.shared) + ' tickets: one row, each ticket counted once.'));
  }
  if (g.burst && g.burstReason) head.append(el('p', 'burst-reason', g.burstReason));
  const variants = variantsBlock(g, list);
  if (variants) head.append(variants);
  const demand = g.unmetDemandMinutes == null ? '–' : hours(g.unmetDemandMinutes / 60);
  row.append(
    el('td', 'col-rank num', rankNo == null ? '–' : String(rankNo)),
    head,
    el('td', 'num', el('span', 'count', number(g.count)), el('span', 'sub', pct(g.share) + ' of all'), showTrackers ? trackerChips(g.trackers) : null),
    el('td', 'num', changeCell(g)),
    el('td', 'num', duration(g.medianTimeToResolutionHours), el('span', 'sub', 'p90 ' + duration(g.p90TimeToResolutionHours))),
    el('td', null, automatedCell(g)),
    el('td', 'num', hours(g.hoursSpent), el('span', 'sub good', hours(g.hoursSaved) + ' saved')),
    el('td', 'num strong', demand),
    el('td', null, labelsCell(g)),
    el('td', 'col-tickets', ticketsCell(g, list)),
  );
  return row;
}

/** `showTrackers`: the report holds tickets of more than one tracker, so each row says which its tickets came from. */
export function renderTable(steady, bursts, jiraBase, colours, showTrackers) {
  const body = $('groups-steady');
  body.replaceChildren(...steady.map((g, i) => groupRow(g, i + 1, jiraBase, colours, showTrackers)));
  if (!steady.length) {
    const cell = el('td', 'table-empty', bursts.length ? 'Only bursts repeat in this window.' : 'No request type or label has two tickets or more in this window.');
    cell.colSpan = COLUMNS;
    body.append(el('tr', null, cell));
  }
  const burstBody = $('groups-bursts');
  burstBody.hidden = !bursts.length;
  const head = el('th', 'bursts-head', 'Bursts ', el('span', 'sub-inline', 'one week holds most of the row: a spike, listed but not ranked'));
  head.colSpan = COLUMNS;
  head.scope = 'rowgroup';
  burstBody.replaceChildren(el('tr', null, head), ...bursts.map((g) => groupRow(g, null, jiraBase, colours, showTrackers)));
}

/** Scrolls to a row's table row and flashes it. */
export function focusRow(g) {
  const row = [...document.querySelectorAll('#groups-table tr[data-group-id]')].find((r) => r.dataset.groupId === g.id);
  if (!row) return;
  row.scrollIntoView({ block: 'center' });
  row.classList.remove('flash');
  void row.offsetWidth;
  row.classList.add('flash');
}
