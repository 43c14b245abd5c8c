/**
 * A receiver that explains itself: {@linkcode SelfDiagnosis} listens for the LAN's querier from
 * the join on (root; {@linkcode QuerierWatcher}) and, when a group has been WAITING for the stall
 * timeout or has just turned STALLED, runs {@linkcode diagnoseReceiver} for it — once per such
 * episode, one group at a time, in the background: the receive loop never waits for it. The
 * packet socket of the wire watch exists only during that diagnosis, so the receive path of a
 * stream that flows pays nothing; a group that receives again has its diagnosis cut short and
 * dropped.
 *
 * What it holds is what `mcast-receive` reports: the querier (`querier` in the JSON), the findings
 * of the groups that are silent now (`diagnosis`), and the one to show first.
 *
 * @module
 */

import type { AddressFamily } from "../address.ts";
import { PermissionError } from "../errors.ts";
import type { ReceiverStatus } from "../receiver_stats.ts";
import { type Finding, topFinding, uniqueFindings } from "./finding.ts";
import { type QuerierState, QuerierWatcher } from "./querier_watcher.ts";
// The checks and the wire watch (20 modules) load only when a diagnosis first runs: a receiver
// that never stalls starts without them.
import type { ReceiverDiagnosis } from "./receiver_diagnosis.ts";

/** What a receiver is doing on one group, as {@linkcode SelfDiagnosis.prototype.observe} takes it. */
export interface GroupActivity {
  /** The group, as joined (an IPv6 group may carry its `%zone`). */
  group: string;
  /** WAITING, RECEIVING or STALLED. */
  status: ReceiverStatus;
  /** Stalls so far (a new stall is a new episode to diagnose). */
  stalls: number;
}

/** Options of {@linkcode SelfDiagnosis.start}. */
export interface SelfDiagnosisOptions {
  /** IPv4 or IPv6. */
  family: AddressFamily;
  /** The join interface's name, or null when the kernel chose it (no querier watch then). */
  interface: string | null;
  /** INCLUDE-mode sources. @default {[]} */
  sources?: readonly string[];
  /** EXCLUDE-mode sources. @default {[]} */
  exclude?: readonly string[];
  /** The UDP port. */
  port: number;
  /** How long a group may be WAITING before it is diagnosed, seconds. */
  stallTimeoutS: number;
  /** How many groups the receiver joins (for the membership limits). @default {1} */
  groups?: number;
  /** How long each diagnosis watches the wire (root), milliseconds. @default {2000} */
  wireMs?: number;
  /**
   * Most silent groups diagnosed at once: the checks are mostly the interface's, so a few tell
   * what many would.
   *
   * @default {4}
   */
  maxGroups?: number;
  /** Listen for the querier (root). @default {true} */
  watchQuerier?: boolean;
  /** Called with each finished diagnosis (for plain output). */
  onDiagnosis?: (group: string, diagnosis: ReceiverDiagnosis) => void;
  /** Called once when a diagnosis could not run (no permission to run `ip`, …). */
  onFailure?: (message: string) => void;
}

interface Episode {
  key: string;
  findings: Finding[];
  abort: AbortController | null;
}

/**
 * The querier watch and the background diagnosis of one receiver.
 *
 * @example
 * ```ts ignore
 * import { SelfDiagnosis } from "./self_diagnosis.ts";
 * const doctor = SelfDiagnosis.start({ family: "IPv4", interface: "eth1", port: 19779, stallTimeoutS: 3 });
 * setInterval(() => doctor.observe([{ group: "239.1.2.3", status: "WAITING", stalls: 0 }]), 250);
 * // … later
 * console.log(doctor.querier, doctor.top?.message);
 * await doctor.stop();
 * ```
 */
export class SelfDiagnosis {
  /** Why the querier is not watched (no root, no interface), or null when it is. */
  readonly querierSkipped: string | null;
  readonly #options: SelfDiagnosisOptions;
  readonly #watcher: QuerierWatcher | null;
  readonly #startedMs = performance.now();
  readonly #episodes = new Map<string, Episode>();
  readonly #queue: string[] = [];
  #running: Promise<void> | null = null;
  #stopped = false;
  #failed = false;

  private constructor(
    options: SelfDiagnosisOptions,
    watcher: QuerierWatcher | null,
    skipped: string | null,
  ) {
    this.#options = options;
    this.#watcher = watcher;
    this.querierSkipped = skipped;
  }

