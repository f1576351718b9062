/*
 * One run's trace on the /audit page (served as /assets/audit-trace.js): the GET /api/runs/:id answer laid out as a
 * timeline — delivery → routing decision → input → actions in order → approvals → attempts and errors — with a link
 * to the ticket in its tracker. A caller whose role may operate (viewer.canOperate from GET /api/runs) also gets
 * "Retry run" (failed or dead runs: POST /api/runs/:id/retry) and "Pause handler" (POST /api/handlers/:name/pause),
 * each after a confirmation; the server checks the role again. Built with textContent only (CSP: no inline code).
 */
import { el, timeFmt, TRACKER_TITLES } from './report-format.js';

const when = (iso) => (iso ? timeFmt.format(new Date(iso)) + ' UTC' : '–');

/** `url` when it is an http(s) URL, else null (a stored link is never followed as `javascript:` or the like). */
export function safeHref(url) {
  return typeof url === 'string' && /^https?:\/\//i.test(url) ? url : null;
}

/** A `<dl>` of [term, value] pairs; values are strings or nodes; empty values are left out. */
function facts(pairs) {
  const list = el('dl', 'facts');
  for (const [term, value] of pairs) {
    if (value === null || value === undefined || value === '') continue;
    list.append(el('div', null, el('dt', null, term), el('dd', null, value)));
  }
  return list;
}

/** Stored JSON (already masked by the server) as indented text in a `<pre>`. */
const json = (value) => el('pre', 'json', JSON.stringify(value, null, 2));

function step(title, stateClass, ...content) {
  return el('li', 'step step-' + stateClass, el('h4', 'step-title', title), ...content);
}

const AUTH_TEXT = {
  webhook: 'webhook, checked by its signature or token',
  replay: "replay of a stored delivery (deflect's own replay path)",
  reconcile: "reconcile: read by deflect from the tracker's API",
};

const STATE_CLASS = { applied: 'ok', 'checked after a crash': 'warn', 'skipped on retry': 'info', planned: 'info', failed: 'bad', 'started, outcome unknown': 'warn' };

function actionItem(a) {
  const head = el('div', 'action-head', el('span', 'action-seq', String(a.seq) + '.'), el('code', null, a.kind), ' on ', el('strong', null, a.target), el('span', 'badge badge-' + (STATE_CLASS[a.state] ?? 'muted'), a.state));
  const item = el('li', 'action', head);
  item.append(
    facts([
      ['Request', json(a.request)],
      ['Response', a.response === null ? null : json(a.response)],
      ['HTTP status', a.httpStatus === null ? null : String(a.httpStatus)],
      ['Error', a.error ? el('span', 'error-text', a.error) : null],
      ['Idempotency key', el('code', 'wrap', a.idempotencyKey)],
      ['Started', when(a.startedAt)],
      ['Finished', a.finishedAt ? when(a.finishedAt) : null],
    ]),
  );
  return item;
}

async function post(url, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body ?? {}) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.message || 'HTTP ' + response.status);
  return answer;
}

/** The operator's buttons for this run, with a status line; null for a caller who may not operate. */
function operatorActions(trace, viewer) {
  if (!viewer?.canOperate) return null;
  const status = el('p', 'operate-status', '');
  status.setAttribute('aria-live', 'polite');
  const bar = el('div', 'operate');
  const run = trace.run;
  if (run.status === 'failed' || run.status === 'dead') {
    const retry = el('button', 'button retry-button', 'Retry run');
    retry.type = 'button';
    retry.addEventListener('click', async () => {
      if (!confirm('Retry run #' + run.id + ' (' + run.handler + ' on ' + run.ticketKey + ')? Actions it already applied are skipped.')) return;
      retry.disabled = true;
      try {
        const answer = await post('/api/runs/' + run.id + '/retry');
        status.textContent = 'Run #' + run.id + ' is queued again' + (answer.handlerPaused ? ', but its handler is paused: it waits until the handler is resumed.' : '.');
      } catch (error) {
        status.textContent = 'Retry refused: ' + error.message;
        retry.disabled = false;
      }
    });
    bar.append(retry);
  }
  const pause = el('button', 'button button-danger pause-button', 'Pause handler ' + run.handler);
  pause.type = 'button';
  pause.addEventListener('click', async () => {
    if (!confirm('Pause handler ' + run.handler + '? Its new runs wait in the queue until it is resumed.')) return;
    pause.disabled = true;
    try {
      const answer = await post('/api/handlers/' + encodeURIComponent(run.handler) + '/pause', { reason: 'paused from the audit page (run #' + run.id + ')' });
      status.textContent = answer.changed ? 'Handler ' + run.handler + ' is paused.' : 'Handler ' + run.handler + ' was already paused.';
    } catch (error) {
      status.textContent = 'Pause refused: ' + error.message;
      pause.disabled = false;
    }
  });
  bar.append(pause, status);
  return bar;
}

