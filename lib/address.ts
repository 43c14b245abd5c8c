/**
 * IP address parsing, formatting and classification, in pure TypeScript.
 *
 * Addresses travel through the library as strings; this module turns them into bytes
 * ({@linkcode parseAddress}, {@linkcode parseIpv4}, {@linkcode parseIpv6}), back into canonical
 * text ({@linkcode formatIpv4}, {@linkcode formatIpv6} per RFC 5952, {@linkcode canonicalAddress}),
 * and answers the questions a multicast tool asks: which family, multicast or not, SSM or not,
 * which IPv6 multicast scope, whether a destination keeps its scope id, whether a group is one the
 * kernel joins by itself.
 *
 * Every function refuses bad input with an {@linkcode InvalidValueError} naming the value.
 *
 * @module
 */

import type { AddressFamily } from "../ffi/sockaddr.ts";
import { InvalidValueError } from "./errors.ts";

export type { AddressFamily };

/**
 * An address as text (`"239.1.2.3"`, `"ff02::1%eth0"`) or as raw bytes (4 for IPv4, 16 for
 * IPv6, network order).
 */
export type AddressInput = string | Uint8Array;

/** A parsed address: family, network-order bytes, and the IPv6 zone if one was given. */
export interface ParsedAddress {
  /** `"IPv4"` (4 bytes) or `"IPv6"` (16 bytes). */
  family: AddressFamily;
  /** The address in network byte order. */
  bytes: Uint8Array;
  /** The `%zone` suffix of an IPv6 address, without the `%` (an interface name or index). */
  zone?: string;
}

/** Options for the parsing functions. */
export interface ParseAddressOptions {
  /**
   * What the value is, for the error message (`"group"`, `"source"` …).
   *
   * @default {"address"}
   */
  what?: string;
}

const IPV4_EXPECTED = "an IPv4 address in dotted-quad form";
const IPV6_EXPECTED = "an IPv6 address in RFC 4291 text form";
const ANY_EXPECTED = "an IPv4 or IPv6 address";
const ZONE_PATTERN = /^[^\s%/]{1,63}$/;

/**
 * Parses a dotted-quad IPv4 address (`"239.1.2.3"`) into 4 bytes.
 *
 * Exactly four decimal fields from 0 to 255; leading zeros are refused (`"010.0.0.1"` would be
 * octal to some parsers and decimal to others), as are the short forms `inet_aton` accepts.
 *
 * @example
 * ```ts
 * import { parseIpv4 } from "./address.ts";
 * const bytes = parseIpv4("239.1.2.3");
 * bytes; // Uint8Array [239, 1, 2, 3]
 * ```
 *
 * @param text The address.
 * @param options What the value is, for the error message.
 * @returns The address in network byte order.
 * @throws {InvalidValueError} When the text is not a dotted-quad IPv4 address.
 */
export function parseIpv4(text: string, options: ParseAddressOptions = {}): Uint8Array {
  const bytes = tryParseIpv4(text);
  if (bytes === null) throw new InvalidValueError(options.what ?? "address", text, IPV4_EXPECTED);
  return bytes;
}

/**
 * Parses an IPv6 address in any RFC 4291 text form (`"ff3e::1234"`, `"::ffff:1.2.3.4"`,
 * `"2001:DB8:0:0:0:0:0:1"`) into 16 bytes. A `%zone` suffix is refused here; use
 * {@linkcode parseAddress} to accept one and get it back separately.
 *
 * @example
 * ```ts
 * import { parseIpv6 } from "./address.ts";
 * const bytes = parseIpv6("ff02::1");
 * bytes[0]; // 0xff
 * bytes[15]; // 1
 * ```
 *
 * @param text The address.
 * @param options What the value is, for the error message.
 * @returns The address in network byte order.
 * @throws {InvalidValueError} When the text is not an IPv6 address.
 */
export function parseIpv6(text: string, options: ParseAddressOptions = {}): Uint8Array {
  const bytes = tryParseIpv6(text);
  if (bytes === null) throw new InvalidValueError(options.what ?? "address", text, IPV6_EXPECTED);
  return bytes;
}