  /**
   * Starts the querier watch (root, a known interface) and returns the diagnosis, idle until
   * {@linkcode SelfDiagnosis.prototype.observe} sees a silent group.
   *
   * @param options The join and when to diagnose.
   * @returns The running instance; stop it with {@linkcode SelfDiagnosis.prototype.stop}.
   */
  static start(options: SelfDiagnosisOptions): SelfDiagnosis {
    if (options.watchQuerier === false) return new SelfDiagnosis(options, null, "not asked");
    if (options.interface === null) {
      return new SelfDiagnosis(options, null, "the kernel chose the join interface");
    }
    try {
      return new SelfDiagnosis(
        options,
        QuerierWatcher.start(options.interface, options.family),
        null,
      );
    } catch (error) {
      const why = error instanceof PermissionError
        ? "needs root"
        : error instanceof Error
        ? error.message
        : String(error);
      return new SelfDiagnosis(options, null, why);
    }
  }

  /** The querier heard since the join, or null (none heard, or not watched). */
  get querier(): QuerierState | null {
    return this.#watcher?.querier ?? null;
  }

  /** Whether the querier is listened for. */
  get watchingQuerier(): boolean {
    return this.#watcher !== null;
  }

  /** Seconds the querier has been listened for (0 when not watched). */
  get listenedS(): number {
    return this.#watcher?.listenedS ?? 0;
  }

  /** Whether a diagnosis is running now. */
  get running(): boolean {
    return this.#running !== null;
  }

  /** The findings of the groups silent now (unique, the checks' order). */
  get findings(): Finding[] {
    return uniqueFindings([...this.#episodes.values()].flatMap((e) => e.findings));
  }

  /** The finding to show first: the first error, else the first warning; null when none. */
  get top(): Finding | null {
    return topFinding(this.findings);
  }

  /**
   * Tells what each group is doing; diagnoses a group WAITING for the stall timeout or newly
   * STALLED (once per episode), forgets a group that receives again. Cheap: call it every tick.
   *
   * @param groups Every group of the receiver.
   */
  observe(groups: readonly GroupActivity[]): void {
    if (this.#stopped) return;
    const waitedS = (performance.now() - this.#startedMs) / 1000;
    for (const g of groups) {
      const silent = g.status === "STALLED" ||
        (g.status === "WAITING" && waitedS >= this.#options.stallTimeoutS);
      const episode = this.#episodes.get(g.group);
      if (!silent) {
        if (g.status === "RECEIVING" && episode !== undefined) {
          episode.abort?.abort();
          this.#episodes.delete(g.group);
          const queued = this.#queue.indexOf(g.group);
          if (queued >= 0) this.#queue.splice(queued, 1);
        }
        continue;
      }
      const key = g.status === "WAITING" ? "waiting" : `stall ${g.stalls}`;
      if (episode?.key === key) continue;
      if (episode === undefined && this.#episodes.size >= (this.#options.maxGroups ?? 4)) continue;
      if (episode !== undefined) episode.key = key;
      else this.#episodes.set(g.group, { key, findings: [], abort: null });
      if (!this.#queue.includes(g.group)) this.#queue.push(g.group);
    }
    this.#next();
  }

  /**
   * Stops the querier watch, and the diagnosis under way after its checks (its wire watch is cut
   * short; what it saw is kept); safe to call twice.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue.length = 0;
    for (const episode of this.#episodes.values()) episode.abort?.abort();
    await this.#running;
    await this.#watcher?.stop();
  }

  #next(): void {
    if (this.#running !== null || this.#stopped || this.#failed) return;
    const group = this.#queue.shift();
    if (group === undefined) return;
    const episode = this.#episodes.get(group);
    if (episode === undefined) return this.#next();
    const abort = new AbortController();
    episode.abort = abort;
    const o = this.#options;
    this.#running = import("./receiver_diagnosis.ts").then(({ diagnoseReceiver }) =>
      diagnoseReceiver(
        {
          group,
          sources: o.sources ?? [],
          exclude: o.exclude ?? [],
          interface: o.interface ?? undefined,
          port: o.port,
        },
        {
          querier: this.#watcher,
          wireMs: o.wireMs ?? 2_000,
          groups: o.groups ?? 1,
          sharedSocket: false,
          signal: abort.signal,
        },
      )
    ).then((diagnosis) => {
      // A group that received again meanwhile was forgotten: its findings are stale. One cut
      // short by stop() keeps what its checks and the wire showed so far.
      if (this.#episodes.get(group) !== episode) return;
      episode.findings = diagnosis.findings;
      o.onDiagnosis?.(group, diagnosis);
    }, (error) => {
      this.#failed = true;
      o.onFailure?.(
        `cannot diagnose why nothing arrives: ${error instanceof Error ? error.message : error}`,
      );
    }).finally(() => {
      episode.abort = null;
      this.#running = null;
      this.#next();
    });
  }
}
