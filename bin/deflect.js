#!/usr/bin/env node
// The `deflect` command. Runs the compiled CLI (built by `npm run build`, which `npm ci` runs via `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(compiled)) {
  console.error('deflect: dist/ is missing. Run `npm run build` (npm ci runs it for you) and try again.');
  process.exit(1);
}
await import(compiled);
