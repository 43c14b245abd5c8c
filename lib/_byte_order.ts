/**
 * The byte order of the host, computed once for the library's parsers of kernel text that
 * prints raw host-order integers (`/proc/net/igmp`, `/proc/net/route`).
 *
 * @module
 */

/**
 * Whether this host stores integers little-endian (x86-64, arm64 Linux): the order in which the
 * kernel prints a `__be32` address read as a host integer.
 *
 * @example
 * ```ts
 * import { HOST_LITTLE_ENDIAN } from "./_byte_order.ts";
 * const word = new Uint8Array(new Uint32Array([1]).buffer);
 * HOST_LITTLE_ENDIAN === (word[0] === 1); // true
 * ```
 */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
