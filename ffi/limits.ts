/**
 * Resource limits of this process: the open-file limit (`RLIMIT_NOFILE`), which a receiver with
 * one socket per group needs raised (up to the hard limit) before it opens thousands of sockets.
 *
 * @module
 */

import { LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { check } from "./errno.ts";
import { libc } from "./libc.ts";
import { nativeBuffer } from "./_buffer.ts";

/** A soft and a hard limit; `Infinity` for RLIM_INFINITY. */
export interface ResourceLimit {
  /** What applies now. */
  soft: number;
  /** The most an unprivileged process may raise the soft limit to. */
  hard: number;
}

const limit = nativeBuffer(PLATFORM.layout.rlimitSize);
const view = new DataView(limit.buffer);
const INFINITY = 0xffff_ffff_ffff_ffffn;

function toNumber(value: bigint): number {
  return value === INFINITY || value > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(value);
}

/**
 * The open-file limit (`getrlimit(RLIMIT_NOFILE)`).
 *
 * @example
 * ```ts ignore
 * import { openFileLimit } from "./limits.ts";
 * openFileLimit(); // { soft: 1024, hard: 524288 }
 * ```
 *
 * @returns Soft and hard limit.
 */
export function openFileLimit(): ResourceLimit {
  check(libc().getrlimit(PLATFORM.RLIMIT_NOFILE, limit), "getrlimit(RLIMIT_NOFILE)");
  return {
    soft: toNumber(view.getBigUint64(0, LITTLE_ENDIAN)),
    hard: toNumber(view.getBigUint64(8, LITTLE_ENDIAN)),
  };
}

/**
 * Sets the soft open-file limit (`setrlimit(RLIMIT_NOFILE)`), keeping the hard one.
 *
 * @example
 * ```ts ignore
 * import { openFileLimit, setOpenFileLimit } from "./limits.ts";
 * setOpenFileLimit(Math.min(4096, openFileLimit().hard));
 * ```
 *
 * @param soft The new soft limit, at most the hard limit.
 * @throws {SocketError} EINVAL above the hard limit, EPERM where it may not be raised.
 */
export function setOpenFileLimit(soft: number): void {
  const current = openFileLimit();
  view.setBigUint64(0, BigInt(soft), LITTLE_ENDIAN);
  view.setBigUint64(8, current.hard === Infinity ? INFINITY : BigInt(current.hard), LITTLE_ENDIAN);
  check(libc().setrlimit(PLATFORM.RLIMIT_NOFILE, limit), "setrlimit(RLIMIT_NOFILE)", soft);
}
