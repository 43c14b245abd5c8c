/**
 * A receiver of one group or many: one {@linkcode Subscription} per group (so a datagram is only
 * ever counted for the group it was sent to: each socket is bound to its group, with
 * `IP_MULTICAST_ALL` off), each with its own {@linkcode ReceiverStats}, all driven by one `poll`
 * over every socket and received into one shared batch. This is what `mcast-receive` runs, for
 * scripts too.
 *
 * Bounds, whatever arrives (hostile senders on every group included), per group:
 *
 * | groups | senders kept | duplicate window | memory per group at most |
 * | --- | --- | --- | --- |
 * | 1 | 1024 | 65536 | ≈ 8.6 MiB |
 * | 2 to 64 | 64 | 16384 | ≈ 170 KiB |
 * | more | 16 | 4096 | ≈ 18 KiB |
 *
 * (a sender costs its duplicate window / 8 bytes plus about 600 bytes). The receive buffer asked
 * for each socket is 4 MiB up to 16 groups, 256 KiB beyond; the datagrams in flight are the
 * kernel's, within those buffers.
 *
 * Opening thousands of sockets needs file descriptors: the open-file soft limit is raised (up to
 * the hard limit) when the groups need more; where a limit still stops the receiver, the error
 * says which (`ulimit -n`, `igmp_max_msf` for source lists) and how to raise it.
 *
 * @module
 */

import { McastError, SocketError } from "./errors.ts";
import { formatAddress } from "./address.ts";
import { BatchRecorder } from "./batch_recorder.ts";
import { realtimeOffsetNs } from "./clock.ts";
import { interfaceName } from "./interfaces.ts";
import { ReceiverStats, type ReceiverStatsOptions, type ReceiverTotals } from "./receiver_stats.ts";
import { ReceivedBatch, Subscription, type SubscriptionOptions } from "./subscription.ts";
import { PLATFORM } from "../ffi/constants.ts";
import { openFileLimit, setOpenFileLimit } from "../ffi/limits.ts";
import { PollSet } from "../ffi/poll.ts";

/** Options of a {@linkcode MulticastReceiver}. */
export interface MulticastReceiverOptions {
  /** The groups, one family (see `parseGroupList`). */
  groups: readonly string[];
  /** INCLUDE-mode sources of every group's join (an SSM join with one). */
  sources?: readonly string[];
  /** EXCLUDE-mode sources of every group's join. */
  exclude?: readonly string[];
  /** UDP port. @default {19779} */
  port?: number;
  /** The join interface: name, index or local address; 0 for the routing default. @default {0} */
  interface?: string | number;
  /** Seconds without an MCAS datagram before a group is STALLED. @default {3} */
  stallTimeoutS?: number;
  /**
   * Receive buffer per socket, bytes.
   *
   * @default {4 MiB up to 16 groups, 256 KiB beyond}
   */
  receiveBufferBytes?: number;
  /** Other statistics options for every group (the bounds above are the defaults). */
  stats?: Omit<ReceiverStatsOptions, "stallTimeoutS" | "sharedClock" | "epochOffsetNs">;
}

/** One group of a receiver: its socket and its statistics. */
export interface GroupChannel {
  /** The group, canonical. */
  readonly group: string;
  /** Its socket. */
  readonly subscription: Subscription;
  /** Its statistics. */
  readonly stats: ReceiverStats;
}

/** Options of {@linkcode MulticastReceiver.run}. */
export interface ReceiveRunOptions {
  /** Ends the run (within `waitMs`). */
  signal: AbortSignal;
  /**
   * Longest single `poll`, so an abort or a lost interface is noticed promptly.
   *
   * @default {100}
   */
  waitMs?: number;
  /**
   * Called between receives at most every `everyMs` (the run's clock for ticks and checks).
   *
   * @default {undefined}
   */
  onTurn?: () => void | Promise<void>;
  /**
   * How often `onTurn` runs, and the event loop gets a turn while sockets never run dry.
   *
   * @default {50}
   */
  everyMs?: number;
}

const BATCH_SIZE = 64;
const BATCH_ROOM = 65535;
const DRAIN_BUDGET = 16; // batches from one socket before the others get their turn
const FD_HEADROOM = 64; // descriptors Deno and the rest of the tool need beside the sockets
const CHECK_INTERFACE_MS = 1000; // how often the run looks whether the join interface still exists

/**
 * Receives one or many groups.
 *
 * @example Count 64 groups for ten seconds
 * ```ts ignore
 * import { MulticastReceiver, parseGroupList } from "../mod.ts";
 * using receiver = new MulticastReceiver({ groups: parseGroupList("239.1.1.1+63").groups, interface: "eth1" });
 * await receiver.run({ signal: AbortSignal.timeout(10_000) });
 * for (const channel of receiver.groups) console.log(channel.group, channel.stats.totals().packets);
 * ```
 */
