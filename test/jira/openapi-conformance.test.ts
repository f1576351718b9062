/**
 * Checks the requests createJiraApi sends against Atlassian's own OpenAPI document for Jira Cloud REST v3
 * (https://developer.atlassian.com/cloud/jira/platform/swagger-v3.v3.json, a copy lives in ../shared/jira-openapi/).
 *
 * Every request the fake Jira records must match a documented operation (path template + method), use only
 * documented query parameters, and carry a body that validates against the operation's request-body schema.
 * OpenAPI 3.0 specifics handled: `nullable` (→ JSON Schema `null` type), `readOnly` properties (must not be sent
 * in a request, so they become `false` schemas), `int32`/`int64`/`double`/`url` formats.
 * The ADF comment `body` is typed loosely in the spec (any value); its `doc`/`version` envelope is asserted here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJiraApi } from '../../src/jira/jira-client.js';
import { markdownToAdf } from '../../src/jira/markdown-to-adf.js';
import { startFakeJira, type FakeJira, type RecordedRequest } from '../support/fake-jira.js';

const SPEC_PATH = fileURLToPath(new URL('../../../shared/jira-openapi/swagger-v3.v3.json', import.meta.url));
const SPEC_ID = 'jira-openapi';
const specExists = existsSync(SPEC_PATH);
if (!specExists) console.warn(`openapi-conformance: skipped, Jira OpenAPI document not found at ${SPEC_PATH}`);

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is typed as the module object.
const addFormats = ((formatsModule as unknown as { default?: unknown }).default ?? formatsModule) as typeof formatsModule.default;

type JsonObject = Record<string, unknown>;
interface Operation {
  operationId?: string;
  description?: string;
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: JsonObject };
}

/** OpenAPI 3.0 schema → JSON Schema for validating a *request*: see the module doc. */
function toRequestSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toRequestSchema);
  if (!node || typeof node !== 'object') return node;
  const source = node as JsonObject;
  const out: JsonObject = {};
  const readOnly = new Set<string>();
  for (const [key, value] of Object.entries(source)) {
    if (key === 'example' || key === 'examples' || key === 'nullable' || key.startsWith('x-')) continue;
    if (key === 'enum' || key === 'default' || key === 'required' || key === 'description') out[key] = value;
    else if (key === '$ref' && typeof value === 'string') out[key] = value.startsWith('#/') ? `${SPEC_ID}${value}` : value;
    else if (key === 'properties' && value && typeof value === 'object') {
      const properties: JsonObject = {};
      for (const [name, schema] of Object.entries(value as JsonObject)) {
        if ((schema as JsonObject | null)?.readOnly === true) readOnly.add(name);
        properties[name] = readOnly.has(name) ? false : toRequestSchema(schema);
      }
      out[key] = properties;
    } else out[key] = toRequestSchema(value);
  }
  if (Array.isArray(out.required)) out.required = out.required.filter((name) => !readOnly.has(String(name)));
  if (source.nullable !== true) return out;
  if (typeof out.type === 'string') {
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return { ...out, type: [out.type, 'null'] };
  }
  return { anyOf: [{ type: 'null' }, out] };
}

/** The operation for a concrete path: among matching templates, the one with the fewest `{parameters}`. */
function findOperation(spec: Spec, method: string, path: string): { template: string; operation: Operation } | undefined {
  const candidates = Object.keys(spec.paths)
    .filter((template) => new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path))
    .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  for (const template of candidates) {
    const operation = spec.paths[template][method.toLowerCase()];
    if (operation) return { template, operation };
  }
  return undefined;
}

