/**
 * Parsers of the kernel's multicast membership tables: `/proc/net/igmp`, `/proc/net/igmp6`,
 * `/proc/net/mcfilter`, `/proc/net/mcfilter6`. `multicast_state.ts` combines them with the
 * force sysctls into the shape `mcast-status --json` prints.
 *
 * The parsers are pure functions of the file text and never throw on odd input: lines they do
 * not understand (a header, a truncated line, an unknown layout) are skipped. Facts about the
 * formats (Linux 6.x, checked by joining groups in a namespace):
 *
 * - `/proc/net/igmp`: one line per interface that has IPv4 groups,
 *   `"%d\t%-10s: %5d %7s"` (index, name, group count, querier version `V1`/`V2`/`V3`), then one
 *   line per group, `"\t\t\t\t%08X %5d %d:%08lX\t\t%d"` (group, users, timer running:expiry,
 *   reporter). The group is the `__be32` read as a host integer, so on little-endian hosts it is
 *   byte-reversed: `010000E0` is 224.0.0.1. The querier column is the version the kernel speaks
 *   now: the forced one, or v1/v2 while an older querier was heard recently, else V3.
 * - `/proc/net/mcfilter`: header, then `"%3d %6.6s 0x%08x 0x%08x %6lu %6lu"` (index, name cut to
 *   6 characters, group and source in network byte order, sockets including and excluding that
 *   source). Groups without source filters do not appear.
 * - `/proc/net/igmp6`: no header, `"%-4d %-15s %032x %5d %08X %ld"` (index, name, group, users,
 *   flags, timer); lists every interface with IPv6, up or not.
 * - `/proc/net/mcfilter6`: header, then index, name cut to 6 characters, group and source as 32
 *   hex digits, INC, EXC.
 *
 * The kernel prints no per-group filter mode; `buildMulticastState` (`multicast_state.ts`)
 * derives it. The operational MLD version is not printed anywhere: it is reported as MLDv2 unless
 * `force_mld_version` forces 1 (a v1 querier heard recently can lower it too, invisibly).
 *
 * @module
 */

import { LITTLE_ENDIAN } from "../ffi/constants.ts";
import { ipv4FromWord, ipv6FromHex, procLines, procRows } from "./_proc_fields.ts";

/** One group line of `/proc/net/igmp`. */
export interface IgmpGroupEntry {
  /** The group, dotted quad. */
  group: string;
  /** Sockets joined to it. */
  users: number;
  /** Whether a report timer is running. */
  timerRunning: boolean;
  /** Whether this host sent the last report for it. */
  reporter: boolean;
}

/** One interface block of `/proc/net/igmp`. */
export interface IgmpInterfaceEntry {
  /** Interface index. */
  index: number;
  /** Interface name. */
  name: string;
  /** The `Count` column: groups on the interface. */
  count: number;
  /** The version from the `Querier` column (1, 2 or 3), or null when it is missing. */
  version: number | null;
  /** Its groups. */
  groups: IgmpGroupEntry[];
}

/** One line of `/proc/net/igmp6`. */
export interface Igmp6Entry {
  /** Interface index. */
  index: number;
  /** Interface name. */
  name: string;
  /** The group, RFC 5952 text. */
  group: string;
  /** Sockets (and kernel users) joined to it. */
  users: number;
  /** The flags column (MAF_* bits). */
  flags: number;
}

/** One line of `/proc/net/mcfilter` or `/proc/net/mcfilter6`: one source of one group. */
export interface McfilterEntry {
  /** Interface index. */
  index: number;
  /** Interface name as printed: cut to 6 characters by the kernel. */
  name: string;
  /** The group. */
  group: string;
  /** The source. */
  source: string;
  /** Sockets in INCLUDE mode that list this source. */
  include: number;
  /** Sockets in EXCLUDE mode that list this source. */
  exclude: number;
}

/** Source filter mode of a join. */
export type FilterMode = "INCLUDE" | "EXCLUDE";

/** Options for {@linkcode parseIgmp}. */
export interface ParseIgmpOptions {
  /**
   * Whether the kernel that wrote the file is little-endian (the group column is a host-order
   * integer).
   *
   * @default {true on little-endian hosts}
   */
  littleEndian?: boolean;
}

/**
 * Parses `/proc/net/igmp`.
 *
 * @example
 * ```ts
 * import { parseIgmp } from "./proc_igmp.ts";
 * const text = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n" +
 *   "1\tlo        :     2      V3\n" +
 *   "\t\t\t\t030201EF     1 0:00000000\t\t0\n" +
 *   "\t\t\t\t010000E0     1 0:00000000\t\t0\n";
 * const [lo] = parseIgmp(text, { littleEndian: true });
 * lo.version; // 3
 * lo.groups[0].group; // "239.1.2.3"
 * ```
 *
 * @param text The file's contents.
 * @param options Byte order of the group column.
 * @returns The interfaces, in file order.
 */