export class MulticastReceiver implements Disposable {
  readonly #channels: GroupChannel[] = [];
  readonly #recorders: BatchRecorder[] = [];
  readonly #interfaceIndex: number;
  readonly #interfaceName: string | null;
  #lost: string | null = null;

  /**
   * Opens and joins every group's socket (all or none: a failure closes those already open).
   *
   * @param options Groups, sources, port, interface and bounds.
   * @throws {InvalidValueError} For a bad group, source or option.
   * @throws {McastError} When a limit stops the joins (the message says which and how to raise
   *   it), or the OS refuses a step.
   */
  constructor(options: MulticastReceiverOptions) {
    const groups = options.groups;
    const count = groups.length;
    raiseOpenFileLimit(count);
    const offset = realtimeOffsetNs();
    const statsOptions: ReceiverStatsOptions = {
      ...boundsFor(count),
      ...options.stats,
      stallTimeoutS: options.stallTimeoutS ?? 3,
      sharedClock: true,
      epochOffsetNs: offset,
    };
    const batch = new ReceivedBatch(BATCH_SIZE, BATCH_ROOM, { formatAddress });
    const subscriptionOptions: SubscriptionOptions = {
      port: options.port,
      interface: options.interface,
      receiveBufferBytes: options.receiveBufferBytes ?? (count <= 16 ? 4 << 20 : 256 << 10),
      batch,
      ...(options.sources !== undefined && options.sources.length > 0
        ? { sources: options.sources }
        : {}),
      ...(options.exclude !== undefined && options.exclude.length > 0
        ? { exclude: options.exclude }
        : {}),
    };
    try {
      for (const [i, group] of groups.entries()) {
        let subscription: Subscription;
        try {
          subscription = new Subscription(group, subscriptionOptions);
        } catch (error) {
          throw explainLimit(error, i, count, options);
        }
        const stats = new ReceiverStats(statsOptions);
        this.#channels.push({ group: subscription.group, subscription, stats });
        this.#recorders.push(new BatchRecorder(stats, { arrivalOffsetNs: offset }));
      }
    } catch (error) {
      this.close();
      throw error;
    }
    const first = this.#channels[0].subscription;
    this.#interfaceIndex = first.interfaceIndex;
    this.#interfaceName = first.interfaceName;
  }

  /** The groups, in the order given. */
  get groups(): readonly GroupChannel[] {
    return this.#channels;
  }

  /**
   * Set once the join interface is gone (deleted, or its index now names another interface):
   * the message to show; the run has ended.
   */
  get lostInterface(): string | null {
    return this.#lost;
  }

