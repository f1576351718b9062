/**
 * (Slack, issue 15) What each verified Slack request does. Every method answers at once with the body of the
 * acknowledgement (`reply`) and, when there is slow work, a `later` task the route runs after the reply is sent, so
 * Slack's 3-second acknowledgement is always met (https://api.slack.com/interactivity/handling#acknowledgment_response).
 *
 * Flow: the slash command or the global shortcut opens a chooser modal (`views.open` with the request's `trigger_id`,
 * called right after the acknowledgement: the trigger expires 3 s after Slack sent it,
 * https://api.slack.com/interactivity/handling#modal_responses); choosing a request type replaces it with the form
 * generated from the handler's schema (`views.update`); the submission is validated synchronously (errors answered in
 * the acknowledgement as `response_action: errors`), recorded (`slack_requests`, once per view), and filed after the
 * acknowledgement (`file-request.ts`). Approval buttons are handled by `slack-approvals.ts`.
 */
import type { Logger } from 'pino';
import type { AnyHandler } from '../automation/define-handler.js';
import { formFieldsOf } from '../automation/ticket-input.js';
import type { Store } from '../db/store.js';
import type { JiraApi } from '../jira/jira-actions.js';
import { describeJiraError } from '../jira/jira-client.js';
import type { RecordAndRoute } from '../pipeline/record-and-route.js';
import type { Rule } from '../rules/rules-file.js';
import { checkRequest, fileRequest } from './file-request.js';
import { requestTypesFor, scopeNeedsUser, type OfferedType } from './request-types.js';
import { decideFromSlack } from './slack-approvals.js';
import type { SlackApi, SlackUser } from './slack-api.js';
import { APPROVE_ACTION, chooserModal, DENY_ACTION, modalErrors, readRequestValues, REQUEST_CALLBACK, REQUEST_TYPE_ACTION, requestModal } from './slack-modal.js';
import { plainMessage } from './slack-messages.js';

/** What a Slack request is answered with now (`reply`: JSON body, null = empty 200) and what runs after (`later`). */
export interface SlackAnswer {
  reply: Record<string, unknown> | null;
  later?: () => Promise<void>;
}

export interface FrontDoorOptions {
  db: Store;
  logger: Logger;
  /** Null without `SLACK_BOT_TOKEN`: commands answer how to configure it. */
  slack: SlackApi | null;
  /** The rules in force (read per request: live reload). */
  rules: () => readonly Rule[];
  handlers: readonly AnyHandler[];
  /** Where tickets are filed; null = dry run (nothing created, the requester is told what would be filed). */
  jira: JiraApi | null;
  jiraBaseUrl: string | null;
  /** deflect's own Jira account: needed so Jira's webhook for a filed ticket is ignored (see file-request.ts). */
  selfAccountId: string | null;
  intake: RecordAndRoute;
}

const NO_TOKEN = { response_type: 'ephemeral', text: 'deflect cannot open forms in Slack: SLACK_BOT_TOKEN is not set on the deflect server.' };

export class SlackFrontDoor {
  private readonly handlers: Map<string, AnyHandler>;

  constructor(readonly options: FrontDoorOptions) {
    this.handlers = new Map(options.handlers.map((h) => [h.name, h]));
  }

  /** The slash command (form fields `user_id`, `trigger_id`): opens the chooser right after the acknowledgement. */
  command(form: Record<string, string>): SlackAnswer {
    if (!this.options.slack) return { reply: NO_TOKEN };
    const { user_id: userId, trigger_id: triggerId } = form;
    if (!userId || !triggerId) return { reply: { response_type: 'ephemeral', text: 'The command arrived without user_id or trigger_id.' } };
    return { reply: null, later: () => this.openChooser(userId, triggerId) };
  }

  /** Interactivity payloads: `shortcut`, `block_actions`, `view_submission`; others are acknowledged and dropped. */
  async interaction(payload: Record<string, any>): Promise<SlackAnswer> {
    const slack = this.options.slack;
    if (!slack) return { reply: null };
    const userId = String(payload.user?.id ?? '');
    if (payload.type === 'shortcut' && payload.trigger_id) return { reply: null, later: () => this.openChooser(userId, String(payload.trigger_id)) };
    if (payload.type === 'block_actions') {
      const action = (payload.actions ?? [])[0] ?? {};
      if (action.action_id === REQUEST_TYPE_ACTION && payload.view?.id) {
        const chosen = String(action.selected_option?.value ?? '');
        return { reply: null, later: () => this.showForm(userId, chosen, String(payload.view.id), payload.view.hash ?? null) };
      }
      if (action.action_id === APPROVE_ACTION || action.action_id === DENY_ACTION) {
        return { reply: null, later: () => decideFromSlack(this.options, payload, action.action_id === APPROVE_ACTION ? 'approve' : 'deny') };
      }
      return { reply: null };
    }
    if (payload.type === 'view_submission' && payload.view?.callback_id === REQUEST_CALLBACK) return this.submit(payload);
    return { reply: null };
  }

