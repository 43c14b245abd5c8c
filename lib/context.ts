/**
 * A small owner of multicast publications (mctx-core's `Context`): adds them from a config or a
 * caller-provided socket, numbers them 1, 2, 3 …, sends through one or all of them, hands them
 * out (`getPublication`) or moves them out (`takePublication`), and closes what it still owns.
 *
 * Context counters (publications added/removed, send calls, packets, bytes, errors,
 * would-blocks) are lifetime totals of the sends issued through the context; they do not go
 * down when a publication is removed. `metrics.ts` turns them into snapshots, deltas and rates.
 *
 * @module
 */

import { InvalidValueError, WouldBlockError } from "./errors.ts";
import { type CaptureTime, captureTime, Publication, type SendReport } from "./publication.ts";
import type { PublicationConfig } from "./publication_config.ts";

/** Cumulative context counters, incremented by the context's own methods. */
export interface ContextCounters {
  /** Publications added (from a config or a socket). */
  publicationsAdded: number;
  /** Publications removed or taken out. */
  publicationsRemoved: number;
  /** Sends issued through {@linkcode Context.send} and {@linkcode Context.sendAll}. */
  totalSendCalls: number;
  /** Datagrams sent through the context. */
  totalPacketsSent: number;
  /** Payload bytes sent through the context. */
  totalBytesSent: number;
  /** Sends that failed with an error other than would-block. */
  totalSendErrors: number;
  /** Sends refused because the socket buffer was full. */
  totalWouldBlocks: number;
}

/** A copy of a context's counters, the active publication count, and the capture time. */
export interface ContextCountersSnapshot extends Readonly<ContextCounters> {
  /** Publications owned right now (a gauge, not a counter). */
  readonly activePublications: number;
  /** When the counters were read. */
  readonly capturedAt: CaptureTime;
}

/**
 * Owns a set of publications.
 *
 * @example
 * ```ts ignore
 * import { Context } from "./context.ts";
 * import { PublicationConfig } from "./publication_config.ts";
 * using ctx = new Context();
 * const id = ctx.addPublication(
 *   new PublicationConfig("239.1.2.3", 5000).withOutgoingInterface("127.0.0.1"),
 * );
 * const report = ctx.send(id, new TextEncoder().encode("hello"));
 * report.sourceAddr; // "127.0.0.1"
 * ctx.metricsSnapshot().totalPacketsSent; // 1
 * ```
 */