/** The trace of one run (the GET /api/runs/:id answer) as a node. */
export function renderTrace(trace, viewer) {
  const { run, delivery, decision, input, actions, approvals, attempts, errors, verification } = trace;
  const box = el('div', 'trace');
  const href = safeHref(run.ticketUrl);
  const ticket = href ? Object.assign(el('a', null, run.ticketKey + ' in ' + (TRACKER_TITLES[run.tracker] ?? run.tracker) + ' ↗'), { href, target: '_blank', rel: 'noopener noreferrer' }) : el('span', null, run.ticketKey + ' (no link: its site is unknown)');
  box.append(el('div', 'trace-head', el('h3', null, 'Run #' + run.id + ' · ' + run.handler + ' · ' + run.status), ticket));
  const ops = operatorActions(trace, viewer);
  if (ops) box.append(ops);

  const timeline = el('ol', 'timeline');
  timeline.append(
    step(
      'Delivery',
      'info',
      delivery
        ? facts([
            ['Event', el('code', null, delivery.event)],
            ['Tracker', TRACKER_TITLES[delivery.tracker] ?? delivery.tracker],
            ['Received', when(delivery.receivedAt)],
            ['Authenticated', AUTH_TEXT[delivery.authentication] ?? delivery.authentication],
            ['Replay', delivery.replayOf === null ? 'no' : 'yes, of delivery #' + delivery.replayOf],
            ['Delivery', '#' + delivery.id + (delivery.webhookIdentifier ? ' · ' + delivery.webhookIdentifier : '')],
            ['Body', delivery.bodyPrunedAt ? 'pruned by retention ' + when(delivery.bodyPrunedAt) : null],
          ])
        : el('p', 'muted', 'The delivery is not recorded.'),
    ),
    step(
      'Routing decision',
      'info',
      facts([
        ['Reason', decision.reason],
        ['Rule', decision.rule],
        ['Rules version', decision.rulesVersion ? el('code', null, decision.rulesVersion) : 'not recorded'],
        ['Mode', run.shadow ? 'shadow (actions planned, nothing sent)' : run.dryRun ? 'dry run (actions planned, nothing sent)' : 'live'],
      ]),
    ),
    step('Input', 'info', facts([['Ticket', input.ticket === null ? 'no snapshot stored (older run)' : json(input.ticket)], ['Rule options', input.options === null ? null : json(input.options)]])),
    step('Actions', actions.some((a) => a.state === 'failed') ? 'bad' : 'ok', actions.length ? el('ol', 'actions-list', ...actions.map(actionItem)) : el('p', 'muted', 'No action was taken.')),
  );
  if (approvals.length) {
    timeline.append(
      step('Approvals', 'warn', el('ul', 'approvals', ...approvals.map((a) => el('li', null, el('strong', null, a.decision), a.by ? ' by ' + a.by : '', ' · ' + when(a.at), a.reason ? ' · ' + a.reason : '', a.expiresAt ? ' · expires ' + when(a.expiresAt) : '')))),
    );
  }
  if (verification) {
    const held = verification.state === 'verified' ? 'ok' : verification.state === 'pending' ? 'info' : 'bad';
    timeline.append(
      step(
        'Did it hold?',
        held,
        facts([
          ['Verification', verification.state === 'pending' ? 'pending: watched until ' + when(verification.windowEndsAt) : verification.state],
          ['Decided', verification.decidedAt ? when(verification.decidedAt) : null],
          ['Evidence', verification.evidence],
          ['Reporter answered', verification.feedback ? '/' + verification.feedback : null],
        ]),
      ),
    );
  }
  timeline.append(
    step(
      'Attempts and errors',
      errors.length ? 'bad' : 'ok',
      facts([
        ['Attempts', attempts.count + ' of ' + attempts.max + (attempts.manualRetries ? ' · retried by an operator ×' + attempts.manualRetries : '')],
        ['Created', when(run.createdAt)],
        ['Last attempt', run.startedAt ? when(run.startedAt) : null],
        ['Finished', run.finishedAt ? when(run.finishedAt) + (run.durationMs === null ? '' : ' · ' + run.durationMs + ' ms') : null],
        ['Summary', run.summary],
      ]),
      errors.length ? el('ul', 'errors', ...errors.map((e) => el('li', 'error-text', e.source + (e.at ? ' · ' + when(e.at) : '') + ': ' + e.message))) : el('p', 'muted', 'No error recorded.'),
    ),
  );
  box.append(timeline);
  return box;
}
