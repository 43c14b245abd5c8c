// Private: the datagram the firewall checks judge — UDP to the group and port, from the join's
// sources (or from anyone), arriving on the receiving interface, conntrack state NEW (multicast
// UDP never sees a reply) — and three-valued matching: a rule can match it, not match it, or
// match some of the datagrams it stands for ("maybe": an unknown source, an unknown interface, a
// match this tool does not interpret).

import { type AddressFamily, parseAddress } from "../address.ts";

/** The answer of one match. */
export type Tri = "yes" | "no" | "maybe";

/** The datagram judged. */
export interface Probe {
  /** Its family. */
  family: AddressFamily;
  /** Destination: the group's bytes. */
  group: Uint8Array;
  /** Sources: the INCLUDE list, or null for any source. */
  sources: readonly Uint8Array[] | null;
  /** Destination port. */
  port: number;
  /** The receiving interface, or null when unknown. */
  iface: string | null;
}

/** Both must hold. */
export function both(a: Tri, b: Tri): Tri {
  if (a === "no" || b === "no") return "no";
  return a === "yes" && b === "yes" ? "yes" : "maybe";
}

/** The negation. */
export function negate(a: Tri, negated: boolean): Tri {
  if (!negated) return a;
  return a === "yes" ? "no" : a === "no" ? "yes" : "maybe";
}

/** A definite test as a {@linkcode Tri}. */
export function tri(value: boolean): Tri {
  return value ? "yes" : "no";
}

/** An address prefix: bytes and length in bits. */
export interface Prefix {
  bytes: Uint8Array;
  bits: number;
}

/**
 * Parses `A`, `A/LEN` or (IPv4) `A/MASK`; null when it is not an address of `family`.
 */
export function parsePrefix(text: string, family: AddressFamily): Prefix | null {
  const [address, length] = text.split("/", 2);
  let bytes: Uint8Array;
  try {
    const parsed = parseAddress(address);
    if (parsed.family !== family) return null;
    bytes = parsed.bytes;
  } catch {
    return null;
  }
  const full = bytes.length * 8;
  if (length === undefined) return { bytes, bits: full };
  if (/^\d{1,3}$/.test(length) && Number(length) <= full) return { bytes, bits: Number(length) };
  const mask = parsePrefix(length, family);
  if (mask === null || mask.bits !== full) return null;
  let bits = 0;
  for (const byte of mask.bytes) for (let b = 7; b >= 0; b--) if ((byte >> b) & 1) bits++;
  return { bytes, bits };
}

/** Whether `address` lies in `prefix`. */
export function inPrefix(address: Uint8Array, prefix: Prefix): boolean {
  if (address.length !== prefix.bytes.length) return false;
  let bits = prefix.bits;
  for (let i = 0; i < address.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((address[i] & mask) !== (prefix.bytes[i] & mask)) return false;
  }
  return true;
}

/** Whether `address` lies within `[low, high]` (same length, big-endian order). */
export function inRange(address: Uint8Array, low: Uint8Array, high: Uint8Array): boolean {
  const compare = (a: Uint8Array, b: Uint8Array) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return 0;
  };
  return address.length === low.length && address.length === high.length &&
    compare(address, low) >= 0 && compare(address, high) <= 0;
}

/**
 * How a test on the source matches the probe: every source passes it (yes), none does (no),
 * some do or the sources are unknown (maybe — unless the test accepts every address).
 */
export function sourceMatch(
  probe: Probe,
  test: (address: Uint8Array) => boolean,
  everyAddress = false,
): Tri {
  if (probe.sources === null) return everyAddress ? "yes" : "maybe";
  const results = probe.sources.map(test);
  if (results.every((r) => r)) return "yes";
  return results.some((r) => r) ? "maybe" : "no";
}

/**
 * Whether an interface pattern (`eth+` in iptables, `eth*` in nft: a prefix) names the
 * receiving interface; maybe when that interface is unknown.
 */
export function interfaceMatch(probe: Probe, pattern: string, wildcard: "+" | "*"): Tri {
  if (probe.iface === null) return "maybe";
  if (pattern.endsWith(wildcard)) return tri(probe.iface.startsWith(pattern.slice(0, -1)));
  return tri(probe.iface === pattern);
}

/** A prefix, or a range of addresses from `low` to `high`. */
export type AddressSpan = Prefix | { low: Uint8Array; high: Uint8Array };

/**
 * Whether the group, or the sources, lie in any of `spans` (negated for `!=` / `!`): definite
 * for the group; for the sources, maybe when only some do or they are unknown — unless a span
 * covers every address.
 */
export function addressesMatch(
  probe: Probe,
  which: "group" | "source",
  spans: readonly AddressSpan[],
  negated: boolean,
): Tri {
  const test = (a: Uint8Array) =>
    spans.some((s) => "bits" in s ? inPrefix(a, s) : inRange(a, s.low, s.high));
  const every = spans.some((s) => "bits" in s && s.bits === 0);
  return negate(
    which === "group" ? tri(test(probe.group)) : sourceMatch(probe, test, every),
    negated,
  );
}

/** Whether `port` is in a list of ports and `a:b` / `a-b` ranges; null when unreadable. */
export function portListMatch(list: string, port: number, rangeMark: ":" | "-"): boolean | null {
  let found = false;
  for (const item of list.split(",")) {
    const [low, high = low] = item.split(rangeMark, 2);
    if (!/^\d+$/.test(low) || !/^\d+$/.test(high)) return null;
    if (port >= Number(low) && port <= Number(high)) found = true;
  }
  return found;
}