  private offeredTo(user: Pick<SlackUser, 'id' | 'email'>): OfferedType[] {
    return requestTypesFor(this.options.rules(), this.handlers, user);
  }

  /** The user, looked up only when a rule's scope needs their email (cached by SlackApi). */
  private async requester(userId: string): Promise<SlackUser> {
    return scopeNeedsUser(this.options.rules()) ? this.options.slack!.user(userId) : { id: userId, name: userId, email: null };
  }

  private async openChooser(userId: string, triggerId: string): Promise<void> {
    try {
      const user = await this.requester(userId);
      await this.options.slack!.openView(triggerId, chooserModal(this.offeredTo(user)));
    } catch (error) {
      this.options.logger.warn({ err: error, slackUser: userId }, 'Slack: could not open the request chooser (views.open)');
    }
  }

  private async showForm(userId: string, ruleName: string, viewId: string, hash: string | null): Promise<void> {
    try {
      const type = this.offeredTo(await this.requester(userId)).find((t) => t.rule === ruleName);
      if (!type) return;
      await this.options.slack!.updateView(viewId, hash, requestModal(type, formFieldsOf(type.handlerRef.input)));
    } catch (error) {
      this.options.logger.warn({ err: error, slackUser: userId, rule: ruleName }, 'Slack: could not show the request form (views.update)');
    }
  }

  /** Validates a submitted form (errors in the acknowledgement), records it once, and files it after the reply. */
  private async submit(payload: Record<string, any>): Promise<SlackAnswer> {
    const view = payload.view;
    let ruleName = '';
    try {
      ruleName = String((JSON.parse(String(view.private_metadata ?? '{}')) as { rule?: unknown }).rule ?? '');
    } catch {
      return { reply: null };
    }
    // The requester's email is the reporter deflect routes with: always looked up here (cached since the chooser).
    let user: SlackUser;
    try {
      user = await this.options.slack!.user(String(payload.user?.id ?? ''));
    } catch (error) {
      this.options.logger.warn({ err: error }, 'Slack: users.info failed for a submission');
      return { reply: { response_action: 'errors', errors: { deflect_summary: 'deflect could not look up your Slack account (users.info failed); try again in a moment.' } } };
    }
    const type = this.offeredTo(user).find((t) => t.rule === ruleName);
    if (!type) return { reply: { response_action: 'errors', errors: { deflect_summary: `The request type ${ruleName} is no longer open to you in Slack.` } } };
    const fields = formFieldsOf(type.handlerRef.input);
    const { summary, values } = readRequestValues(view.state, fields);
    const checked = checkRequest(type, user, summary, values);
    if (!checked.ok) return { reply: modalErrors(checked.problems, fields) };
    const requestId = await this.options.db.recordSlackRequest({ viewId: String(view.id), teamId: payload.team?.id ?? null, userId: user.id, ruleName: type.rule, handler: type.handler });
    if (requestId === null) return { reply: null }; // this view was submitted before: filed once
    return { reply: null, later: () => this.file(requestId, String(view.id), user, type, checked.request) };
  }

  private async file(requestId: number, viewId: string, user: SlackUser, type: OfferedType, request: Parameters<typeof fileRequest>[4]): Promise<void> {
    const { db, jira, jiraBaseUrl, selfAccountId, intake, logger } = this.options;
    const slack = this.options.slack!;
    const where = `${request.project} ${request.issueType} labelled ${request.label}`;
    const tell = (text: string) => slack.postMessage(user.id, text, plainMessage(text)).catch((error) => logger.warn({ err: error }, 'Slack: could not message the requester'));
    if (!jira || !jiraBaseUrl) {
      await db.markSlackRequest(requestId, { status: 'dry-run' });
      await tell(`Dry run: deflect has no Jira credentials, so nothing was filed. It would file a ${where} titled "${request.summary}" with this description:\n${request.lines.join('\n')}`);
      return;
    }
    if (!selfAccountId) {
      const error = "deflect does not know its own Jira account, so Jira's webhook for the new ticket could run the handler a second time: set JIRA_ACCOUNT_ID";
      await db.markSlackRequest(requestId, { status: 'failed', error });
      await tell(`Your ${type.rule} request was not filed: ${error}.`);
      return;
    }
    try {
      const { key, url } = await fileRequest({ db, jira, intake, jiraBaseUrl }, requestId, viewId, user, request);
      logger.info({ slackUser: user.id, issueKey: key, rule: type.rule }, 'Slack request filed');
      await tell(`Filed ${key} (${where}): ${url}\ndeflect is working on it; you will get the outcome here.`);
    } catch (error) {
      const message = describeJiraError(error);
      await db.markSlackRequest(requestId, { status: 'failed', error: message });
      logger.error({ err: error, slackUser: user.id, rule: type.rule }, 'Slack request could not be filed in Jira');
      await tell(`Your ${type.rule} request could not be filed in Jira (${message}). Nothing was created; try again or file it in Jira.`);
    }
  }
}
