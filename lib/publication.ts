/**
 * One ready-to-send multicast publication: a non-blocking UDP socket, configured and `connect`ed
 * to its group before the constructor returns (mctx-core's `Publication`).
 *
 * IPv4: bind the source address and/or port when set, IP_MULTICAST_IF from the outgoing
 * interface address, IP_MULTICAST_TTL, IP_MULTICAST_LOOP, IP_TOS from the DSCP, connect.
 *
 * IPv6, exactly as mctx-core does it:
 *
 * - a source address is bound exactly, and resolved to its interface index for
 *   IPV6_MULTICAST_IF (a link-local source uses its `%zone` or the explicit index when given);
 * - an outgoing-interface address without a source is bound as the source (auto-bind) and its
 *   interface selects egress;
 * - an interface index alone selects egress without inventing a source;
 * - a source on another interface than the explicit one is refused ({@linkcode MismatchError});
 * - the destination keeps the egress index as scope id only for interface- and link-local groups
 *   (`ff01` `ff02` `ff11` `ff12` `ff31` `ff32` …); wider scopes get scope id 0;
 * - IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP, IPV6_TCLASS; IPV6_V6ONLY on sockets it creates.
 *
 * A send that finds the socket buffer full is never a silent drop: {@linkcode Publication.send}
 * throws {@linkcode WouldBlockError}, {@linkcode Publication.trySend} returns null, and the
 * would-block counter goes up. Counters are plain number fields (no cost beyond an increment);
 * `metrics.ts` reads them.
 *
 * @module
 */

import { ClosedError, InvalidValueError } from "./errors.ts";
import { PublicationConfig } from "./publication_config.ts";
import { type Endpoint, formatEndpoint } from "./endpoint.ts";
import { adoptSocket, configureIpv4, configureIpv6, toEndpoint } from "./_publication_setup.ts";
import { monotonicNs } from "./clock.ts";
import { CAPABILITIES, PLATFORM } from "../ffi/constants.ts";
import { socketError } from "../ffi/errno.ts";
import { MessageBatch } from "../ffi/msghdr.ts";
import { UdpSocket, WOULD_BLOCK } from "../ffi/socket.ts";

/**
 * What one successful send did (mctx-core's `SendReport`). Reports are frozen; a publication
 * hands out the same object again while the sent size does not change, so steady sends do not
 * allocate.
 */
export interface SendReport {
  /** The publication that sent. */
  readonly publicationId: number;
  /** The group endpoint the datagram went to (with the scope id actually used). */
  readonly destination: Endpoint;
  /** The socket's local endpoint. */
  readonly localAddr: Endpoint;
  /** The source address receivers see (the local endpoint's address). */
  readonly sourceAddr: string;
  /** Bytes of UDP payload sent. */
  readonly bytesSent: number;
}

/** Cumulative per-publication counters, incremented in the send paths (`metrics.ts` reads them). */
export interface PublicationCounters {
  /** Calls of `send`, `trySend`, `sendBatch` and `sendPrepared`. */
  sendCalls: number;
  /** Datagrams the kernel accepted. */
  packetsSent: number;
  /** Payload bytes the kernel accepted. */
  bytesSent: number;
  /** Sends that failed with an error other than would-block. */
  sendErrors: number;
  /** Sends (or batches) stopped because the socket buffer was full (EAGAIN). */
  wouldBlocks: number;
}

/** When a metrics snapshot was taken: monotonic clock for intervals, wall clock for logs. */
export interface CaptureTime {
  /** CLOCK_MONOTONIC in nanoseconds. */
  readonly monotonicNs: bigint;
  /** Wall clock, milliseconds since the Unix epoch. */
  readonly wallClockMs: number;
}

/** A copy of a publication's counters with the time it was taken. */
export interface PublicationCountersSnapshot extends Readonly<PublicationCounters> {
  /** The publication. */
  readonly publicationId: number;
  /** When the counters were read. */
  readonly capturedAt: CaptureTime;
}

