import { defineConfig } from 'drizzle-kit';

/**
 * drizzle-kit for the PostgreSQL backend (decision 018): forward-only SQL migrations from `src/db/postgres/*-schema.ts`
 * into `migrations-postgres/`. Generate with `npx drizzle-kit generate --config drizzle.postgres.config.ts --name <x>`.
 */
export default defineConfig({
  dialect: 'postgresql',
  schema: [
    './src/db/postgres/schema.ts',
    './src/db/postgres/report-schema.ts',
    './src/db/postgres/audit-schema.ts',
    './src/db/postgres/verification-schema.ts',
  ],
  out: './migrations-postgres',
});
