/**
 * Which tracker routes accept what: a tracker with its own secret verifies with it; a tracker without one refuses every
 * delivery (null) as soon as any tracker is configured; all are open only with DEFLECT_INSECURE_NO_AUTH or when no
 * tracker has authentication at all (an app built by a test: `deflect serve` refuses to start then).
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { webhookAuthByTracker } from '../../src/app.js';
import { checkWebhookAuth, WebhookAuthRequiredError } from '../../src/server.js';

const none = { webhookSecrets: [], webhookTokens: [], githubWebhookSecrets: [], linearWebhookSecrets: [] };

describe('webhook authentication per tracker', () => {
  it('refuses deliveries for trackers without a secret once one tracker has one', () => {
    const auth = webhookAuthByTracker({ ...none, githubWebhookSecrets: ['gh'] });
    expect(auth.github).toEqual({ secrets: ['gh'], tokens: [] });
    expect(auth.jira).toBeNull();
    expect(auth.linear).toBeNull();
  });

  it('keeps Jira tokens with Jira, and opens every route only when told to', () => {
    expect(webhookAuthByTracker({ ...none, webhookTokens: ['t'] }).jira).toEqual({ secrets: [], tokens: ['t'] });
    const insecure = webhookAuthByTracker({ ...none, webhookSecrets: ['s'], insecureNoAuth: true });
    expect(insecure.github).toEqual({ secrets: [], tokens: [] });
    expect(insecure.jira).toEqual({ secrets: ['s'], tokens: [] });
  });

  it('serve starts with any one tracker secret, and refuses with none (naming every variable)', () => {
    const logger = pino({ level: 'silent' });
    expect(() => checkWebhookAuth({ ...none, insecureNoAuth: false, linearWebhookSecrets: ['l'] }, logger)).not.toThrow();
    expect(() => checkWebhookAuth({ ...none, insecureNoAuth: false }, logger)).toThrow(WebhookAuthRequiredError);
    expect(() => checkWebhookAuth({ ...none, insecureNoAuth: false }, logger)).toThrow(/DEFLECT_GITHUB_WEBHOOK_SECRET.*DEFLECT_LINEAR_WEBHOOK_SECRET/);
  });
});