/**
 * Parses an IPv4 or IPv6 address, with an optional `%zone` suffix on IPv6
 * (`"fe80::1%eth0"`, `"ff02::1%2"`). The zone is returned as text; resolving it to an interface
 * index is the caller's business.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * const parsed = parseAddress("ff02::1%eth0");
 * parsed.family; // "IPv6"
 * parsed.zone; // "eth0"
 * parseAddress("239.1.2.3").family; // "IPv4"
 * ```
 *
 * @param text The address.
 * @param options What the value is, for the error message.
 * @returns Family, bytes and zone.
 * @throws {InvalidValueError} When the text is neither address family, or the zone is malformed.
 */
export function parseAddress(text: string, options: ParseAddressOptions = {}): ParsedAddress {
  const what = options.what ?? "address";
  if (typeof text !== "string") throw new InvalidValueError(what, text, ANY_EXPECTED);
  if (text.includes(":")) {
    const percent = text.indexOf("%");
    const address = percent === -1 ? text : text.slice(0, percent);
    const bytes = tryParseIpv6(address);
    if (bytes === null) throw new InvalidValueError(what, text, ANY_EXPECTED);
    if (percent === -1) return { family: "IPv6", bytes };
    const zone = text.slice(percent + 1);
    if (!ZONE_PATTERN.test(zone)) {
      throw new InvalidValueError(what, text, "an IPv6 zone of 1 to 63 characters after %");
    }
    return { family: "IPv6", bytes, zone };
  }
  const bytes = tryParseIpv4(text);
  if (bytes === null) throw new InvalidValueError(what, text, ANY_EXPECTED);
  return { family: "IPv4", bytes };
}

/**
 * Formats 4 bytes as a dotted-quad IPv4 address.
 *
 * @example
 * ```ts
 * import { formatIpv4 } from "./address.ts";
 * formatIpv4(new Uint8Array([232, 1, 1, 1])); // "232.1.1.1"
 * ```
 *
 * @param bytes The address in network byte order.
 * @returns The dotted-quad text.
 * @throws {InvalidValueError} When `bytes` is not 4 bytes long.
 */
export function formatIpv4(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 4) {
    throw new InvalidValueError("IPv4 address bytes", bytes, "4 bytes");
  }
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * Formats 16 bytes as an IPv6 address in RFC 5952 canonical form: lowercase hex, no leading
 * zeros, the longest run of two or more zero fields (the first one on a tie) compressed to `::`,
 * and IPv4-mapped addresses (`::ffff:0:0/96`) written with a dotted quad.
 *
 * @example
 * ```ts
 * import { formatIpv6, parseIpv6 } from "./address.ts";
 * formatIpv6(parseIpv6("2001:DB8:0:0:1:0:0:1")); // "2001:db8::1:0:0:1"
 * formatIpv6(parseIpv6("::ffff:0102:0304")); // "::ffff:1.2.3.4"
 * ```
 *
 * @param bytes The address in network byte order.
 * @returns The canonical text.
 * @throws {InvalidValueError} When `bytes` is not 16 bytes long.
 */