  /**
   * Receives until `signal` fires, the interface is lost or the sockets are closed: waits on all
   * sockets at once, drains the ready ones into the shared batch and counts each datagram for its
   * group. Allocates nothing per datagram beyond the statistics' own. Looks whether the join
   * interface still exists once a second; `onTurn` runs at least every `waitMs` (when nothing
   * arrives, after each wait), so a caller needs no timer of its own for ticks.
   *
   * @param options The abort signal, the longest wait, and a callback between receives.
   */
  async run(options: ReceiveRunOptions): Promise<void> {
    const { signal } = options;
    const waitMs = options.waitMs ?? 100;
    const everyMs = options.everyMs ?? 50;
    const channels = this.#channels;
    const recorders = this.#recorders;
    const poll = new PollSet(channels.map((c) => c.subscription.fd), PLATFORM.POLLIN);
    const single = channels.length === 1;
    let lastTurn = performance.now();
    let lastCheck = lastTurn;
    let all = true; // receive from every socket before the first wait: data may be queued
    let busy = false;
    while (!signal.aborted && this.#lost === null && !channels[0].subscription.closed) {
      if (!all && !busy) await poll.wait(waitMs);
      const everyone = all || single;
      all = false;
      busy = false;
      for (let i = 0; i < channels.length; i++) {
        if (!everyone && poll.revents(i) === 0) continue;
        const subscription = channels[i].subscription;
        for (let b = 0; b < DRAIN_BUDGET; b++) {
          if (subscription.receiveBatch() === 0) break;
          recorders[i].record(subscription.batch);
          if (b === DRAIN_BUDGET - 1) busy = true; // more may be queued: no wait next turn
        }
      }
      const now = performance.now();
      if (now - lastTurn >= everyMs) {
        lastTurn = now;
        if (now - lastCheck >= CHECK_INTERFACE_MS) {
          lastCheck = now;
          this.checkInterface();
        }
        await options.onTurn?.();
        // A socket that never runs dry would starve timers and signal listeners otherwise.
        if (busy) await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  }

  /**
   * Tells every group's statistics the time (for STALLED and the gap log).
   *
   * @param nowNs Monotonic nanoseconds.
   */
  tick(nowNs: bigint): void {
    for (const channel of this.#channels) channel.stats.tick(nowNs);
  }

  /**
   * Checks that the join interface still exists; sets {@linkcode MulticastReceiver.lostInterface}
   * when it does not.
   *
   * @returns The message when lost, else null.
   */
  checkInterface(): string | null {
    if (this.#lost !== null || this.#interfaceIndex === 0) return this.#lost;
    const now = interfaceName(this.#interfaceIndex);
    if (now !== this.#interfaceName) {
      this.#lost = now === null
        ? `the receiving interface ${this.#interfaceName} (index ${this.#interfaceIndex}) is gone`
        : `the receiving interface ${this.#interfaceName} (index ${this.#interfaceIndex}) is gone ` +
          `(the index now names ${now})`;
    }
    return this.#lost;
  }

  /**
   * The totals over every group (sums; the loss percent over all of them).
   *
   * @returns Fresh totals.
   */
  totals(): ReceiverTotals {
    const sum = this.#channels.map((c) => c.stats.totals()).reduce((a, t) => ({
      packets: a.packets + t.packets,
      bytes: a.bytes + t.bytes,
      unique: a.unique + t.unique,
      lost: a.lost + t.lost,
      duplicates: a.duplicates + t.duplicates,
      reordered: a.reordered + t.reordered,
      restarts: a.restarts + t.restarts,
      foreign: a.foreign + t.foreign,
      foreignBytes: a.foreignBytes + t.foreignBytes,
      stalls: a.stalls + t.stalls,
      jumps: a.jumps + t.jumps,
      evictedSenders: a.evictedSenders + t.evictedSenders,
      lossPercent: 0,
    }));
    const expected = sum.lost + sum.unique;
    return { ...sum, lossPercent: expected === 0 ? 0 : (sum.lost / expected) * 100 };
  }

  /** Leaves every group and closes every socket. Safe to call twice. */
  close(): void {
    for (const channel of this.#channels) channel.subscription.close();
  }

  /** Same as {@linkcode MulticastReceiver.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

// The statistics bounds per group for a receiver of `count` groups (see the module doc).
function boundsFor(count: number): { maxSenders: number; dupWindow: number } {
  if (count <= 1) return { maxSenders: 1024, dupWindow: 65536 };
  if (count <= 64) return { maxSenders: 64, dupWindow: 16384 };
  return { maxSenders: 16, dupWindow: 4096 };
}

// One socket per group: raise the soft open-file limit when the groups need it (never above the
// hard limit; an unprivileged process may go up to it).
function raiseOpenFileLimit(groups: number): void {
  const needed = groups + FD_HEADROOM;
  try {
    const { soft, hard } = openFileLimit();
    if (soft >= needed) return;
    setOpenFileLimit(Math.min(hard, Math.max(needed, Math.min(hard, 4096))));
  } catch {
    // Left as it is: the first socket past it fails with EMFILE, explained below.
  }
}

// Turns a limit the kernel hit into a message that says which limit and how to raise it.
function explainLimit(
  error: unknown,
  index: number,
  count: number,
  options: MulticastReceiverOptions,
): unknown {
  if (!(error instanceof SocketError)) return error;
  const at = `joining group ${index + 1} of ${count}`;
  if (error.errnoName === "EMFILE" || error.errnoName === "ENFILE") {
    let limit = "";
    try {
      const { soft, hard } = openFileLimit();
      limit = ` (soft ${soft}, hard ${hard})`;
    } catch {
      // unknown
    }
    return new McastError(
      `Open-file limit reached ${at}: one socket per group needs ${count + FD_HEADROOM} ` +
        `descriptors${limit}; raise it with: ulimit -n ${count + FD_HEADROOM}` +
        (error.errnoName === "ENFILE" ? " (and fs.file-max, the host-wide limit)" : ""),
      { cause: error },
    );
  }
  if (error.errnoName === "ENOBUFS") {
    const sources = (options.sources?.length ?? 0) + (options.exclude?.length ?? 0);
    const v6 = options.groups[0]?.includes(":") ?? false;
    const key = v6 ? "net.ipv6.mld_max_msf" : "net.ipv4.igmp_max_msf";
    const memberships = v6 ? "" : " or net.ipv4.igmp_max_memberships (groups per socket)";
    return new McastError(
      `The kernel refused a membership ${at} (ENOBUFS): ${
        sources > 0
          ? `a filter of ${sources} sources is over ${key} (sources per socket and group)`
          : `a membership limit was reached`
      }; raise it with: sysctl -w ${key}=${Math.max(64, sources)}${memberships}` +
        " (or net.core.optmem_max, the memory for them)",
      { cause: error },
    );
  }
  return error;
}
