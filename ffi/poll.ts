/**
 * Waiting for descriptors with `poll`, off the JS thread (`nonblocking` FFI): one descriptor
 * ({@linkcode waitForFd}) or a fixed set of them ({@linkcode PollSet}, for a receiver with a
 * socket per group).
 *
 * @module
 */

import { LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { InvalidValueError } from "./errors.ts";
import { libc } from "./libc.ts";
import { nativeBuffer } from "./_buffer.ts";

const POLLFD = PLATFORM.layout.pollfdSize;

/**
 * Waits until `fd` is ready for `events` (POLLIN/POLLOUT) or `timeoutMs` passes (-1 = no
 * limit). Runs off the JS thread. Returns the ready events (0 on timeout).
 *
 * @example
 * ```ts ignore
 * import { PLATFORM } from "./constants.ts";
 * import { waitForFd } from "./poll.ts";
 * const ready = await waitForFd(fd, PLATFORM.POLLOUT, 100);
 * ```
 *
 * @param fd The descriptor.
 * @param events The events to wait for.
 * @param timeoutMs Milliseconds, or -1.
 * @returns The `revents` bits, 0 on timeout.
 */
export async function waitForFd(fd: number, events: number, timeoutMs: number): Promise<number> {
  const pollfd = nativeBuffer(POLLFD);
  const view = new DataView(pollfd.buffer);
  view.setInt32(0, fd, LITTLE_ENDIAN);
  view.setInt16(4, events, LITTLE_ENDIAN);
  const ready = await libc().poll(pollfd, 1n, timeoutMs);
  // Reading pollfd after the call keeps it referenced for as long as the worker thread uses it.
  return ready > 0 ? view.getUint16(6, LITTLE_ENDIAN) : 0;
}

/**
 * A fixed set of descriptors polled together: one `pollfd` array owned for the set's whole life
 * (the worker thread writes `revents` into it while JS waits).
 *
 * @example
 * ```ts ignore
 * import { PLATFORM } from "./constants.ts";
 * import { PollSet } from "./poll.ts";
 * const set = new PollSet([fd1, fd2], PLATFORM.POLLIN);
 * if ((await set.wait(100)) > 0 && set.ready(1)) console.log("fd2 is readable");
 * ```
 */
export class PollSet {
  /** How many descriptors. */
  readonly size: number;
  readonly #pollfds: Uint8Array<ArrayBuffer>;
  readonly #view: DataView;
  readonly #count: bigint;
  #waiting = false;

  /**
   * Constructs a new instance.
   *
   * @param fds The descriptors (at least one).
   * @param events The events to wait for on each.
   * @throws {InvalidValueError} When the set is empty.
   */
  constructor(fds: readonly number[], events: number) {
    if (fds.length === 0) throw new InvalidValueError("poll set", "[]", "at least one fd");
    this.size = fds.length;
    this.#pollfds = nativeBuffer(fds.length * POLLFD);
    this.#view = new DataView(this.#pollfds.buffer);
    this.#count = BigInt(fds.length);
    for (let i = 0; i < fds.length; i++) {
      this.#view.setInt32(i * POLLFD, fds[i], LITTLE_ENDIAN);
      this.#view.setInt16(i * POLLFD + 4, events, LITTLE_ENDIAN);
    }
  }

  /**
   * Waits until some descriptor is ready or `timeoutMs` passes (-1: no limit).
   *
   * @param timeoutMs Milliseconds, or -1.
   * @returns How many descriptors are ready (0 on timeout, -1 on an error such as EINTR).
   * @throws {InvalidValueError} When a wait on this set is already running.
   */
  async wait(timeoutMs: number): Promise<number> {
    if (this.#waiting) throw new InvalidValueError("poll set", "busy", "one wait at a time");
    this.#waiting = true;
    try {
      for (let i = 0; i < this.size; i++) this.#view.setInt16(i * POLLFD + 6, 0, LITTLE_ENDIAN);
      return await libc().poll(this.#pollfds, this.#count, timeoutMs);
    } finally {
      this.#waiting = false;
    }
  }

  /**
   * The events reported for descriptor `index` by the last wait.
   *
   * @param index The descriptor's position, 0 to size − 1.
   * @returns The `revents` bits.
   */
  revents(index: number): number {
    return this.#view.getUint16(index * POLLFD + 6, LITTLE_ENDIAN);
  }

  /**
   * Whether descriptor `index` was reported ready (any event) by the last wait.
   *
   * @param index The descriptor's position.
   * @returns True when it has events.
   */
  ready(index: number): boolean {
    return this.revents(index) !== 0;
  }
}