/** What {@linkcode Publication.intoParts} hands over: the caller now owns `fd`. */
export interface PublicationParts {
  /** The publication id. */
  readonly id: number;
  /** Its config. */
  readonly config: PublicationConfig;
  /** The configured, connected, non-blocking socket; the caller must close it. */
  readonly fd: number;
}

/** Options of the {@linkcode Publication} constructor. */
export interface PublicationOptions {
  /**
   * The publication id. A `Context` numbers its publications 1, 2, 3 …; a standalone
   * publication gets the next number of a process-wide counter.
   *
   * @default {the next process-wide id}
   */
  id?: number;
  /**
   * A socket the caller created (and maybe bound). It is switched to non-blocking, its family is
   * checked against the config with `getsockname`, then the config is applied. On success the
   * publication owns it; when the constructor throws, it stays the caller's.
   *
   * @default {a new socket}
   */
  fd?: number;
}

export type { MessageBatch } from "../ffi/msghdr.ts";
export { type Endpoint, formatEndpoint };

const BATCH_SLOTS = 64;
const MAX_PAYLOAD = 65535;
let nextStandaloneId = 1;

/**
 * Captures the current time on both clocks.
 *
 * @example
 * ```ts ignore
 * import { captureTime } from "./publication.ts";
 * const now = captureTime();
 * now.monotonicNs > 0n; // true
 * ```
 *
 * @returns Monotonic nanoseconds and wall-clock milliseconds.
 */
export function captureTime(): CaptureTime {
  return { monotonicNs: monotonicNs(), wallClockMs: Date.now() };
}

/**
 * A configured, connected, non-blocking multicast sender socket.
 *
 * @example Send on the loopback interface
 * ```ts ignore
 * import { Publication } from "./publication.ts";
 * import { PublicationConfig } from "./publication_config.ts";
 * using pub = new Publication(
 *   new PublicationConfig("239.1.2.3", 5000).withOutgoingInterface("127.0.0.1"),
 * );
 * const report = pub.send(new TextEncoder().encode("hello"));
 * report.bytesSent; // 5
 * pub.announceTuple(); // ["127.0.0.1", "239.1.2.3", 5000]
 * ```
 */
export class Publication implements Disposable {
  /** The publication id. */
  readonly id: number;
  /** The validated config. */
  readonly config: PublicationConfig;
  /** The group endpoint, with the scope id the socket is connected with. */
  readonly destination: Endpoint;
  /** The socket's local endpoint after connect (the source receivers see). */
  readonly localAddr: Endpoint;
  /** The egress interface index chosen (0 when the routing table decides). */
  readonly interfaceIndex: number;

