/**
 * The throw-away lab of tests and benchmarks: a {@linkcode LabNetwork} named after this process
 * (`mcl-<pid>-<n>`), with a scratch directory, that deletes everything when disposed — also from
 * a safety net on SIGINT, SIGTERM, SIGHUP and `unload` while it is alive, and, for what a crashed
 * run left behind, from the first `Lab.create()` of the next process.
 *
 * @example
 * ```ts ignore
 * import { Lab } from "./lab.ts";
 * await using lab = await Lab.create();
 * const lan = await lab.addLan("lan", [await lab.addNamespace("h1"), await lab.addNamespace("h2")]);
 * ```
 *
 * @module
 */

import { checkPrefix, cleanupStaleLabs, deleteNamespaceSync, LAB_PREFIX } from "./cleanup.ts";
import { registerLab, unregisterLab } from "./live_labs.ts";
import { LabNetwork } from "./network.ts";

let labCounter = 0;
const staleCleanups = new Map<string, Promise<string[]>>();

/** Options of {@linkcode Lab.create}. */
export interface LabOptions {
  /**
   * Keep the lab's scratch directory (pcap files, scripts) after disposal, for debugging.
   *
   * @default {false}
   */
  keepFiles?: boolean;
  /**
   * The prefix of the lab's namespace names (`<prefix><pid>-<n>-<label>`): letters and digits,
   * then `-`. Another user of the harness (the benchmark: `mcb-`) takes its own, so that each
   * cleans up only its own leftovers.
   *
   * @default {"mcl-"}
   */
  prefix?: string;
}

/**
 * A set of namespaces, links and processes that lives for one test. Dispose it (`await using`)
 * to kill its processes and delete its namespaces; this also happens from a safety net on
 * SIGINT, SIGTERM and `unload` while it is alive.
 *
 * @example
 * ```ts ignore
 * import { Lab } from "./lab.ts";
 * await using lab = await Lab.create();
 * const lan = await lab.addLan("lan", [
 *   await lab.addNamespace("h1"),
 *   await lab.addNamespace("h2"),
 *   await lab.addNamespace("h3"),
 * ]);
 * console.log(lan.members.map((m) => `${m.ns.label} ${m.name} ${m.ipv4} ${m.ipv6}`));
 * ```
 */
export class Lab extends LabNetwork implements AsyncDisposable {
  /** The prefix of the lab's namespace names (`mcl-` unless {@linkcode LabOptions.prefix}). */
  readonly prefix: string;
  #scratch: string | undefined;
  #keepFiles: boolean;

  /**
   * Internal: use {@linkcode Lab.create} (or a subclass's `create`, through
   * {@linkcode Lab.open}).
   *
   * @param prefix The checked prefix.
   * @param options Scratch-file handling.
   */
  protected constructor(prefix: string, options: LabOptions) {
    super(`${prefix}${Deno.pid}-${++labCounter}`);
    this.prefix = prefix;
    this.#keepFiles = options.keepFiles ?? false;
  }

  /**
   * Create an empty lab (no namespaces yet). Requires root and `ip`. The first call in a
   * process for a prefix also runs {@linkcode cleanupStaleLabs} for that prefix (namespaces of
   * dead processes only).
   *
   * @param options Scratch-file handling, namespace prefix.
   * @returns The lab.
   * @throws {LabError} When the prefix is not letters and digits followed by `-`.
   */
  static create(options: LabOptions = {}): Promise<Lab> {
    return Lab.open(options, (prefix) => new Lab(prefix, options));
  }

  /**
   * What {@linkcode Lab.create} does, for subclasses: check the prefix, clean up stale labs of
   * the prefix once per process, construct the lab and register it with the safety net.
   *
   * @param options The options.
   * @param construct Makes the lab for the checked prefix.
   * @returns The lab.
   */
  protected static async open<T extends Lab>(
    options: LabOptions,
    construct: (prefix: string) => T,
  ): Promise<T> {
    const prefix = checkPrefix(options.prefix ?? LAB_PREFIX);
    // The first lab of a process removes what crashed or interrupted runs left behind (deno
    // test exits on SIGINT without running any JS clean-up).
    let stale = staleCleanups.get(prefix);
    if (stale === undefined) {
      stale = cleanupStaleLabs({ prefix }).catch(() => []);
      staleCleanups.set(prefix, stale);
    }
    await stale;
    const lab = construct(prefix);
    registerLab(lab);
    return lab;
  }

  /** Internal: the lab's scratch directory (created on first use). */
  async scratchDir(): Promise<string> {
    this.#scratch ??= await Deno.makeTempDir({ prefix: `${this.id}-` });
    return this.#scratch;
  }

  /** Same as {@linkcode LabNetwork.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Internal: synchronous last-resort clean-up (signal or unload). */
  closeSync(): void {
    for (const process of this.processes) process.kill("SIGKILL");
    for (const ns of this.namespaces) deleteNamespaceSync(ns.name);
    unregisterLab(this);
  }

  /** Deletes the namespaces, then the scratch directory; unregisters from the safety net. */
  protected override async closeNow(): Promise<void> {
    try {
      await super.closeNow();
    } finally {
      if (this.#scratch && !this.#keepFiles) {
        await Deno.remove(this.#scratch, { recursive: true }).catch(() => {});
      }
      unregisterLab(this);
    }
  }
}
