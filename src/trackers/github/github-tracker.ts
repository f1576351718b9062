/**
 * The GitHub Issues adapter: the {@link Tracker} the receiver (`POST /webhooks/github`), import, reconcile and runs
 * use for GitHub. Each method delegates to the module holding the GitHub facts: `verify-github-delivery.ts`
 * (X-Hub-Signature-256), `github-event.ts` (issues / issue_comment payloads), `github-issue.ts` (REST issue →
 * ticket), `github-ticket-ops.ts` (REST calls on one issue, recorded as actions by `trackers/recorded-actions.ts`),
 * `github-client.ts` (Octokit, shared options and errors with the GitHub integration).
 */
import { recordTicketActions, type RecordedActions } from '../recorded-actions.js';
import type { TicketActionsOptions, Tracker } from '../tracker.js';
import type { GitHubIssuesClient } from './github-client.js';
import { parseGitHubEvent } from './github-event.js';
import { restIssueToTicket } from './github-issue.js';
import { githubTicketOps } from './github-ticket-ops.js';
import { createGitHubVerifier } from './verify-github-delivery.js';

/**
 * GitHub's delivery id header: a GUID per delivery, the same on a redelivery
 * (https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers). Not signed, so the body hash
 * deduplicates too (the receiver's duplicate check).
 */
export const GITHUB_DELIVERY_HEADER = 'x-github-delivery';

/** The GitHub Issues adapter. `createActions` returns the run's {@link RecordedActions}. */
export const githubTracker: Tracker<GitHubIssuesClient, RecordedActions> = {
  name: 'github',
  title: 'GitHub',
  keptHeaders: [
    'content-type',
    'user-agent',
    'x-github-event',
    GITHUB_DELIVERY_HEADER,
    'x-github-hook-id',
    'x-github-hook-installation-target-type',
    'x-github-hook-installation-target-id',
  ],
  secretSetting: 'DEFLECT_GITHUB_WEBHOOK_SECRET',
  // GitHub has no shared header token: only the HMAC secrets count.
  createVerifier: (headers, secrets) => createGitHubVerifier(headers, secrets),
  parseEvent: parseGitHubEvent,
  deliveryKey(_event, headers, hash) {
    const raw = headers[GITHUB_DELIVERY_HEADER];
    const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    // A GUID; anything longer or stranger is not used as a key (the body hash still deduplicates).
    const identifier = value && /^[A-Za-z0-9-]{1,100}$/.test(value) ? value : null;
    return { key: identifier ? `github:${identifier}` : `sha256:${hash}`, identifier };
  },
  issueToTicket: restIssueToTicket,
  createActions(options: TicketActionsOptions<GitHubIssuesClient>): RecordedActions {
    const { client, ...rest } = options;
    return recordTicketActions({ ...rest, ops: client ? githubTicketOps(client, options.ticket?.key ?? options.ticketKey) : null });
  },
};
