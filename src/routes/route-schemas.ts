/**
 * What every route's schema shares (issue 13): the one error body, the error answers by status, the way a
 * validation failure becomes a 400 message, and small helpers for non-JSON answers.
 *
 * How to add a route (any module that registers one: src/routes/, src/webhooks/, src/auth/, src/metrics/):
 * 1. Give it a row in ROUTE_ACCESS (src/auth/route-access.ts); without one the app refuses to start.
 * 2. Register it through `app.withTypeProvider<ZodTypeProvider>()` with a `schema` next to the route:
 *    `summary`, `description`, `tags`, `querystring` / `params` / `body` as zod objects (each field with
 *    `.describe()`), and `response` per status code — JSON answers as zod objects, errors from {@link errorResponses}.
 *    The handler's return value is then type-checked against the 200 schema, and serialised through it: a field the
 *    schema does not list is dropped from the answer (nothing leaks by accident).
 * 3. Routes that need a role get `security: AUTHENTICATED` (see {@link AUTHENTICATED}); HTML pages and static files use
 *    {@link htmlResponse} / `hide: true`. test/routes/openapi.test.ts then checks the route is in `/docs/json` and
 *    validates a real answer against its schema: add a request for it there.
 * Request validation failures answer 400 `{ statusCode, error, message }` with the message built by
 * {@link validationMessage}: `invalid query: since: …`, `invalid body: reason: …`; a `params` schema writes its own
 * whole message (`invalid run id "abc": use the number shown by deflect audit`).
 */
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { z } from 'zod';

/** Every error answer: `{ statusCode, error, message }` (the sign-in form's JSON errors carry `message` only). */
export const errorSchema = z
  .object({
    statusCode: z.number().int().min(400).max(599).optional().describe('The HTTP status, repeated.'),
    error: z.string().optional().describe('The status text, e.g. `Bad Request`.'),
    message: z.string().describe('What is wrong and, where it helps, how to fix it.'),
  })
  .describe('An error answer: the message says what is wrong.');

const ERROR_MEANINGS: Record<number, string> = {
  400: 'Bad input: the message names the field and the problem.',
  401: 'No valid credential: send `Authorization: Bearer <token>` (or sign in at /signin).',
  403: "The credential's role is too low for this route.",
  404: 'Not found: the message names what.',
  409: 'Conflict with the current state: the message says why.',
  410: 'Gone: the stored data was pruned by retention.',
  413: 'Body too large (DEFLECT_BODY_LIMIT).',
  415: 'Unsupported content type: send application/json.',
  500: 'A failure of ours (details in the log); a webhook delivery answered so was not stored and is retried by its sender.',
  422: 'The body is JSON but not a valid event: the message names the field.',
  429: 'Too many failed authentications from this address: retry after `Retry-After` seconds.',
  503: 'Busy or unavailable: retry later.',
};

/** `{ 400: errorSchema, 404: errorSchema, … }` for the listed codes, each described (for `schema.response`). */
export function errorResponses<const C extends number>(...codes: C[]): Record<C, typeof errorSchema> {
  return Object.fromEntries(codes.map((code) => [code, errorSchema.describe(ERROR_MEANINGS[code] ?? 'Error.')])) as Record<C, typeof errorSchema>;
}

/** The error answers of a route protected by a role (401 without a credential, 403 below the role, 429 when limited). */
export const AUTH_ERRORS = [401, 403, 429] as const;

/**
 * The security requirement of a route that needs some role: an API token (`bearerAuth`) or a sign-in session
 * (`sessionCookie`); both schemes are declared in openapi.ts. The role each route needs is in its description.
 */
export const AUTHENTICATED: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { sessionCookie: [] }];

/** A `response` entry for an HTML page (served as `text/html`; the body is not JSON, so it is not serialised). */
export function htmlResponse(description: string) {
  return { description, content: { 'text/html': { schema: z.string().describe('An HTML page.') } } };
}

/** A `response` entry for a redirect (`303` with a `Location` header and no body). */
export function redirectResponse(description: string) {
  return z.null().describe(`${description} (the \`Location\` header; no body)`);
}

/** The schema of a page people open in a browser (auditor and up; without a session, 303 to `/signin?next=…`). */
export function signedInPage(summary: string, description: string) {
  return {
    tags: ['pages'],
    summary,
    description: `${description} Without a session: 303 to /signin.`,
    security: AUTHENTICATED,
    response: { 200: htmlResponse('The page.'), 303: redirectResponse('No session: to /signin?next=…') },
  };
}

/** How fastify names the part of the request that failed validation. */
type ValidationContext = 'body' | 'params' | 'querystring' | 'headers' | string;

/**
 * The 400 message for a request that failed its schema: `invalid query: since: <why>; top: <why>`.
 * `params` issues are whole messages already (the params schemas write them), so they are joined as they are.
 */
export function validationMessage(errors: FastifySchemaValidationError[], context: ValidationContext): string {
  const issues = errors.map((e) => {
    const field = (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    // A POST without a body reaches the schema as null.
    if (context === 'body' && !field && /received (null|undefined)/.test(e.message ?? '')) return 'body: send a JSON object (Content-Type: application/json)';
    return context === 'params' ? (e.message ?? 'invalid') : `${field || (context === 'body' ? 'body' : context)}: ${e.message ?? 'invalid'}`;
  });
  if (context === 'params') return issues.join('; ');
  const part = context === 'querystring' ? 'query' : context;
  return `invalid ${part}: ${issues.join('; ')}`;
}

/**
 * A positive integer id in a path (`/api/runs/:id`), at most 15 digits, as a number; anything else is the 400
 * `invalid <what> id "<value>": use the number shown by deflect audit`.
 */
export function idParam(what: string) {
  const message = (input: unknown) => `invalid ${what} id "${String(input).slice(0, 30)}": use the number shown by deflect audit`;
  return z
    .string()
    .regex(/^(?=\d*[1-9])\d{1,15}$/, { error: (issue) => message(issue.input) })
    .transform(Number)
    .describe(`The ${what} id, a whole number (as deflect audit shows it).`);
}