export class Context implements Disposable {
  readonly #publications = new Map<number, Publication>();
  #nextId = 1;
  readonly #counters: ContextCounters = {
    publicationsAdded: 0,
    publicationsRemoved: 0,
    totalSendCalls: 0,
    totalPacketsSent: 0,
    totalBytesSent: 0,
    totalSendErrors: 0,
    totalWouldBlocks: 0,
  };

  /**
   * Creates a publication socket from `config` (validated first) and keeps it.
   *
   * @example
   * ```ts ignore
   * const id = ctx.addPublication(new PublicationConfig("ff31::8000:1", 5000).withIpv6InterfaceIndex(1));
   * ```
   *
   * @param config The config.
   * @returns The new publication's id.
   * @throws {InvalidValueError} When the config is invalid or already used in this context.
   * @throws {SocketError} When the OS refuses a step.
   */
  addPublication(config: PublicationConfig): number {
    this.#ensureUnique(config);
    return this.#insert(new Publication(config, { id: this.#nextId }));
  }

  /**
   * Adopts a socket the caller created (maybe bound): switches it to non-blocking, checks its
   * family with `getsockname` (a mismatch throws `MismatchError`), then applies the
   * config and connects it. On success the context owns the fd; on failure it stays the caller's.
   *
   * @example
   * ```ts ignore
   * import { openUdpSocket } from "../ffi/socket.ts";
   * const fd = openUdpSocket("IPv4", { nonBlocking: false });
   * const id = ctx.addPublicationWithSocket(new PublicationConfig("239.1.2.3", 5000), fd);
   * ```
   *
   * @param config The config.
   * @param fd The socket.
   * @returns The new publication's id.
   * @throws {MismatchError} When the socket's family or bound address does not fit the config.
   * @throws {InvalidValueError} When the config is invalid or already used in this context.
   * @throws {SocketError} When the OS refuses a step.
   */
  addPublicationWithSocket(config: PublicationConfig, fd: number): number {
    this.#ensureUnique(config);
    return this.#insert(new Publication(config, { id: this.#nextId, fd }));
  }

  /**
   * Removes a publication and closes its socket.
   *
   * @example
   * ```ts ignore
   * ctx.removePublication(id); // true
   * ctx.removePublication(id); // false
   * ```
   *
   * @param id The publication id.
   * @returns True when it existed.
   */
  removePublication(id: number): boolean {
    const publication = this.takePublication(id);
    publication?.close();
    return publication !== undefined;
  }

  /**
   * The publication with this id, still owned by the context (do not close it).
   *
   * @example
   * ```ts ignore
   * ctx.getPublication(id)?.announceTuple();
   * ```
   *
   * @param id The publication id.
   * @returns The publication, or undefined.
   */
  getPublication(id: number): Publication | undefined {
    return this.#publications.get(id);
  }

  /**
   * Moves a publication out of the context: the caller owns it now (wrap it in an
   * `AsyncPublication`, or call `intoParts()` for the bare fd).
   *
   * @example
   * ```ts ignore
   * const moved = ctx.takePublication(id)!;
   * const { fd } = moved.intoParts();
   * ```
   *
   * @param id The publication id.
   * @returns The publication, or undefined.
   */
  takePublication(id: number): Publication | undefined {
    const publication = this.#publications.get(id);
    if (publication === undefined) return undefined;
    this.#publications.delete(id);
    this.#counters.publicationsRemoved++;
    return publication;
  }

  /**
   * Sends one datagram through publication `id`.
   *
   * @example
   * ```ts ignore
   * ctx.send(id, payload).bytesSent;
   * ```
   *
   * @param id The publication id.
   * @param payload The UDP payload.
   * @returns The report.
   * @throws {InvalidValueError} When no publication has this id.
   * @throws {WouldBlockError} When the socket buffer is full.
   * @throws {SocketError} When the kernel refuses the datagram.
   */
  send(id: number, payload: Uint8Array): SendReport {
    const publication = this.#publications.get(id);
    if (publication === undefined) {
      throw new InvalidValueError("publication id", id, "the id of a publication in this context");
    }
    return this.#sendOne(publication, payload);
  }

  /**
   * Sends the same datagram through every publication, in id order. Stops at the first failure
   * and throws it; the reports made before it are in `out` when one was passed.
   *
   * @example
   * ```ts ignore
   * const reports = ctx.sendAll(payload);
   * reports.length === ctx.size; // true
   * ```
   *
   * @param payload The UDP payload.
   * @param out Where reports are pushed (default: a new array).
   * @returns `out`.
   * @throws {WouldBlockError} When a socket buffer is full.
   * @throws {SocketError} When the kernel refuses a datagram.
   */
  sendAll(payload: Uint8Array, out: SendReport[] = []): SendReport[] {
    for (const publication of this.#publications.values()) {
      out.push(this.#sendOne(publication, payload));
    }
    return out;
  }

  /**
   * How many publications the context owns.
   *
   * @returns The count.
   */
  get size(): number {
    return this.#publications.size;
  }

  /**
   * The ids of the publications the context owns, in creation order.
   *
   * @returns The ids.
   */
  get ids(): number[] {
    return [...this.#publications.keys()];
  }

  /**
   * The live counters (not a copy).
   *
   * @returns The counters.
   */
  get counters(): Readonly<ContextCounters> {
    return this.#counters;
  }

  /**
   * A copy of the counters with the active publication count and the capture time.
   *
   * @example
   * ```ts ignore
   * ctx.metricsSnapshot().activePublications; // 1
   * ```
   *
   * @returns The snapshot.
   */
  metricsSnapshot(): ContextCountersSnapshot {
    return Object.freeze({
      ...this.#counters,
      activePublications: this.#publications.size,
      capturedAt: Object.freeze(captureTime()),
    });
  }

  /**
   * Closes every publication the context still owns. The context stays usable.
   *
   * @example
   * ```ts ignore
   * ctx.close();
   * ctx.size; // 0
   * ```
   */
  close(): void {
    for (const id of [...this.#publications.keys()]) this.removePublication(id);
  }

  /** Same as {@linkcode Context.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #sendOne(publication: Publication, payload: Uint8Array): SendReport {
    const counters = this.#counters;
    counters.totalSendCalls++;
    try {
      const report = publication.send(payload);
      counters.totalPacketsSent++;
      counters.totalBytesSent += report.bytesSent;
      return report;
    } catch (error) {
      if (error instanceof WouldBlockError) counters.totalWouldBlocks++;
      else counters.totalSendErrors++;
      throw error;
    }
  }

  #ensureUnique(config: PublicationConfig): void {
    for (const [id, publication] of this.#publications) {
      if (publication.config.equals(config)) {
        throw new InvalidValueError(
          "publication config",
          config.toJSON(),
          `a config not already used by publication ${id} of this context`,
        );
      }
    }
  }

  #insert(publication: Publication): number {
    this.#nextId++;
    this.#publications.set(publication.id, publication);
    this.#counters.publicationsAdded++;
    return publication.id;
  }
}