export function formatIpv6(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 16) {
    throw new InvalidValueError("IPv6 address bytes", bytes, "16 bytes");
  }
  if (isIpv4Mapped(bytes)) return `::ffff:${formatIpv4(bytes.subarray(12, 16))}`;
  const fields: number[] = [];
  for (let i = 0; i < 16; i += 2) fields.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLength = 1; // a single zero field is never compressed
  for (let i = 0; i < 8;) {
    if (fields[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && fields[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = (field: number) => field.toString(16);
  if (bestStart === -1) return fields.map(hex).join(":");
  const head = fields.slice(0, bestStart).map(hex).join(":");
  const tail = fields.slice(bestStart + bestLength).map(hex).join(":");
  return `${head}::${tail}`;
}

/**
 * Rewrites an address in its canonical form: IPv4 dotted quad, IPv6 per RFC 5952, with the
 * `%zone` suffix kept as given.
 *
 * @example
 * ```ts
 * import { canonicalAddress } from "./address.ts";
 * canonicalAddress("FF3E:0:0:0:0:0:0:1234"); // "ff3e::1234"
 * canonicalAddress("fe80:0::1%eth0"); // "fe80::1%eth0"
 * ```
 *
 * @param text The address.
 * @param options What the value is, for the error message.
 * @returns The canonical text.
 * @throws {InvalidValueError} When the text is not an address.
 */
export function canonicalAddress(text: string, options: ParseAddressOptions = {}): string {
  const parsed = parseAddress(text, options);
  if (parsed.family === "IPv4") return formatIpv4(parsed.bytes);
  const formatted = formatIpv6(parsed.bytes);
  return parsed.zone === undefined ? formatted : `${formatted}%${parsed.zone}`;
}

/**
 * The address without its `%zone` suffix (`"fe80::1%eth0"` → `"fe80::1"`); text without a zone
 * is returned as it is. Nothing is validated.
 *
 * @example
 * ```ts
 * import { stripZone } from "./address.ts";
 * stripZone("fe80::1%eth0"); // "fe80::1"
 * stripZone("239.1.2.3"); // "239.1.2.3"
 * ```
 *
 * @param address The address text.
 * @returns The text before `%`.
 */
export function stripZone(address: string): string {
  const percent = address.indexOf("%");
  return percent === -1 ? address : address.slice(0, percent);
}

/**
 * Formats address bytes (4 or 16) as canonical text.
 *
 * @example
 * ```ts
 * import { formatAddress } from "./address.ts";
 * formatAddress(new Uint8Array([239, 0, 0, 1])); // "239.0.0.1"
 * ```
 *
 * @param bytes The address in network byte order.
 * @returns The canonical text.
 * @throws {InvalidValueError} When `bytes` is neither 4 nor 16 bytes long.
 */
export function formatAddress(bytes: Uint8Array): string {
  if (bytes instanceof Uint8Array && bytes.length === 4) return formatIpv4(bytes);
  if (bytes instanceof Uint8Array && bytes.length === 16) return formatIpv6(bytes);
  throw new InvalidValueError("address bytes", bytes, "4 or 16 bytes");
}

/**
 * The family of an address, text (a zone is allowed) or bytes.
 *
 * @example
 * ```ts
 * import { familyOf } from "./address.ts";
 * familyOf("239.1.2.3"); // "IPv4"
 * familyOf("ff3e::1234"); // "IPv6"
 * ```
 *
 * @param address The address.
 * @returns `"IPv4"` or `"IPv6"`.
 * @throws {InvalidValueError} When the value is not an address.
 */
export function familyOf(address: AddressInput): AddressFamily {
  return toParsed(address).family;
}

/**
 * Whether an address is multicast: 224.0.0.0/4 or ff00::/8. An IPv4-mapped IPv6 address
 * (`::ffff:239.1.2.3`) is an IPv6 unicast address, so it is not.
 *
 * @example
 * ```ts
 * import { isMulticast } from "./address.ts";
 * isMulticast("239.1.2.3"); // true
 * isMulticast("ff02::1"); // true
 * isMulticast("10.0.0.1"); // false
 * ```
 *
 * @param address The address.
 * @returns True for a multicast address.
 * @throws {InvalidValueError} When the value is not an address.
 */
export function isMulticast(address: AddressInput): boolean {
  const { family, bytes } = toParsed(address);
  return family === "IPv4" ? (bytes[0] & 0xf0) === 0xe0 : bytes[0] === 0xff;
}

/**
 * Whether an address is a source-specific multicast group (RFC 4607): IPv4 232.0.0.0/8, or
 * IPv6 `ff3x::/32` — first byte 0xff, flags nibble 3 (P and T set), any scope nibble `x`, and
 * bytes 2 and 3 zero (the reserved bits and a prefix length of 0, as RFC 3306 requires of SSM).
 *
 * @example
 * ```ts
 * import { isSsmGroup } from "./address.ts";
 * isSsmGroup("232.1.1.1"); // true
 * isSsmGroup("ff3e::1234"); // true
 * isSsmGroup("239.1.1.1"); // false
 * isSsmGroup("ff3e:40:2001:db8::1"); // false (a unicast-prefix group, not SSM)
 * ```
 *
 * @param address The address.
 * @returns True for an SSM group.
 * @throws {InvalidValueError} When the value is not an address.
 */
export function isSsmGroup(address: AddressInput): boolean {
  const { family, bytes } = toParsed(address);
  if (family === "IPv4") return bytes[0] === 232;
  return bytes[0] === 0xff && (bytes[1] >> 4) === 3 && bytes[2] === 0 && bytes[3] === 0;
}

/**
 * The scope nibble of an IPv6 multicast address (the low four bits of its second byte):
 * 1 interface-local, 2 link-local, 4 admin-local, 5 site-local, 8 organization-local,
 * 14 global. See {@linkcode ipv6MulticastScopeName}.
 *
 * @example
 * ```ts
 * import { ipv6MulticastScope } from "./address.ts";
 * ipv6MulticastScope("ff02::1"); // 2
 * ipv6MulticastScope("ff3e::1234"); // 14
 * ```
 *
 * @param group An IPv6 multicast address.
 * @returns The scope, 0 to 15.
 * @throws {InvalidValueError} When the value is not an IPv6 multicast address.
 */
export function ipv6MulticastScope(group: AddressInput): number {
  const { family, bytes } = toParsed(group, "group");
  if (family !== "IPv6" || bytes[0] !== 0xff) {
    throw new InvalidValueError("group", displayValue(group), "an IPv6 multicast address");
  }
  return bytes[1] & 0x0f;
}

const SCOPE_NAMES: Readonly<Record<number, string>> = {
  0: "reserved",
  1: "interface-local",
  2: "link-local",
  3: "realm-local",
  4: "admin-local",
  5: "site-local",
  8: "organization-local",
  14: "global",
  15: "reserved",
};

/**
 * The RFC 4291 / RFC 7346 name of an IPv6 multicast scope: `"interface-local"`,
 * `"link-local"`, `"realm-local"`, `"admin-local"`, `"site-local"`, `"organization-local"`,
 * `"global"`, `"reserved"` (0 and 15) or `"unassigned"`.
 *
 * @example
 * ```ts
 * import { ipv6MulticastScope, ipv6MulticastScopeName } from "./address.ts";
 * ipv6MulticastScopeName(ipv6MulticastScope("ff05::2")); // "site-local"
 * ipv6MulticastScopeName(14); // "global"
 * ```
 *
 * @param scope The scope nibble, 0 to 15.
 * @returns The scope name.
 * @throws {InvalidValueError} When `scope` is not an integer from 0 to 15.
 */
export function ipv6MulticastScopeName(scope: number): string {
  if (!Number.isInteger(scope) || scope < 0 || scope > 15) {
    throw new InvalidValueError("IPv6 multicast scope", scope, "an integer from 0 to 15");
  }
  return SCOPE_NAMES[scope] ?? "unassigned";
}

/**
 * Whether a destination group keeps its scope id (`sin6_scope_id`) when the library sends to it:
 * true only for IPv6 multicast groups of interface-local (1) or link-local (2) scope
 * (`ff01::`, `ff02::`, `ff11::`, `ff12::`, `ff31::`, `ff32::` …); false for wider scopes,
 * where the outgoing interface option picks the interface instead, and for IPv4 and unicast.
 * This is the mctx-core rule.
 *
 * @example
 * ```ts
 * import { scopeIdKept } from "./address.ts";
 * scopeIdKept("ff02::1"); // true
 * scopeIdKept("ff32::1"); // true
 * scopeIdKept("ff05::2"); // false
 * scopeIdKept("239.1.2.3"); // false
 * ```
 *
 * @param group The destination address.
 * @returns True when the scope id is kept.
 * @throws {InvalidValueError} When the value is not an address.
 */
export function scopeIdKept(group: AddressInput): boolean {
  const { family, bytes } = toParsed(group, "group");
  if (family !== "IPv6" || bytes[0] !== 0xff) return false;
  const scope = bytes[1] & 0x0f;
  return scope === 1 || scope === 2;
}

/**
 * Whether an address is link-local unicast: IPv6 fe80::/10, or IPv4 169.254.0.0/16 (RFC 3927).
 * IPv6 link-local addresses need a zone (interface) to be usable.
 *
 * @example
 * ```ts
 * import { isLinkLocalUnicast } from "./address.ts";
 * isLinkLocalUnicast("fe80::1%eth0"); // true
 * isLinkLocalUnicast("febf::1"); // true
 * isLinkLocalUnicast("fec0::1"); // false
 * isLinkLocalUnicast("169.254.1.1"); // true
 * ```
 *
 * @param address The address.
 * @returns True for a link-local unicast address.
 * @throws {InvalidValueError} When the value is not an address.
 */
export function isLinkLocalUnicast(address: AddressInput): boolean {
  const { family, bytes } = toParsed(address);
  if (family === "IPv4") return bytes[0] === 169 && bytes[1] === 254;
  return bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80;
}

/**
 * Whether a group is one the kernel joins by itself, which `mcast-status` hides without `--all`:
 *
 * - IPv4 224.0.0.1 (all hosts; joined on every multicast-capable interface);
 * - IPv6 ff01::1 and ff02::1 (all nodes);
 * - IPv6 ff01::2, ff02::2 and ff05::2 (all routers; joined when forwarding is on);
 * - IPv6 ff02::1:ff00:0/104 (solicited-node groups, one per configured address).
 *
 * Groups that daemons join (224.0.0.251 for mDNS, 224.0.0.2 for mrouted …) are not kernel
 * defaults and are shown.
 *
 * @example
 * ```ts
 * import { isKernelDefaultGroup } from "./address.ts";
 * isKernelDefaultGroup("224.0.0.1"); // true
 * isKernelDefaultGroup("ff02::1:ff12:3456"); // true
 * isKernelDefaultGroup("224.0.0.251"); // false
 * isKernelDefaultGroup("239.1.2.3"); // false
 * ```
 *
 * @param group The group address.
 * @returns True for a kernel-joined group.
 * @throws {InvalidValueError} When the value is not an address.
 */
export function isKernelDefaultGroup(group: AddressInput): boolean {
  const { family, bytes } = toParsed(group, "group");
  if (family === "IPv4") {
    return bytes[0] === 224 && bytes[1] === 0 && bytes[2] === 0 && bytes[3] === 1;
  }
  if (bytes[0] !== 0xff) return false;
  for (let i = 2; i < 11; i++) if (bytes[i] !== 0) return false;
  // ff02::1:ffXX:XXXX, solicited-node.
  if (bytes[1] === 0x02 && bytes[11] === 0x01 && bytes[12] === 0xff) return true;
  if (bytes[11] !== 0 || bytes[12] !== 0 || bytes[13] !== 0 || bytes[14] !== 0) return false;
  const last = bytes[15];
  if (bytes[1] === 0x01 || bytes[1] === 0x02) return last === 1 || last === 2;
  return bytes[1] === 0x05 && last === 2;
}

function toParsed(address: AddressInput, what = "address"): ParsedAddress {
  if (address instanceof Uint8Array) {
    if (address.length === 4) return { family: "IPv4", bytes: address };
    if (address.length === 16) return { family: "IPv6", bytes: address };
    throw new InvalidValueError(`${what} bytes`, address, "4 or 16 bytes");
  }
  return parseAddress(address, { what });
}

function displayValue(address: AddressInput): unknown {
  return address instanceof Uint8Array && (address.length === 4 || address.length === 16)
    ? formatAddress(address)
    : address;
}

function isIpv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function tryParseIpv4(text: string): Uint8Array | null {
  if (typeof text !== "string") return null;
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

function tryParseIpv6(text: string): Uint8Array | null {
  if (typeof text !== "string" || text.length === 0 || text.length > 45) return null;
  const doubleColon = text.indexOf("::");
  if (doubleColon !== -1 && text.indexOf("::", doubleColon + 1) !== -1) return null;
  const headText = doubleColon === -1 ? text : text.slice(0, doubleColon);
  const tailText = doubleColon === -1 ? "" : text.slice(doubleColon + 2);
  const head = headText === "" ? [] : headText.split(":");
  const tail = tailText === "" ? [] : tailText.split(":");
  // An embedded IPv4 address may only be the very last part.
  const last = doubleColon === -1 ? head : tail;
  const fields: number[][] = [[], []];
  const groups = [head, tail];
  for (let g = 0; g < 2; g++) {
    const parts = groups[g];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        fields[g].push(parseInt(part, 16));
      } else if (parts === last && i === parts.length - 1 && part.includes(".")) {
        const v4 = tryParseIpv4(part);
        if (v4 === null) return null;
        fields[g].push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        return null;
      }
    }
  }
  const count = fields[0].length + fields[1].length;
  if (doubleColon === -1 ? count !== 8 : count > 7) return null;
  const all = [...fields[0], ...new Array(8 - count).fill(0), ...fields[1]];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = all[i] >> 8;
    bytes[2 * i + 1] = all[i] & 0xff;
  }
  return bytes;
}
