/**
 * The group forms `mcast-send` and `mcast-receive` take (CONTRACT "mcast-send", "Groups"):
 *
 * - `G`: one group;
 * - `G+N`: G and the next N addresses (`239.1.1.1+63` is 64 groups);
 * - `G1,G2,…`: a list.
 *
 * Every group must be multicast and of one family; a range may not leave the multicast range
 * (224.0.0.0/4, ff00::/8) nor cross an IPv6 scope or flags boundary (the first two bytes of
 * every IPv6 group in a range are the same) — a range from `ff3e::ffff:ffff` on would otherwise
 * run into other prefixes. Duplicates are refused: a group listed twice would be counted twice.
 *
 * @module
 */

import {
  type AddressFamily,
  formatAddress,
  isMulticast,
  parseAddress,
  type ParsedAddress,
} from "./address.ts";
import { InvalidValueError, MismatchError } from "./errors.ts";

/** The most groups one form may name (mcjoin's limit is 2048; this leaves room above it). */
export const MAX_GROUPS = 4096;

/** A parsed group list: the groups in order, their family and the zone of IPv6 link-scoped ones. */
export interface GroupList {
  /** The groups, canonical text without zone, in the order given (a range in order). */
  readonly groups: readonly string[];
  /** Their family. */
  readonly family: AddressFamily;
  /** The first group as parsed (with its `%zone`, if any). */
  readonly first: ParsedAddress;
}

/**
 * Parses a group form: `G`, `G+N` or `G1,G2,…`.
 *
 * @example
 * ```ts
 * import { parseGroupList } from "./group_list.ts";
 * parseGroupList("239.1.1.1+3").groups; // ["239.1.1.1", "239.1.1.2", "239.1.1.3", "239.1.1.4"]
 * parseGroupList("ff3e::1,ff3e::2").family; // "IPv6"
 * parseGroupList("239.1.1.1").groups; // ["239.1.1.1"]
 * ```
 *
 * @param text The form as typed.
 * @returns The groups.
 * @throws {InvalidValueError} Naming the part that is wrong: a part that is not a multicast
 *   address, a count that is not a number, a range leaving the multicast range or crossing a
 *   scope, a group given twice, too many groups.
 * @throws {MismatchError} When the parts are of two families.
 */
export function parseGroupList(text: string): GroupList {
  if (typeof text !== "string" || text.trim() === "") {
    throw new InvalidValueError("group", text, "a multicast group, G+N or G1,G2,…");
  }
  const plus = text.lastIndexOf("+");
  if (plus !== -1 && !text.includes(",")) return parseRange(text, plus);
  const parts = text.split(",");
  const parsed = parts.map((part) => parseGroup(part.trim(), text));
  const family = parsed[0].family;
  const groups: string[] = [];
  for (const [i, group] of parsed.entries()) {
    if (group.family !== family) {
      throw new MismatchError(
        `address family of group ${JSON.stringify(parts[i].trim())} in ${JSON.stringify(text)}`,
        family,
        group.family,
      );
    }
    if (group.zone !== undefined && parsed.length > 1) {
      throw new InvalidValueError(
        "group",
        parts[i].trim(),
        "no %zone in a list of groups (give --interface)",
      );
    }
    groups.push(formatAddress(group.bytes));
  }
  return { groups: unique(groups, text), family, first: parsed[0] };
}

function parseRange(text: string, plus: number): GroupList {
  const base = text.slice(0, plus).trim();
  const countText = text.slice(plus + 1).trim();
  const first = parseGroup(base, text);
  if (!/^\d{1,5}$/.test(countText) || Number(countText) > MAX_GROUPS - 1) {
    throw new InvalidValueError(
      "group count",
      `+${countText}`,
      `+N with N an integer from 0 to ${MAX_GROUPS - 1} (G+N is G and the next N groups)`,
    );
  }
  if (first.zone !== undefined && Number(countText) > 0) {
    throw new InvalidValueError("group", base, "no %zone in a range of groups (give --interface)");
  }
  const count = Number(countText);
  const groups: string[] = [];
  const bytes = new Uint8Array(first.bytes);
  for (let i = 0; i <= count; i++) {
    if (i > 0 && !increment(bytes)) {
      throw new InvalidValueError("group range", text, "a range that stays within the addresses");
    }
    if (!isMulticast(bytes)) {
      throw new InvalidValueError(
        "group range",
        text,
        `a range inside the multicast range (${formatAddress(bytes)} is not multicast)`,
      );
    }
    if (first.family === "IPv6" && (bytes[0] !== first.bytes[0] || bytes[1] !== first.bytes[1])) {
      throw new InvalidValueError(
        "group range",
        text,
        `a range inside one IPv6 scope (${formatAddress(bytes)} has other flags or scope)`,
      );
    }
    groups.push(formatAddress(bytes));
  }
  return { groups, family: first.family, first };
}

function parseGroup(part: string, whole: string): ParsedAddress {
  if (part === "") {
    throw new InvalidValueError("group", whole, "no empty part in a list of groups");
  }
  let parsed: ParsedAddress;
  try {
    parsed = parseAddress(part, { what: "group" });
  } catch {
    throw new InvalidValueError(
      "group",
      part,
      "an IPv4 or IPv6 multicast address (forms: G, G+N, G1,G2,…)",
    );
  }
  if (!isMulticast(parsed.bytes)) {
    throw new InvalidValueError("group", part, "an IPv4 or IPv6 multicast address");
  }
  return parsed;
}

// Adds one to a big-endian address in place; false when it wraps around.
function increment(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] < 255) {
      bytes[i]++;
      return true;
    }
    bytes[i] = 0;
  }
  return false;
}

function unique(groups: string[], text: string): string[] {
  if (groups.length > MAX_GROUPS) {
    throw new InvalidValueError("group list", text, `at most ${MAX_GROUPS} groups`);
  }
  const seen = new Set<string>();
  for (const group of groups) {
    if (seen.has(group)) {
      throw new InvalidValueError("group list", text, `each group once (${group} is given twice)`);
    }
    seen.add(group);
  }
  return groups;
}
