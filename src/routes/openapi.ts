/**
 * The OpenAPI document and its browser (issue 13): `GET /docs/json` (OpenAPI 3.1, built by @fastify/swagger from
 * every route's zod schema through fastify-type-provider-zod's `jsonSchemaTransform`), `GET /docs/yaml` (the same as
 * YAML) and `GET /docs` (Swagger UI, served from @fastify/swagger-ui's own files: no CDN).
 *
 * Access: public (route-access.ts). The document describes routes, parameters and answer shapes, all of which are in
 * this repository anyway; it holds no data, no configuration and no secret. Every operation is still protected as
 * its ROUTE_ACCESS row says; "Try it out" sends the token entered under "Authorize" (the `bearerAuth` scheme).
 *
 * Content-Security-Policy: Swagger UI's page loads only its own script and style files (no inline script), so the
 * strict policy every page gets from src/auth/auth-plugin.ts (`default-src 'self'`) is kept: the plugin's
 * `staticCSP` is left off (it would replace the policy with a looser one allowing `https:` styles). One exception,
 * on the /docs routes only: the bundle inserts one fixed `<style>` element, allowed by its hash
 * ({@link SWAGGER_UI_STYLE_HASH}; `'unsafe-inline'` is never added). The validator badge (a request to
 * validator.swagger.io) is off (the default). test/routes/openapi-page.test.ts opens the page in Chromium and fails
 * on any CSP violation, so a Swagger UI upgrade that changes that style shows up there.
 *
 * Must be registered before the routes it documents (@fastify/swagger collects them with an `onRoute` hook).
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { OpenAPIV3_1 } from 'openapi-types';

/**
 * The SHA-256 of the one `<style>` element swagger-ui-bundle.js (@fastify/swagger-ui 6.1.3) inserts, as Chromium
 * reports it in the CSP violation (https://www.w3.org/TR/CSP3/#grammardef-hash-source).
 */
export const SWAGGER_UI_STYLE_HASH = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/** Where the UI and the document are served. */
export const DOCS_PREFIX = '/docs';

/** Tags grouping the operations in the UI, in display order. */
const TAGS = [
  { name: 'webhooks', description: 'Deliveries from Jira, GitHub, Linear and Trello, and Slack requests, each authenticated by its signature or token.' },
  { name: 'reports', description: 'The top-tickets report and the audit trail (auditor).' },
  { name: 'handlers', description: 'Handler health, pausing and the kill switch (auditor reads, operator changes).' },
  { name: 'runs', description: 'Re-running runs and replaying deliveries (operator).' },
  { name: 'tokens', description: 'API tokens (admin).' },
  { name: 'sign-in', description: 'Sessions for the pages.' },
  { name: 'pages', description: 'HTML pages for browsers.' },
  { name: 'operations', description: 'Probes and Prometheus metrics.' },
];

/** Registers @fastify/swagger and @fastify/swagger-ui on `app` (the root instance), before any route. */
export async function registerOpenApi(app: FastifyInstance, options: { version: string }): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'deflect',
        version: options.version,
        description:
          'Self-hosted ticket automation: webhook receivers, the top-tickets report, the audit trail and operating the ' +
          'handlers. Protected operations take `Authorization: Bearer <token>` (`deflect tokens create --name NAME --role auditor`); ' +
          'errors are JSON `{ statusCode, error, message }`.',
      },
      tags: TAGS,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token: `deflect tokens create --name NAME --role auditor|operator|admin`.' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'deflect_session', description: 'A sign-in session (POST /signin), as the pages use.' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { docExpansion: 'list', deepLinking: true, persistAuthorization: false },
    staticCSP: false,
    transformSpecification: (spec) => markOptionalBodies(spec as OpenAPIV3_1.Document),
    // Runs in the plugin's own scope: only the /docs answers get the hash.
    transformStaticCSP: (header) => header.replace("style-src 'self'", `style-src 'self' ${SWAGGER_UI_STYLE_HASH}`),
  });
}

/**
 * @fastify/swagger marks every declared body `required: true`; a body schema that also accepts null (`.nullish()`:
 * "no body is fine", the pause routes' optional `{ reason }`) is turned into an optional body of the object schema.
 * Mutates and returns `spec` (swagger-ui hands over a copy).
 */
export function markOptionalBodies(spec: OpenAPIV3_1.Document): OpenAPIV3_1.Document {
  for (const item of Object.values(spec.paths ?? {})) {
    for (const operation of Object.values(item ?? {}) as OpenAPIV3_1.OperationObject[]) {
      const body = operation?.requestBody as OpenAPIV3_1.RequestBodyObject | undefined;
      for (const media of Object.values(body?.content ?? {})) {
        const variants = (media.schema as OpenAPIV3_1.SchemaObject | undefined)?.anyOf as OpenAPIV3_1.SchemaObject[] | undefined;
        if (!body || !variants?.some((v) => v.type === 'null')) continue;
        body.required = false;
        const rest = variants.filter((v) => v.type !== 'null');
        if (rest.length === 1) media.schema = rest[0];
      }
    }
  }
  return spec;
}
