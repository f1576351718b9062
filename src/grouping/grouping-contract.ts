/**
 * The contract between text grouping (`group-tickets.ts`, algorithm `text-v2`) and everything that stores, reports
 * and explains it (`db/text-groups.ts`, `reports/`, `cli/`, `scaffold/`).
 *
 * Two levels:
 * - a **request type** is what is asked: an action on a kind of object, with its polarity ("Add … to team" vs
 *   "Remove … from teams"). Names, numbers, dates, versions and repository/team/user names never split a type;
 *   antonyms never merge.
 * - beneath each type, its **variants**: the wording templates its members use ("Add <*> to <*> maintainers").
 *
 * Every ticket is assigned to at most one type and, inside it, exactly one variant. A ticket that repeats nothing
 * has `typeId: null` and records the nearest type and why it stayed alone.
 */

/** What grouping needs of a ticket. */
export interface GroupableTicket {
  key: string;
  summary: string | null;
  description?: string | null;
  labels: string[];
  /** Epoch ms; carried for callers. */
  created?: number | null;
}

/** One wording of a request type. */
export interface RequestVariant {
  /** Stable id: `variant:` + 12 hex digits of sha1(version + type id + template signature). */
  id: string;
  /** Human-readable template, e.g. `Add <*> to <*> maintainers`. */
  template: string;
  count: number;
  /** All member keys, sorted. */
  keys: string[];
}

/** A repeated request type found by text (2 tickets or more). */
export interface RequestType {
  /** Stable id: `type:` + 12 hex digits of sha1(version + the words that define the type). */
  id: string;
  kind: 'type';
  /** Readable name, e.g. `Add … to team`, `Create teams …`. */
  name: string;
  /** The normalised words that define the type (action, object, polarity), e.g. `["add", "team"]`. */
  keyWords: string[];
  count: number;
  /** All member keys, sorted. */
  keys: string[];
  /** Up to 5 member keys, those with the most common wording first. */
  exampleKeys: string[];
  /** Labels the members carry, most common first (ties by label). */
  labels: Array<{ label: string; count: number }>;
  /** The most common label when at least half of the members carry it, else null. */
  dominantLabel: string | null;
  /** Its wordings, largest first; their counts add up to `count` and their keys partition `keys`. */
  variants: RequestVariant[];
}

/** Why a ticket is where it is. */
export interface TicketAssignment {
  /** The request type, or null for a ticket that repeats nothing. */
  typeId: string | null;
  /** The variant inside the type (null exactly when `typeId` is null). */
  variantId: string | null;
  /** One or two sentences for `deflect explain`: the words that decided the type and the variant. */
  reason: string;
  /** The normalised words that decided the type (empty for a singleton). */
  decidingWords: string[];
  /** For a singleton: the nearest type and why it did not join; null otherwise or when there is none. */
  nearest: { typeId: string; name: string; similarity: number; why: string } | null;
  summary: string | null;
}

/** The result of grouping a set of tickets. */
export interface Grouping {
  /** e.g. `text-v2`. */
  algorithm: string;
  /** The parameters used (for the record; JSON-serialisable). */
  parameters: Record<string, unknown>;
  /** Repeated request types, largest first (ties by id). */
  types: RequestType[];
  /** Every input key → its assignment. */
  assignments: Map<string, TicketAssignment>;
}