describe.skipIf(!specExists)('requests conform to the Jira Cloud OpenAPI document', () => {
  let spec: Spec;
  let ajv: Ajv;
  let fake: FakeJira;
  const validators = new Map<string, ValidateFunction>();

  beforeAll(async () => {
    spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Spec;
    ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const inRange = (bits: number) => (n: number) => Number.isInteger(n) && Math.abs(n) <= 2 ** (bits - 1);
    ajv.addFormat('int32', { type: 'number', validate: inRange(32) });
    ajv.addFormat('int64', { type: 'number', validate: inRange(64) });
    ajv.addFormat('double', { type: 'number', validate: () => true });
    ajv.addFormat('url', true);
    ajv.addSchema({ $id: SPEC_ID, components: { schemas: toRequestSchema(spec.components.schemas) } });

    fake = await startFakeJira({ credentials: { email: 'bot@example.com', apiToken: 't0ken' } });
    fake.seedIssue({ key: 'OPS-7', fields: { labels: ['blocker'] } });
    const jira = createJiraApi({ baseUrl: fake.url, email: 'bot@example.com', apiToken: 't0ken' });

    await jira.getMyself();
    await jira.getIssue('OPS-7');
    await jira.addComment('OPS-7', markdownToAdf('**Fixed**: restarted `nginx`.\n\n- step one\n- step two\n\nSee [runbook](https://wiki.example.com/rb).'));
    await jira.addComment('OPS-7', markdownToAdf('Recorded by deflect.'), [{ key: 'deflect', value: { run: 'r-1', action: 'comment' } }]);
    const done = (await jira.getTransitions('OPS-7')).find((t) => t.toStatus === 'Done');
    await jira.doTransition('OPS-7', done!.id);
    await jira.editLabels('OPS-7', ['triaged', 'auto'], ['blocker']);
    await jira.assignIssue('OPS-7', '5b10ac8d82e05b22cc7d4ef5');
    await jira.assignIssue('OPS-7', null);
  }, 60_000);

  afterAll(async () => {
    await fake?.close();
  });

  function validatorFor(method: string, template: string, operation: Operation): ValidateFunction | undefined {
    const schema = operation.requestBody?.content?.['application/json']?.schema;
    if (!schema) return undefined;
    const cacheKey = `${method} ${template}`;
    if (!validators.has(cacheKey)) validators.set(cacheKey, ajv.compile(toRequestSchema(schema) as object));
    return validators.get(cacheKey);
  }

  it('drove every write call', () => {
    const calls = fake.requests.map((r) => `${r.method} ${r.path}`);
    expect(calls).toEqual(
      expect.arrayContaining([
        'POST /rest/api/3/issue/OPS-7/comment',
        'POST /rest/api/3/issue/OPS-7/transitions',
        'PUT /rest/api/3/issue/OPS-7',
        'PUT /rest/api/3/issue/OPS-7/assignee',
      ]),
    );
    expect(fake.issue('OPS-7')?.fields).toMatchObject({ labels: ['triaged', 'auto'], status: { name: 'Done' }, assignee: null });
  });

  it('matches every request to a documented operation with documented query parameters', () => {
    for (const request of fake.requests) {
      const found = findOperation(spec, request.method, request.path);
      expect(found, `${request.method} ${request.path} is not in the OpenAPI document`).toBeDefined();
      const documented = (found!.operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      for (const name of Object.keys(request.query)) expect(documented, `${request.method} ${found!.template} ?${name}`).toContain(name);
    }
  });

  it('sends request bodies that validate against the operation schemas', () => {
    const checked: string[] = [];
    for (const request of fake.requests) {
      const { template, operation } = findOperation(spec, request.method, request.path)!;
      const validate = validatorFor(request.method, template, operation);
      if (!validate) {
        expect(request.body, `${request.method} ${template} documents no request body`).toBeNull();
        continue;
      }
      if (operation.requestBody?.required) expect(request.body, `${request.method} ${template} requires a body`).not.toBeNull();
      const body = bodyToValidate(request, operation);
      const valid = validate(body);
      expect(valid, `${operation.operationId} (${request.method} ${template}): ${ajv.errorsText(validate.errors)}\n${request.rawBody}`).toBe(true);
      checked.push(operation.operationId ?? template);
    }
    expect(new Set(checked)).toEqual(new Set(['addComment', 'doTransition', 'editIssue', 'assignIssue']));
  });

  /**
   * The one documented exception: `User.accountId` is a non-nullable string in the schema, but the assignIssue
   * operation's description says `null` unassigns. Validate the rest of such a body with a placeholder id.
   */
  function bodyToValidate(request: RecordedRequest, operation: Operation): unknown {
    const body = request.body as JsonObject | null;
    if (operation.operationId === 'assignIssue' && body?.accountId === null) {
      expect(operation.description).toContain('`null`, the issue is set to unassigned');
      return { ...body, accountId: 'placeholder-for-null' };
    }
    return body;
  }

  it('sends comment bodies as ADF documents', () => {
    const comments = fake.requestsTo('POST', '/rest/api/3/issue/OPS-7/comment');
    expect(comments).toHaveLength(2);
    for (const request of comments) {
      expect((request.body as JsonObject).body).toMatchObject({ type: 'doc', version: 1, content: expect.any(Array) });
    }
    const marks = JSON.stringify((comments[0].body as JsonObject).body);
    for (const fragment of ['"strong"', '"code"', '"bulletList"', '"link"', 'https://wiki.example.com/rb']) expect(marks).toContain(fragment);
    expect((comments[1].body as JsonObject).properties).toEqual([{ key: 'deflect', value: { run: 'r-1', action: 'comment' } }]);
  });

  it('rejects what Jira would reject (the validation can fail)', () => {
    const { template, operation } = findOperation(spec, 'POST', '/rest/api/3/issue/OPS-7/comment')!;
    const validate = validatorFor('POST', template, operation)!;
    expect(validate({ body: markdownToAdf('x'), properties: [{ key: 'k', value: 1, extra: true }] })).toBe(false);
    expect(validate({ body: markdownToAdf('x'), id: '10000' })).toBe(false); // readOnly `id`
  });
});
