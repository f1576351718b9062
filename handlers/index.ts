/**
 * The handler registry: every handler in this folder, listed explicitly so the build sees them and a rule's
 * `handler:` name can be checked at start-up. A test (`test/handlers/handlers.test.ts`) fails when a file in
 * `handlers/` is missing here or its `name` differs from its file name.
 */
import type { AnyHandler } from '../src/automation/define-handler.js';
import answerWithRunbook from './answer-with-runbook.js';
import createRepository from './create-repository.js';
import grantRepoAccess from './grant-repo-access.js';
import resetCiToken from './reset-ci-token.js';

/** All handlers, in file-name order. */
export const handlers: AnyHandler[] = [answerWithRunbook, createRepository, grantRepoAccess, resetCiToken];

/** The handler whose `name` equals `name` (a rule's `handler:` value), or undefined when there is none. */
export function findHandler(name: string): AnyHandler | undefined {
  return handlers.find((handler) => handler.name === name);
}
