/**
 * The async adapter (mctx-core's `TokioPublication`): wraps a publication that was moved out of
 * its context, and turns "would block" into waiting: `await send(payload)` retries after `poll`
 * reports the socket writable (POLLOUT, on a worker thread through FFI `nonblocking: true`), with
 * an optional time limit and AbortSignal.
 *
 * @module
 */

import { ClosedError, InvalidValueError } from "./errors.ts";
import { Publication, type SendReport } from "./publication.ts";
import { PLATFORM } from "../ffi/constants.ts";
import { socketError } from "../ffi/errno.ts";

/** Options of {@linkcode AsyncPublication.send}. */
export interface AsyncSendOptions {
  /** Abort the wait; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Give up when the socket has not become writable within this many milliseconds; the promise
   * rejects with a `SocketError` named ETIMEDOUT. No limit when absent.
   *
   * @default {undefined}
   */
  timeoutMs?: number;
}

// Longest single poll, so an abort is noticed promptly (poll itself cannot be interrupted).
const POLL_SLICE_MS = 50;

/**
 * A publication whose sends wait for room in the socket buffer instead of failing.
 *
 * @example
 * ```ts ignore
 * import { AsyncPublication } from "./async_publication.ts";
 * using pub = new AsyncPublication(ctx.takePublication(id)!);
 * for (let i = 0; i < 100_000; i++) await pub.send(payload, { timeoutMs: 5_000 });
 * pub.publication.counters.wouldBlocks; // how often it had to wait
 * ```
 */
export class AsyncPublication implements Disposable {
  /** The wrapped publication (owned by this adapter). */
  readonly publication: Publication;
  /** How many times a send had to wait for writability. */
  waits = 0;

  /**
   * Takes ownership of a publication that was taken out of its context (or made standalone).
   *
   * @param publication The publication; closing the adapter closes it.
   * @throws {ClosedError} When the publication is closed or its socket was moved out.
   */
  constructor(publication: Publication) {
    if (!(publication instanceof Publication)) {
      throw new InvalidValueError("publication", publication, "a Publication");
    }
    if (!publication.isOpen) throw new ClosedError(`publication ${publication.id}`);
    this.publication = publication;
  }

  /**
   * The socket's fd.
   *
   * @returns The fd.
   */
  get fd(): number {
    return this.publication.fd;
  }

  /**
   * Sends one datagram, waiting for writability as often as needed.
   *
   * @example
   * ```ts ignore
   * const report = await pub.send(payload, { signal: AbortSignal.timeout(1_000) });
   * ```
   *
   * @param payload The UDP payload.
   * @param options Time limit and abort signal.
   * @returns The report.
   * @throws {SocketError} ETIMEDOUT when `timeoutMs` passed; any send error.
   * @throws {ClosedError} When the publication was closed meanwhile.
   */
  async send(payload: Uint8Array, options: AsyncSendOptions = {}): Promise<SendReport> {
    const { signal, timeoutMs } = options;
    if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs < 0)) {
      throw new InvalidValueError("timeoutMs", timeoutMs, "a non-negative number of milliseconds");
    }
    const first = this.publication.trySend(payload);
    if (first !== null) return first;
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    while (true) {
      signal?.throwIfAborted();
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        throw socketError(
          PLATFORM.errno.ETIMEDOUT,
          "send",
          `no room in the socket buffer within ${timeoutMs} ms`,
        );
      }
      this.waits++;
      await this.publication.waitWritable(
        Math.max(1, Math.min(POLL_SLICE_MS, Math.ceil(remaining))),
      );
      signal?.throwIfAborted();
      const report = this.publication.trySend(payload);
      if (report !== null) return report;
    }
  }

  /**
   * Closes the publication's socket. Safe to call twice.
   *
   * @example
   * ```ts ignore
   * pub.close();
   * ```
   */
  close(): void {
    this.publication.close();
  }

  /** Same as {@linkcode AsyncPublication.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
