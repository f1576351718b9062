import { defineConfig } from 'drizzle-kit';

/** drizzle-kit generates forward-only SQL migrations from src/db/schema.ts into migrations/. */
export default defineConfig({
  dialect: 'sqlite',
  schema: ['./src/db/schema.ts', './src/db/report-schema.ts', './src/db/audit-schema.ts', './src/db/verification-schema.ts'],
  out: './migrations',
});
