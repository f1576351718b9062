/**
 * Runs in every test file (vitest `setupFiles`): closes the databases the file opened through test-backend.ts, and
 * drops them on PostgreSQL, after its last test.
 */
import { afterAll } from 'vitest';
import { closeTestDatabases } from './test-backend.js';

afterAll(closeTestDatabases);
