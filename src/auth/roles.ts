/**
 * The roles an API token (or a proxied identity) carries, lowest first. Each role may do everything the roles before
 * it may:
 * - `auditor`: read runs, the audit trail, reports, handler health and the pages;
 * - `operator`: also retry runs, pause and resume handlers (and replay deliveries);
 * - `admin`: also create, list and revoke API tokens.
 */
export const ROLES = ['auditor', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** True when `value` names a role. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when a caller with `held` may use a route that needs `needed` (roles are ordered: admin ⊇ operator ⊇ auditor). */
export function roleAllows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}
