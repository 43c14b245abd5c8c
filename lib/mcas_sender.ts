/**
 * An MCAS stream over one {@linkcode Publication}: datagrams prepared once in a batch the
 * publication owns, and per send only the sequence number and timestamp of the slots used are
 * rewritten ({@linkcode stampMcas}: no allocation per packet, one clock reading per batch). Give
 * its {@linkcode McasSender.send} to the pacer (`pace()` in `pacer.ts`) and it is what
 * `mcast-send` runs.
 *
 * A full socket buffer waits for writability; a datagram the kernel refuses is counted by the
 * publication and retried after a short pause, and the run ends (the error is thrown) when the
 * error cannot be fixed by retrying or has lasted 5 seconds without one success.
 *
 * @module
 */

import { InvalidValueError, SocketError } from "./errors.ts";
import { type McasEncoder, stampMcas } from "./mcas.ts";
import type { MessageBatch, Publication } from "./publication.ts";
import { monotonicNs } from "../ffi/clock.ts";
import { CAPABILITIES } from "../ffi/constants.ts";

/** Errors that retrying cannot fix: the run ends at once. */
const FATAL_ERRNOS: ReadonlySet<string> = new Set([
  "EMSGSIZE",
  "EACCES",
  "EPERM",
  "EINVAL",
  "EBADF",
  "ENODEV",
  "ENXIO",
]);

/** Options of {@linkcode McasSender}. */
export interface McasSenderOptions {
  /**
   * How long a send error may last without one success before the run ends, nanoseconds.
   *
   * @default {5_000_000_000n}
   */
  giveUpNs?: bigint;
  /**
   * How long to pause after a refused send before the next try, milliseconds.
   *
   * @default {10}
   */
  retryMs?: number;
  /**
   * Groups to send to in turn (round-robin, datagram by datagram), each with the publication's
   * port and egress; empty or absent: the publication's own group only. Each group gets its own
   * sequence from 0 (a receiver of one group sees no gaps): the k-th datagram of the run goes to
   * group `k mod n` with sequence number `floor(k / n)`.
   *
   * @default {[]}
   */
  groups?: readonly string[];
}

/**
 * Sends MCAS datagrams from a prepared batch of `slots` copies of the encoder's datagram.
 *
 * @example Send 100 datagrams at 1000 pps
 * ```ts ignore
 * import { McasEncoder, McasSender, pace, pacingPlan, Publication, PublicationConfig } from "../mod.ts";
 * using pub = new Publication(new PublicationConfig("239.1.2.3", 19779).withOutgoingInterface("127.0.0.1"));
 * const plan = pacingPlan(1000);
 * const sender = new McasSender(pub, new McasEncoder(200, { ttl: 1 }), plan.batch);
 * await pace({ plan, count: 100, send: sender.send, onYield: sender.yield });
 * sender.sequence; // 100
 * ```
 */
export class McasSender {
  readonly #pub: Publication;
  readonly #batch: MessageBatch;
  readonly #views: DataView[];
  readonly #slots: number;
  readonly #giveUpNs: bigint;
  readonly #retryMs: number;
  readonly #clock = new DataView(new ArrayBuffer(8));
  readonly #destinations: readonly Uint8Array[];
  #cursor = 0;
  #sent = 0;
  #errorSinceNs: bigint | null = null;

