/** A normalised ticket for unit tests: PLAT-7 with a description form; `overrides` replace any field. */
import type { Ticket } from '../../src/ticket.js';

export function ticketWith(description: string | null, overrides: Partial<Ticket> = {}): Ticket {
  return {
    id: '10400',
    key: 'PLAT-7',
    project: 'PLAT',
    issueType: 'Task',
    status: 'To Do',
    labels: ['repo-access'],
    summary: 'Access to the API repo',
    description,
    reporter: 'Jane Doe',
    reporterId: '5b10a2844c20165700ede21g',
    created: null,
    updated: null,
    resolved: null,
    siteUrl: 'https://acme.atlassian.net',
    ...overrides,
  };
}
