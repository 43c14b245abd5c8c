/**
 * Field decoders shared by the parsers of `/proc/net` text (`proc_igmp.ts`, `proc_route.ts`):
 * the non-blank lines of a file and their fields, IPv4 addresses printed as 32-bit hex words, IPv6 addresses
 * printed as 32 hex digits. Pure; odd input gives null, never an exception.
 *
 * @module
 */

import { formatIpv4, formatIpv6 } from "./address.ts";

/**
 * The non-blank lines of a file's text (LF or CRLF); none for something that is not a string.
 *
 * @example
 * ```ts
 * import { procLines } from "./_proc_fields.ts";
 * procLines("a\r\n\n  \nb\n"); // ["a", "b"]
 * ```
 *
 * @param text The file's contents.
 * @returns The lines, in order.
 */
export function procLines(text: string): string[] {
  return typeof text === "string" ? text.split(/\r?\n/).filter((line) => line.trim() !== "") : [];
}

/**
 * The whitespace-separated fields of each non-blank line.
 *
 * @example
 * ```ts
 * import { procRows } from "./_proc_fields.ts";
 * procRows("1    lo   ff02\n\n 2\teth0 ff3e\n"); // [["1", "lo", "ff02"], ["2", "eth0", "ff3e"]]
 * ```
 *
 * @param text The file's contents.
 * @returns One array of fields per line, in order.
 */
export function procRows(text: string): string[][] {
  return procLines(text).map((line) => line.trim().split(/\s+/));
}

/**
 * The IPv4 address whose four bytes, stored in the given byte order, read as `word`: the kernel
 * prints a `__be32` as `%08X` of the host integer, so on a little-endian host `010000E0` is
 * 224.0.0.1; `/proc/net/mcfilter` prints network order (`littleEndian` false).
 *
 * @example
 * ```ts
 * import { ipv4FromWord } from "./_proc_fields.ts";
 * ipv4FromWord(0x010000e0, true); // "224.0.0.1"
 * ipv4FromWord(0xe8010203, false); // "232.1.2.3"
 * ```
 *
 * @param word The 32-bit value, 0 to 2^32 − 1.
 * @param littleEndian Whether the bytes were stored little-endian.
 * @returns Dotted-quad text.
 */
export function ipv4FromWord(word: number, littleEndian: boolean): string {
  const octets = littleEndian
    ? [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24]
    : [word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff];
  return formatIpv4(new Uint8Array(octets));
}

/**
 * The IPv6 address printed as 32 hex digits (`/proc/net/igmp6`, `mcfilter6`, `ipv6_route`).
 *
 * @example
 * ```ts
 * import { ipv6FromHex } from "./_proc_fields.ts";
 * ipv6FromHex("ff020000000000000000000000000001"); // "ff02::1"
 * ipv6FromHex("ff02::1"); // null
 * ```
 *
 * @param text The field.
 * @returns RFC 5952 text, or null when the field is not 32 hex digits.
 */
export function ipv6FromHex(text: string): string | null {
  if (!/^[0-9A-Fa-f]{32}$/.test(text)) return null;
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return formatIpv6(bytes);
}
