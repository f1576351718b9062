/**
 * Live rules: the rules file as the running process uses it, re-read when the file changes (no restart).
 *
 * - {@link readRulesSnapshot} reads and validates the file and stamps it with its version: the first 12 hex digits
 *   of the SHA-256 of the file's text (`rules_version` on every run, so the audit says which rules routed it).
 * - {@link LiveRules} holds the current snapshot. Routing reads `current` once per event (record-and-route at
 *   receipt and the worker's pending routing), so a reload applies from the next event on.
 * - {@link LiveRules.watch} watches the file's DIRECTORY (editors and config-map mounts replace the file by rename, which
 *   a watch on the file itself misses; Node docs, "fs.watch caveats": the `filename` argument may be absent, then
 *   any change in the directory triggers a read) and reloads after `debounceMs` of quiet; `deflect serve` also
 *   reloads on SIGHUP (src/server.ts).
 * - A file that does not validate keeps the previous rules; every problem is logged with `path:line:col` (once per
 *   text on watch events; again on each SIGHUP). A file whose text did not change (same version) is not reloaded.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_ESTIMATES, parseRulesConfig, RulesFileError, type KnownHandler, type RulesConfig } from './rules-file.js';

/** A validated rules file with its version. */
export interface RulesSnapshot extends RulesConfig {
  /** First 12 hex of SHA-256 of the file text; null without a rules file. */
  version: string | null;
}

/** The outcome of one {@link LiveRules.reload}. */
export type ReloadResult =
  | { status: 'reloaded'; version: string; rules: number }
  | { status: 'unchanged'; version: string | null }
  | { status: 'rejected'; problems: string[] };

/** Default quiet time before a change is read, ms: editors write a file in several steps. */
export const RELOAD_DEBOUNCE_MS = 200;

/** The rules version of a file's text: first 12 hex digits of its SHA-256 (UTF-8). */
export function rulesVersionOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 12);
}

/** Snapshot of "no rules file": nothing routed, default estimates, no version. */
export const NO_RULES: RulesSnapshot = Object.freeze({ rules: [], estimates: DEFAULT_ESTIMATES, version: null });

/**
 * Validates rules text already read from `path` (see `parseRulesConfig`) and stamps its version.
 * @throws RulesFileError with `path:line:col` for every problem.
 */
export function snapshotOfText(text: string, path: string, knownHandlers: readonly KnownHandler[]): RulesSnapshot {
  return { ...parseRulesConfig(text, path, knownHandlers), version: rulesVersionOf(text) };
}

/**
 * Reads and validates the rules file at `path`.
 * @throws RulesFileError for an unreadable file or any validation problem (`path:line:col: ...`, one per line).
 */
export async function readRulesSnapshot(path: string, knownHandlers: readonly KnownHandler[]): Promise<RulesSnapshot> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RulesFileError(`${path}: cannot read the rules file: ${(error as Error).message} (check DEFLECT_RULES)`);
  }
  return snapshotOfText(text, path, knownHandlers);
}

export interface LiveRulesOptions {
  /** The rules file (`DEFLECT_RULES`); null = no file: nothing to reload or watch. */
  path: string | null;
  /** Installed handler names; a rule naming another is a problem. */
  knownHandlers: readonly KnownHandler[];
  logger: Logger;
  /** Quiet time after the last change before reading, ms (default {@link RELOAD_DEBOUNCE_MS}). */
  debounceMs?: number;
}

/** The current rules of a running process, reloadable. */
export class LiveRules {
  private snapshot: RulesSnapshot;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Serialises reloads: a change during a read is read again afterwards. */
  private reloading: Promise<ReloadResult> | null = null;
  /** The version and problems of the last text that did not validate: the same text is not re-logged on every event. */
  private rejected: { version: string; problems: string[] } | null = null;

  constructor(
    initial: RulesSnapshot,
    private readonly options: LiveRulesOptions,
  ) {
    this.snapshot = initial;
  }

  /** The rules in force now (read it per event; it is replaced, never mutated). */
  get current(): RulesSnapshot {
    return this.snapshot;
  }

  /**
   * Re-reads the file. A valid file with another version replaces the rules (logged with the version and rule
   * count); an invalid or unreadable one keeps them (every problem logged at error level with `path:line:col`).
   * Never throws.
   * @param trigger why (`file changed`, `SIGHUP`), for the log. Only `file changed` skips re-logging a text already
   *   rejected (the watch fires on unrelated changes in the folder); any other trigger logs its problems again.
   */
  reload(trigger = 'requested'): Promise<ReloadResult> {
    const run = async (): Promise<ReloadResult> => {
      const { path, knownHandlers, logger } = this.options;
      if (!path) return { status: 'unchanged', version: null };
      let version: string | null = null;
      try {
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch (error) {
          throw new RulesFileError(`${path}: cannot read the rules file: ${(error as Error).message} (check DEFLECT_RULES)`);
        }
        version = rulesVersionOf(text);
        if (version === this.snapshot.version) {
          logger.debug({ path, version, trigger }, 'rules file unchanged; not reloaded');
          return { status: 'unchanged', version };
        }
        if (trigger === 'file changed' && this.rejected?.version === version) return { status: 'rejected', problems: this.rejected.problems };
        const next = snapshotOfText(text, path, knownHandlers);
        this.rejected = null;
        const previous = this.snapshot.version;
        this.snapshot = next;
        logger.info({ path, version: next.version, previousVersion: previous, rules: next.rules.length, trigger }, `rules reloaded: version ${next.version}, ${next.rules.length} rules`);
        return { status: 'reloaded', version: next.version!, rules: next.rules.length };
      } catch (error) {
        const problems = error instanceof RulesFileError ? error.message.split('\n') : [`${path}: ${(error as Error).message}`];
        this.rejected = version ? { version, problems } : null;
        logger.error(
          { path, problems, keptVersion: this.snapshot.version, trigger },
          `rules file not reloaded (${problems.length} problem${problems.length === 1 ? '' : 's'}); keeping version ${this.snapshot.version}:\n${problems.join('\n')}`,
        );
        return { status: 'rejected', problems };
      }
    };
    const chained = (this.reloading ?? Promise.resolve()).then(run, run);
    this.reloading = chained;
    void chained.finally(() => {
      if (this.reloading === chained) this.reloading = null;
    });
    return chained;
  }

  /**
   * Starts watching the file's directory; changes to the file (or, when the platform gives no file name, to the
   * directory) reload it after `debounceMs` of quiet. A watch that cannot start (directory missing, no inotify
   * watches left) is logged and reload stays available through SIGHUP. Idempotent.
   */
  watch(): void {
    const { path, logger } = this.options;
    if (!path || this.watcher) return;
    const name = basename(path);
    try {
      this.watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
        // Kubernetes config maps swap a `..data` symlink rather than the file: those names count as a change too.
        const changed = filename?.toString();
        if (changed && changed !== name && !changed.startsWith('..')) return;
        this.schedule();
      });
      this.watcher.on('error', (error) => logger.error({ err: error, path }, 'watching the rules file failed; reload with SIGHUP'));
      logger.info({ path }, 'watching the rules file; changes apply without a restart');
    } catch (error) {
      logger.error({ err: error, path }, 'cannot watch the rules file; reload with SIGHUP');
    }
  }

  /** Stops watching and drops a pending debounced reload. */
  close(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reload('file changed');
    }, this.options.debounceMs ?? RELOAD_DEBOUNCE_MS);
    this.timer.unref();
  }
}
