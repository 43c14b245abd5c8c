/**
 * The querier of a LAN, heard: {@linkcode QuerierWatcher} listens for IGMP queries (a raw
 * IGMP socket) or MLD queries (a raw ICMPv6 socket passing type 130 only) on one interface and
 * reports the querier's address, version and when it was last heard — CONTRACT's `querier`
 * `{ address, version, last_seen_s }`. Root only (raw sockets need CAP_NET_RAW).
 *
 * The kernel hands these sockets IGMP or ICMPv6 packets only, so listening for the whole run of
 * a receiver costs its UDP path nothing. When several queriers are heard, the elected one is
 * reported: the lowest address among those heard within the Other Querier Present Interval
 * (255 s, RFC 3376 §8.5), else the one heard last.
 *
 * @module
 */

import { RawSocket } from "../../ffi/raw_socket.ts";
import { PLATFORM } from "../../ffi/constants.ts";
import { type AddressFamily, formatAddress, parseAddress } from "../address.ts";
import { PermissionError, SocketError } from "../errors.ts";
import { round } from "../_numbers.ts";
import type { Finding } from "./finding.ts";
import { parseIgmpQuery, parseMldQuery } from "./packet_headers.ts";
import { noQueryHeard, type QuerierObservation } from "./version_check.ts";

/** The querier as CONTRACT's receive JSON carries it. */
export interface QuerierState {
  /** Its address. */
  address: string;
  /** IGMP 1, 2, 3 or MLD 1, 2: the version of its last query. */
  version: number;
  /** Seconds since its last query. */
  last_seen_s: number;
}

/** Options of {@linkcode QuerierWatcher.start}. */
export interface QuerierWatcherOptions {
  /**
   * How often the listener wakes to see whether it was stopped, in milliseconds.
   *
   * @default {250}
   */
  pollMs?: number;
}

/** Other Querier Present Interval (RFC 3376 §8.5, RFC 3810 §9.5), in milliseconds. */
const OTHER_QUERIER_MS = 255_000;

interface Heard {
  version: number;
  lastMs: number;
  queries: number;
}

/**
 * Listens for membership queries on one interface until stopped.
 *
 * @example Who queries on eth1? (root)
 * ```ts ignore
 * import { QuerierWatcher } from "./querier_watcher.ts";
 * await using watcher = QuerierWatcher.start("eth1", "IPv4");
 * await new Promise((r) => setTimeout(r, 10_000));
 * console.log(watcher.querier); // { address: "10.0.0.254", version: 2, last_seen_s: 3.2 } or null
 * ```
 */
export class QuerierWatcher implements AsyncDisposable {
  /** The interface listened on. */
  readonly interface: string;
  /** IPv4 (IGMP) or IPv6 (MLD). */
  readonly family: AddressFamily;
  readonly #socket: RawSocket;
  readonly #startedMs = performance.now();
  readonly #heard = new Map<string, Heard>();
  readonly #loop: Promise<void>;
  #stopped = false;

  private constructor(iface: string, family: AddressFamily, socket: RawSocket, pollMs: number) {
    this.interface = iface;
    this.family = family;
    this.#socket = socket;
    this.#loop = this.#listen(pollMs);
  }

  /**
   * Starts listening.
   *
   * @param iface The interface name.
   * @param family IPv4 (IGMP queries) or IPv6 (MLD queries).
   * @param options How often to look for a stop.
   * @returns The running watcher; stop it with {@linkcode QuerierWatcher.stop}.
   * @throws {PermissionError} Without root (CAP_NET_RAW).
   * @throws {SocketError} When the socket cannot be opened for another reason (no such interface).
   */
  static start(
    iface: string,
    family: AddressFamily,
    options: QuerierWatcherOptions = {},
  ): QuerierWatcher {
    let socket: RawSocket;
    try {
      socket = family === "IPv4"
        ? RawSocket.open("igmp", { device: iface })
        : RawSocket.open("icmpv6", { device: iface, icmpv6Types: [130] });
    } catch (error) {
      if (error instanceof SocketError && error.errno === PLATFORM.errno.EPERM) {
        throw new PermissionError(
          `listen for ${family === "IPv4" ? "IGMP" : "MLD"} queries on ${iface} (needs root)`,
          { cause: error },
        );
      }
      throw error;
    }
    return new QuerierWatcher(iface, family, socket, options.pollMs ?? 250);
  }

  /** Seconds since the watcher started. */
  get listenedS(): number {
    return round((performance.now() - this.#startedMs) / 1000, 1);
  }

  /** Queries heard so far, from every querier. */
  get queries(): number {
    let n = 0;
    for (const heard of this.#heard.values()) n += heard.queries;
    return n;
  }

  /** The elected querier heard so far (see the module doc), or null when none was heard. */
  get querier(): QuerierState | null {
    const now = performance.now();
    let best: [string, Heard] | null = null;
    let latest: [string, Heard] | null = null;
    for (const entry of this.#heard) {
      const [address, heard] = entry;
      if (latest === null || heard.lastMs > latest[1].lastMs) latest = entry;
      if (now - heard.lastMs > OTHER_QUERIER_MS) continue;
      if (best === null || compareAddresses(address, best[0]) < 0) best = entry;
    }
    const chosen = best ?? latest;
    if (chosen === null) return null;
    return {
      address: chosen[0],
      version: chosen[1].version,
      last_seen_s: round((now - chosen[1].lastMs) / 1000, 1),
    };
  }

  /**
   * What was heard, in the form `checkReception` takes (its `querier` option).
   *
   * @returns The querier (or null) and how long the watcher has listened.
   */
  observation(): QuerierObservation {
    const querier = this.querier;
    return {
      querier: querier === null ? null : { address: querier.address, version: querier.version },
      listenedS: this.listenedS,
    };
  }

  /**
   * The hint for a stall when no querier has been heard since the watcher started (the join):
   * a `no-querier` warning; null once one was heard.
   *
   * @returns The finding, or null.
   */
  noQuerierFinding(): Finding | null {
    return this.#heard.size > 0 ? null : noQueryHeard(this.family, this.interface, this.listenedS);
  }

  /** Stops listening and closes the socket (within one poll interval). Safe to call twice. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  /** Same as {@linkcode QuerierWatcher.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #listen(pollMs: number): Promise<void> {
    const buffer = new Uint8Array(1500);
    try {
      while (!this.#stopped) {
        if (!await this.#socket.wait(pollMs)) continue;
        for (let d = this.#socket.receive(buffer); d !== null; d = this.#socket.receive(buffer)) {
          const bytes = buffer.subarray(0, d.length);
          const query = this.family === "IPv4"
            ? parseIgmpQuery(bytes)
            : parseMldQuery(bytes, formatAddress(d.source.bytes));
          if (query === null) continue;
          const heard = this.#heard.get(query.source);
          const now = performance.now();
          if (heard === undefined) {
            this.#heard.set(query.source, { version: query.version, lastMs: now, queries: 1 });
          } else {
            heard.version = query.version;
            heard.lastMs = now;
            heard.queries++;
          }
        }
      }
    } finally {
      this.#socket.close();
    }
  }
}

function compareAddresses(a: string, b: string): number {
  const x = parseAddress(a).bytes;
  const y = parseAddress(b).bytes;
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
