/**
 * Errno: read right after each synchronous call, named from the OS table, and turned into a
 * typed {@linkcode SocketError} by {@linkcode check} — the one way a syscall fails here.
 *
 * @module
 */

import { SocketError, WouldBlockError } from "./errors.ts";
import { PLATFORM } from "./constants.ts";
import { libc } from "./libc.ts";

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(PLATFORM.errno).map(([name, value]) => [value, name]),
);

/**
 * The errno name of a number on this OS, or `"errno N"` when the table has none.
 *
 * @example
 * ```ts
 * import { errnoName } from "./errno.ts";
 * errnoName(22); // "EINVAL" on Linux
 * ```
 *
 * @param errno The errno number.
 * @returns Its name.
 */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

/**
 * Reads the calling thread's errno. Call it right after the failed synchronous FFI call.
 *
 * @example
 * ```ts ignore
 * import { lastErrno } from "./errno.ts";
 * const errno = lastErrno();
 * ```
 *
 * @returns The errno value.
 */
export function lastErrno(): number {
  const location = libc().errno_location();
  return location === null ? 0 : new Deno.UnsafePointerView(location).getInt32();
}

/**
 * Builds the typed error of a failed call from an errno number: {@linkcode WouldBlockError} for
 * EAGAIN, else {@linkcode SocketError}.
 *
 * @example
 * ```ts
 * import { socketError } from "./errno.ts";
 * const error = socketError(22, "setsockopt(IP_MULTICAST_TTL)", 300);
 * error.errnoName; // "EINVAL" on Linux
 * ```
 *
 * @param errno The errno number.
 * @param syscall The call that failed, with the option name where there is one.
 * @param value The value the call was given.
 * @returns The error.
 */
export function socketError(errno: number, syscall: string, value?: unknown): SocketError {
  return errno === PLATFORM.errno.EAGAIN
    ? new WouldBlockError(syscall, errno, errnoName(errno), value)
    : new SocketError(syscall, errno, errnoName(errno), value);
}

/**
 * Returns `result` when it is not negative; otherwise reads errno at once and throws the typed
 * error naming the call and the value it was given.
 *
 * @example
 * ```ts ignore
 * import { check } from "./errno.ts";
 * import { libc } from "./libc.ts";
 * const fd = check(libc().socket(2, 2, 0), "socket", "AF_INET/SOCK_DGRAM");
 * ```
 *
 * @param result The call's return value.
 * @param syscall The call, with the option name where there is one.
 * @param value The value the call was given.
 * @returns `result`, as a number.
 */
export function check(result: number | bigint, syscall: string, value?: unknown): number {
  const n = Number(result);
  if (n < 0) throw socketError(lastErrno(), syscall, value);
  return n;
}
