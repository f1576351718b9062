/**
 * (Slack, issue 15) The Slack Web API calls deflect makes, over `@slack/web-api`'s WebClient (bot token
 * `SLACK_BOT_TOKEN`, API root `SLACK_API_URL`), with user look-ups cached. Each method throws the WebClient's error
 * (`code`, `data.error` such as `users_not_found`) on a failed call; the token never appears in a message.
 *
 * Methods (https://api.slack.com/methods): `views.open` (needs a `trigger_id` less than 3 s old), `views.update`
 * (`view_id` + `hash`), `chat.postMessage` (a user id as `channel` posts in the app's DM with them), `chat.update`
 * (`channel` + `ts`), `users.info` (`user.profile.email` needs the `users:read.email` scope), `users.lookupByEmail`.
 */
import { LogLevel, WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Block, ModalView } from './slack-modal.js';

/** A Slack user as deflect needs it: id, display name, email (null without `users:read.email`). */
export interface SlackUser {
  id: string;
  name: string;
  email: string | null;
}

/** How long a looked-up user (or email → user) is reused, ms. */
const USER_CACHE_MS = 10 * 60_000;
/** Per-call timeout, ms: a modal must open within the trigger's 3 s, so calls never wait long. */
const CALL_TIMEOUT_MS = 2_500;

export class SlackApi {
  private readonly client: WebClient;
  private readonly users = new Map<string, { at: number; user: SlackUser }>();
  private readonly byEmail = new Map<string, { at: number; id: string | null }>();

  constructor(options: { botToken: string; apiUrl: string; logger: Logger }) {
    this.client = new WebClient(options.botToken, {
      slackApiUrl: options.apiUrl,
      timeout: CALL_TIMEOUT_MS,
      // Two quick retries (rate limits are answered 429 with Retry-After, which WebClient honours).
      retryConfig: { retries: 2, factor: 1, minTimeout: 200, maxTimeout: 1_000 },
      logLevel: LogLevel.ERROR,
    });
  }

  /** `views.open`: shows `view` for `triggerId`. @returns the view id. */
  async openView(triggerId: string, view: ModalView): Promise<string | null> {
    const answer = await this.client.views.open({ trigger_id: triggerId, view: view as never });
    return answer.view?.id ?? null;
  }

  /** `views.update`: replaces the open view `viewId` (`hash` guards against a race with another update). */
  async updateView(viewId: string, hash: string | null, view: ModalView): Promise<void> {
    await this.client.views.update({ view_id: viewId, ...(hash ? { hash } : {}), view: view as never });
  }

  /** `chat.postMessage` to `channel` (a user id: the app's DM with them). @returns channel and ts of the message. */
  async postMessage(channel: string, text: string, blocks: Block[]): Promise<{ channel: string | null; ts: string | null }> {
    const answer = await this.client.chat.postMessage({ channel, text: escapeSlackText(text), blocks: blocks as never, unfurl_links: false });
    return { channel: answer.channel ?? null, ts: answer.ts ?? null };
  }

  /** `chat.update` of message `ts` in `channel`. */
  async updateMessage(channel: string, ts: string, text: string, blocks: Block[]): Promise<void> {
    await this.client.chat.update({ channel, ts, text: escapeSlackText(text), blocks: blocks as never });
  }

  /** `users.info`, cached {@link USER_CACHE_MS}. */
  async user(id: string, now = Date.now()): Promise<SlackUser> {
    const cached = this.users.get(id);
    if (cached && now - cached.at < USER_CACHE_MS) return cached.user;
    const answer = await this.client.users.info({ user: id });
    const profile = answer.user?.profile;
    const user: SlackUser = {
      id,
      name: profile?.real_name || profile?.display_name || answer.user?.name || id,
      email: profile?.email?.toLowerCase() ?? null,
    };
    this.users.set(id, { at: now, user });
    return user;
  }

  /** `users.lookupByEmail` → the user id, or null when no user has that email (`users_not_found`); cached. */
  async userIdByEmail(email: string, now = Date.now()): Promise<string | null> {
    const key = email.toLowerCase();
    const cached = this.byEmail.get(key);
    if (cached && now - cached.at < USER_CACHE_MS) return cached.id;
    let id: string | null = null;
    try {
      id = (await this.client.users.lookupByEmail({ email: key })).user?.id ?? null;
    } catch (error) {
      if ((error as { data?: { error?: string } }).data?.error !== 'users_not_found') throw error;
    }
    this.byEmail.set(key, { at: now, id });
    return id;
  }
}

/** Escapes `&`, `<`, `>` for a Slack `mrkdwn`/fallback text (https://api.slack.com/reference/surfaces/formatting#escaping). */
export const escapeSlackText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