  readonly #socket: UdpSocket;
  #state: "open" | "closed" | "moved" = "open";
  readonly #counters: PublicationCounters = {
    sendCalls: 0,
    packetsSent: 0,
    bytesSent: 0,
    sendErrors: 0,
    wouldBlocks: 0,
  };
  #lastReport: SendReport | null = null;
  #batch: MessageBatch | null = null;

  /**
   * Validates `config`, opens (or adopts) the socket, applies the config and connects it.
   *
   * @param config The publication config.
   * @param options The id and a caller-provided socket.
   * @throws {InvalidValueError} When the config is invalid or names an interface (zone) this
   * host does not have.
   * @throws {MismatchError} When a caller-provided socket is of the other family or bound
   * elsewhere, or an IPv6 source lives on another interface than the one chosen.
   * @throws {SocketError} When the OS refuses a step (bind, setsockopt, connect); a source or
   * interface address this host does not have is EADDRNOTAVAIL, for IPv6 as for IPv4.
   */
  constructor(config: PublicationConfig, options: PublicationOptions = {}) {
    if (!(config instanceof PublicationConfig)) {
      throw new InvalidValueError("config", config, "a PublicationConfig");
    }
    config.validate();
    this.id = options.id ?? nextStandaloneId++;
    this.config = config;
    const family = config.family;
    const existing = options.fd !== undefined;
    if (existing && (!Number.isInteger(options.fd) || (options.fd as number) < 0)) {
      throw new InvalidValueError("socket fd", options.fd, "a non-negative integer");
    }
    const socket = existing ? UdpSocket.adopt(options.fd as number) : UdpSocket.open(family);
    try {
      const setup = existing ? adoptSocket(socket, config) : { bound: false };
      const configured = family === "IPv4"
        ? configureIpv4(socket, config, setup.bound)
        : configureIpv6(socket, config, setup.bound, existing);
      this.destination = configured.destination;
      this.interfaceIndex = configured.interfaceIndex;
      this.localAddr = Object.freeze(toEndpoint(socket.localEndpoint()));
    } catch (error) {
      if (existing) socket.release();
      else socket.close();
      throw error;
    }
    socket.label = formatEndpoint(this.destination);
    this.#socket = socket;
  }

  /**
   * The socket's file descriptor, for event loops (poll it for POLLOUT). Do not close it; use
   * {@linkcode Publication.close} or {@linkcode Publication.intoParts}.
   *
   * @returns The fd.
   * @throws {ClosedError} After close or intoParts.
   */
  get fd(): number {
    this.#assertOpen();
    return this.#socket.fd;
  }

  /**
   * Waits until the socket buffer has room for a datagram (`poll` for POLLOUT, off the JS
   * thread), or `timeoutMs` passes.
   *
   * @example
   * ```ts ignore
   * while (pub.trySend(payload) === null) await pub.waitWritable(100);
   * ```
   *
   * @param timeoutMs Milliseconds (-1: no limit).
   * @returns True when writable, false on timeout.
   * @throws {ClosedError} After close or intoParts.
   */
  async waitWritable(timeoutMs: number): Promise<boolean> {
    this.#assertOpen();
    return (await this.#socket.wait(PLATFORM.POLLOUT, timeoutMs)) !== 0;
  }

  /** True until {@linkcode Publication.close} or {@linkcode Publication.intoParts}. */
  get isOpen(): boolean {
    return this.#state === "open";
  }

  /**
   * The live counters (not a copy): send calls, packets, bytes, errors, would-blocks.
   *
   * @returns The counters.
   */
  get counters(): Readonly<PublicationCounters> {
    return this.#counters;
  }

  /**
   * The source address receivers see.
   *
   * @returns The local address, canonical.
   */
  get sourceAddr(): string {
    return this.localAddr.address;
  }

  /**
   * Sends one datagram.
   *
   * @example
   * ```ts ignore
   * const report = pub.send(new Uint8Array(100));
   * report.bytesSent; // 100
   * ```
   *
   * @param payload The UDP payload.
   * @returns The report.
   * @throws {WouldBlockError} When the socket buffer is full: nothing was sent.
   * @throws {SocketError} When the kernel refuses the datagram (EMSGSIZE, ENETUNREACH …).
   * @throws {ClosedError} After close or intoParts.
   */
  send(payload: Uint8Array): SendReport {
    const report = this.trySend(payload);
    if (report !== null) return report;
    throw socketError(
      PLATFORM.errno.EAGAIN,
      "send",
      `${payload.length} bytes to ${formatEndpoint(this.destination)}`,
    );
  }

  /**
   * Sends one datagram, returning null instead of throwing when the socket buffer is full (the
   * would-block counter still counts it). For hot loops: no exception, no allocation while the
   * payload size stays the same.
   *
   * @example
   * ```ts ignore
   * while (pub.trySend(payload) === null) await pub.waitWritable(100);
   * ```
   *
   * @param payload The UDP payload.
   * @returns The report, or null on would-block.
   * @throws {SocketError} When the kernel refuses the datagram.
   * @throws {ClosedError} After close or intoParts.
   */
  trySend(payload: Uint8Array): SendReport | null {
    if (this.#state !== "open") this.#assertOpen();
    const counters = this.#counters;
    counters.sendCalls++;
    let sent: number;
    try {
      sent = this.#socket.send(payload);
    } catch (error) {
      counters.sendErrors++;
      throw error;
    }
    if (sent === WOULD_BLOCK) {
      counters.wouldBlocks++;
      return null;
    }
    counters.packetsSent++;
    counters.bytesSent += sent;
    const last = this.#lastReport;
    if (last !== null && last.bytesSent === sent) return last;
    return this.#lastReport = Object.freeze({
      publicationId: this.id,
      destination: this.destination,
      localAddr: this.localAddr,
      sourceAddr: this.localAddr.address,
      bytesSent: sent,
    });
  }

  /**
   * Sends several datagrams with as few `sendmmsg` calls as possible. The payloads are copied
   * into buffers the publication owns (kept for its life, grown when a payload is larger).
   * When the socket buffer fills part-way, the datagrams sent so far count and the rest are not
   * sent: the return value says how many went (retry from there).
   *
   * @example
   * ```ts ignore
   * const sent = pub.sendBatch([a, b, c]); // 3, or fewer when the buffer filled
   * ```
   *
   * @param payloads The UDP payloads, each at most 65535 bytes.
   * @returns How many were sent, from the first; at least 1 when `payloads` is not empty.
   * @throws {WouldBlockError} When not even the first could be sent.
   * @throws {SocketError} When the kernel refuses the first datagram.
   * @throws {ClosedError} After close or intoParts.
   */
  sendBatch(payloads: readonly Uint8Array[]): number {
    this.#assertOpen();
    if (payloads.length === 0) return 0;
    if (!CAPABILITIES.batchedMessages) return this.#sendEach(payloads);
    let largest = 0;
    for (const payload of payloads) if (payload.length > largest) largest = payload.length;
    if (largest > MAX_PAYLOAD) {
      throw new InvalidValueError("payload size", largest, `at most ${MAX_PAYLOAD} bytes`);
    }
    let batch = this.#batch;
    if (batch === null || batch.payloadSize < largest) {
      const size = Math.min(MAX_PAYLOAD, Math.max(2048, Math.ceil(largest / 1024) * 1024));
      batch = this.#batch = new MessageBatch(BATCH_SLOTS, size);
    }
    this.#counters.sendCalls++;
    let total = 0;
    while (total < payloads.length) {
      const n = Math.min(batch.count, payloads.length - total);
      for (let i = 0; i < n; i++) {
        const payload = payloads[total + i];
        batch.payloads[i].set(payload);
        batch.setLength(i, payload.length);
      }
      const sent = this.#sendSlots(batch, n, total === 0);
      total += sent;
      if (sent < n) break;
    }
    if (total === 0) {
      throw socketError(PLATFORM.errno.EAGAIN, "sendmmsg", `${payloads.length} datagrams`);
    }
    return total;
  }

  /**
   * A batch for the zero-copy path: fill `batch.payloads[i]`, call `batch.setLength(i, bytes)`,
   * then {@linkcode Publication.sendPrepared}. The caller keeps the batch and reuses it.
   *
   * @example
   * ```ts ignore
   * const batch = pub.prepareBatch(64, 1200);
   * for (let i = 0; i < 64; i++) batch.setLength(i, 1200);
   * const sent = pub.sendPrepared(batch, 64);
   * ```
   *
   * @param count Slots, 1 to 1024.
   * @param size Bytes per slot, 1 to 65535.
   * @returns The batch.
   * @throws {InvalidValueError} When a size is out of range.
   */
  prepareBatch(count: number, size: number): MessageBatch {
    if (!Number.isInteger(count) || count < 1 || count > 1024) {
      throw new InvalidValueError("batch count", count, "an integer from 1 to 1024");
    }
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAYLOAD) {
      throw new InvalidValueError("batch payload size", size, "an integer from 1 to 65535");
    }
    return new MessageBatch(count, size);
  }

  /**
   * Sends the first `n` slots of a batch from {@linkcode Publication.prepareBatch} with
   * `sendmmsg`, resuming after partial sends. Never throws for a full buffer: returns how many
   * went, 0 when the socket would block (the would-block counter counts it).
   *
   * @example
   * ```ts ignore
   * let done = 0;
   * while (done < 64) {
   *   const sent = pub.sendPrepared(batch, 64); // from slot 0; see sendBatch for resuming
   *   if (sent === 0) await pub.waitWritable(100);
   *   done += sent;
   * }
   * ```
   *
   * @param batch The prepared batch.
   * @param n How many slots, from slot 0.
   * @returns Datagrams sent.
   * @throws {SocketError} When the kernel refuses the first datagram.
   * @throws {ClosedError} After close or intoParts.
   */
  sendPrepared(batch: MessageBatch, n: number): number {
    this.#assertOpen();
    if (!Number.isInteger(n) || n < 0 || n > batch.count) {
      throw new InvalidValueError("batch length", n, `an integer from 0 to ${batch.count}`);
    }
    if (n === 0) return 0;
    if (!CAPABILITIES.batchedMessages) {
      throw new InvalidValueError(
        "send path",
        "sendPrepared",
        "sendBatch: this OS has no sendmmsg",
      );
    }
    this.#counters.sendCalls++;
    return this.#sendSlots(batch, n, true);
  }

  /**
   * The `[source, group, port]` tuple an announce message carries (mctx-core's
   * `announce_tuple`): the bound source as receivers see it, the canonical group, the port.
   *
   * @example
   * ```ts ignore
   * pub.announceTuple(); // ["10.0.0.1", "232.1.1.1", 5000]
   * ```
   *
   * @returns Source, group, port.
   */
  announceTuple(): [source: string, group: string, port: number] {
    return [this.localAddr.address, this.destination.address, this.destination.port];
  }

  /**
   * A copy of the counters with the time they were read (metrics live in `metrics.ts`).
   *
   * @example
   * ```ts ignore
   * pub.metricsSnapshot().packetsSent; // 1
   * ```
   *
   * @returns The snapshot.
   */
  metricsSnapshot(): PublicationCountersSnapshot {
    return Object.freeze({
      publicationId: this.id,
      ...this.#counters,
      capturedAt: Object.freeze(captureTime()),
    });
  }

  /**
   * Moves the socket out: the caller owns the returned fd (configured, connected, non-blocking)
   * and must close it; this publication is closed without closing it.
   *
   * @example
   * ```ts ignore
   * const { id, config, fd } = pub.intoParts();
   * ```
   *
   * @returns Id, config and fd.
   * @throws {ClosedError} After close or intoParts.
   */
  intoParts(): PublicationParts {
    this.#assertOpen();
    this.#state = "moved";
    this.#batch = null;
    const fd = this.#socket.release();
    return Object.freeze({ id: this.id, config: this.config, fd });
  }

  /**
   * Closes the socket. Safe to call twice, and after intoParts (then it does nothing).
   *
   * @example
   * ```ts ignore
   * pub.close();
   * pub.close(); // no-op
   * ```
   */
  close(): void {
    if (this.#state !== "open") return;
    this.#state = "closed";
    this.#batch = null;
    this.#socket.close();
  }

  /** Same as {@linkcode Publication.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #assertOpen(): void {
    if (this.#state === "closed") throw new ClosedError(`publication ${this.id}`);
    if (this.#state === "moved") {
      throw new ClosedError(`publication ${this.id} (its socket was moved out by intoParts)`);
    }
  }

  // sendmmsg over slots [0, n), resuming after partial sends; returns the count sent.
  #sendSlots(batch: MessageBatch, n: number, throwOnFirst: boolean): number {
    const counters = this.#counters;
    let sent = 0;
    while (sent < n) {
      let result: number;
      try {
        result = this.#socket.sendMessages(batch, sent, n - sent);
      } catch (error) {
        if (sent > 0 || !throwOnFirst) break; // the error comes back on the next call
        counters.sendErrors++;
        throw error;
      }
      if (result === WOULD_BLOCK) {
        counters.wouldBlocks++;
        break;
      }
      for (let i = sent; i < sent + result; i++) counters.bytesSent += batch.receivedLength(i);
      sent += result;
    }
    counters.packetsSent += sent;
    return sent;
  }

  #sendEach(payloads: readonly Uint8Array[]): number {
    let sent = 0;
    for (const payload of payloads) {
      if (this.trySend(payload) === null) break;
      sent++;
    }
    if (sent === 0) {
      throw socketError(PLATFORM.errno.EAGAIN, "send", `${payloads.length} datagrams`);
    }
    return sent;
  }
}