export function parseIgmp(text: string, options: ParseIgmpOptions = {}): IgmpInterfaceEntry[] {
  const littleEndian = options.littleEndian ?? LITTLE_ENDIAN;
  const result: IgmpInterfaceEntry[] = [];
  let current: IgmpInterfaceEntry | null = null;
  for (const line of procLines(text)) {
    const head = /^(\d+)\s+(\S+?)\s*:\s*(\d+)?\s*(?:V(\d))?/.exec(line);
    if (head !== null) {
      current = {
        index: Number(head[1]),
        name: head[2],
        count: head[3] === undefined ? 0 : Number(head[3]),
        version: head[4] === undefined ? null : Number(head[4]),
        groups: [],
      };
      result.push(current);
      continue;
    }
    if (current === null) continue;
    const fields = line.trim().split(/\s+/);
    if (!/^[0-9A-Fa-f]{8}$/.test(fields[0])) continue;
    const users = toInt(fields[1]);
    current.groups.push({
      group: ipv4FromWord(parseInt(fields[0], 16), littleEndian),
      users: users ?? 0,
      timerRunning: fields[2]?.startsWith("1:") ?? false,
      reporter: fields[3] === "1",
    });
  }
  return result;
}

/**
 * Parses `/proc/net/igmp6`.
 *
 * @example
 * ```ts
 * import { parseIgmp6 } from "./proc_igmp.ts";
 * const [entry] = parseIgmp6(
 *   "1    lo              ff020000000000000000000000000001     1 0000000C 0\n",
 * );
 * entry.group; // "ff02::1"
 * entry.users; // 1
 * ```
 *
 * @param text The file's contents.
 * @returns The lines, in file order.
 */
export function parseIgmp6(text: string): Igmp6Entry[] {
  const result: Igmp6Entry[] = [];
  for (const fields of procRows(text)) {
    if (fields.length < 3) continue;
    const index = toInt(fields[0]);
    const group = ipv6FromHex(fields[2]);
    if (index === null || group === null) continue;
    const flags = /^[0-9A-Fa-f]{1,8}$/.test(fields[4] ?? "") ? parseInt(fields[4], 16) : 0;
    result.push({ index, name: fields[1], group, users: toInt(fields[3]) ?? 0, flags });
  }
  return result;
}

/**
 * Parses `/proc/net/mcfilter` (groups and sources in network byte order, `0x`-prefixed).
 *
 * @example
 * ```ts
 * import { parseMcfilter } from "./proc_igmp.ts";
 * const [entry] = parseMcfilter(
 *   "Idx Device        MCA        SRC    INC    EXC\n" +
 *     "  1     lo 0xe8010203 0x0a010203      1      0\n",
 * );
 * entry.group; // "232.1.2.3"
 * entry.source; // "10.1.2.3"
 * entry.include; // 1
 * ```
 *
 * @param text The file's contents.
 * @returns One entry per (group, source) line.
 */
export function parseMcfilter(text: string): McfilterEntry[] {
  return parseFilter(text, hexIpv4);
}

/**
 * Parses `/proc/net/mcfilter6`.
 *
 * @example
 * ```ts
 * import { parseMcfilter6 } from "./proc_igmp.ts";
 * const [entry] = parseMcfilter6(
 *   "Idx Device                Multicast Address                   Source Address    INC    EXC\n" +
 *     "  1     lo ff35000000000000000000000000abcd 20010db8000000000000000000000007      1      0\n",
 * );
 * entry.group; // "ff35::abcd"
 * entry.source; // "2001:db8::7"
 * ```
 *
 * @param text The file's contents.
 * @returns One entry per (group, source) line.
 */
export function parseMcfilter6(text: string): McfilterEntry[] {
  return parseFilter(text, ipv6FromHex);
}

function parseFilter(text: string, address: (hex: string) => string | null): McfilterEntry[] {
  const result: McfilterEntry[] = [];
  for (const fields of procRows(text)) {
    if (fields.length < 6) continue;
    const index = toInt(fields[0]);
    const group = address(fields[2]);
    const source = address(fields[3]);
    const include = toInt(fields[4]);
    const exclude = toInt(fields[5]);
    if (index === null || group === null || source === null) continue;
    if (include === null || exclude === null) continue;
    result.push({ index, name: fields[1], group, source, include, exclude });
  }
  return result;
}

function hexIpv4(text: string): string | null {
  const match = /^(?:0x)?([0-9A-Fa-f]{8})$/.exec(text);
  return match === null ? null : ipv4FromWord(parseInt(match[1], 16), false);
}

function toInt(text: string | undefined): number | null {
  return text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : null;
}