  /**
   * Prepares the batch.
   *
   * @param pub The publication to send through (it keeps owning its socket).
   * @param encoder The datagram to send: size, TTL, DSCP and sender id.
   * @param slots Datagrams per send call (the pacer's batch), 1 to 1024.
   * @param options When a persistent error ends the run.
   */
  constructor(
    pub: Publication,
    encoder: McasEncoder,
    slots: number,
    options: McasSenderOptions = {},
  ) {
    this.#pub = pub;
    this.#slots = slots;
    this.#giveUpNs = options.giveUpNs ?? 5_000_000_000n;
    this.#retryMs = options.retryMs ?? 10;
    const datagram = encoder.encode(0n, 0n);
    const groups = options.groups ?? [];
    this.#destinations = groups.length > 1 ? groups.map((g) => pub.destinationFor(g)) : [];
    if (this.#destinations.length > 0 && !CAPABILITIES.batchedMessages) {
      throw new InvalidValueError(
        "groups",
        groups.length,
        "one group on this OS (several need sendmmsg, for a destination per datagram)",
      );
    }
    this.#batch = pub.prepareBatch(slots, datagram.length, {
      withNames: this.#destinations.length > 0,
    });
    this.#views = [];
    for (let i = 0; i < slots; i++) {
      const payload = this.#batch.payloads[i];
      payload.set(datagram);
      this.#batch.setLength(i, datagram.length);
      this.#views.push(new DataView(payload.buffer, payload.byteOffset, payload.byteLength));
    }
  }

  /** Datagrams sent so far, over all groups (with one group: the next sequence number). */
  get sent(): number {
    return this.#sent;
  }

  /**
   * The sequence number of the next datagram: with one group the datagrams sent so far, with
   * several that group's own count.
   */
  get sequence(): number {
    const groups = this.#destinations.length;
    return groups === 0 ? this.#sent : Math.floor(this.#sent / groups);
  }

  /**
   * Sends up to `max` datagrams (at most the batch size); resolves to how many went. A full
   * socket buffer resolves after waiting for room; a refused send resolves to 0 after a pause.
   *
   * @param max The most datagrams to send now.
   * @returns How many were sent.
   * @throws {SocketError} When a send error cannot be fixed by retrying, or lasted too long.
   */
  send = (max: number): number | Promise<number> => {
    const n = max < this.#slots ? max : this.#slots;
    this.#stamp(n);
    const counters = this.#pub.counters;
    const wouldBlocks = counters.wouldBlocks;
    let sent: number;
    try {
      sent = CAPABILITIES.batchedMessages
        ? this.#pub.sendPrepared(this.#batch, n)
        : this.#sendEach(n);
    } catch (error) {
      if (!(error instanceof SocketError)) throw error;
      return this.#refused(error);
    }
    this.#sent += sent;
    if (this.#destinations.length > 0) {
      this.#cursor = (this.#cursor + sent) % this.#destinations.length;
    }
    if (sent > 0) this.#errorSinceNs = null;
    if (sent < n && counters.wouldBlocks !== wouldBlocks) {
      return this.#pub.waitWritable(100).then(() => sent);
    }
    return sent; // a partial send without would-block: the error comes back on the next call
  };

  /**
   * Lets the event loop run (a zero-timeout poll of the socket), for the pacer's `onYield`.
   *
   * @returns A promise that settles on the next turn.
   */
  yield = (): Promise<boolean> => this.#pub.waitWritable(0);

  #stamp(n: number): void {
    const clock = this.#clock;
    clock.setBigUint64(0, monotonicNs());
    const high = clock.getUint32(0);
    const low = clock.getUint32(4);
    const destinations = this.#destinations;
    if (destinations.length === 0) {
      let sequence = this.#sent;
      for (let i = 0; i < n; i++, sequence++) stampMcas(this.#views[i], sequence, high, low);
      return;
    }
    const groups = destinations.length;
    let sequence = Math.floor(this.#sent / groups);
    for (let i = 0, d = this.#cursor; i < n; i++) {
      stampMcas(this.#views[i], sequence, high, low);
      this.#batch.setName(i, destinations[d]);
      if (++d === groups) {
        d = 0;
        sequence++;
      }
    }
  }

  #sendEach(n: number): number {
    let sent = 0;
    while (sent < n && this.#pub.trySend(this.#batch.payloads[sent]) !== null) sent++;
    return sent;
  }

  #refused(error: SocketError): Promise<number> {
    const now = monotonicNs();
    this.#errorSinceNs ??= now;
    if (FATAL_ERRNOS.has(error.errnoName) || now - this.#errorSinceNs >= this.#giveUpNs) {
      throw error;
    }
    return new Promise((resolve) => setTimeout(() => resolve(0), this.#retryMs));
  }
}
