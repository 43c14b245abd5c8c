/**
 * The kernel's protocol counters the diagnosis reads: `/proc/net/netstat` (a line of names then
 * a line of values per section: `TcpExt: … IPReversePathFilter …`, `IpExt: …`) and the
 * `name value` lines of `/proc/net/snmp6` and `/proc/net/dev_snmp6/<interface>` (IPv6 and
 * ICMPv6, per interface: `Icmp6InGroupMembQueries` counts the MLD queries the interface
 * received). Counters are per network namespace and count since boot (or since the interface
 * appeared).
 *
 * The parsers are pure functions of the file text and skip what they do not understand.
 *
 * @module
 */

import { readKernelFile } from "../ffi/procfs.ts";
import { validInterfaceName } from "./sysctl.ts";

/** Options of the readers. */
export interface ReadCountersOptions {
  /** Where procfs is mounted; tests point it at a temporary directory. @default {"/proc"} */
  procRoot?: string;
}

/**
 * Parses `/proc/net/netstat` (or `/proc/net/snmp`, same layout) into `Section.Name` → value.
 *
 * @example
 * ```ts
 * import { parseNetstat } from "./proc_counters.ts";
 * const counters = parseNetstat(
 *   "TcpExt: SyncookiesSent IPReversePathFilter\nTcpExt: 0 7\nIpExt: InMcastPkts\nIpExt: 12\n",
 * );
 * counters.get("TcpExt.IPReversePathFilter"); // 7
 * counters.get("IpExt.InMcastPkts"); // 12
 * ```
 *
 * @param text The file's contents.
 * @returns The counters.
 */
export function parseNetstat(text: string): Map<string, number> {
  const counters = new Map<string, number>();
  const lines = text.split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    const names = /^(\w+):\s+(.*)$/.exec(lines[i]);
    const values = /^(\w+):\s+(.*)$/.exec(lines[i + 1]);
    if (names === null || values === null || names[1] !== values[1]) continue;
    const keys = names[2].trim().split(/\s+/);
    const numbers = values[2].trim().split(/\s+/);
    if (keys.length !== numbers.length || !numbers.every((n) => /^-?\d+$/.test(n))) continue;
    keys.forEach((key, k) => counters.set(`${names[1]}.${key}`, Number(numbers[k])));
    i++;
  }
  return counters;
}

/**
 * Parses the `name value` lines of `/proc/net/snmp6` or `/proc/net/dev_snmp6/<interface>`.
 *
 * @example
 * ```ts
 * import { parseSnmp6 } from "./proc_counters.ts";
 * parseSnmp6("ifIndex                         \t3\nIcmp6InGroupMembQueries         \t2\n")
 *   .get("Icmp6InGroupMembQueries"); // 2
 * ```
 *
 * @param text The file's contents.
 * @returns The counters.
 */
export function parseSnmp6(text: string): Map<string, number> {
  const counters = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\w+)\s+(\d+)\s*$/.exec(line);
    if (match !== null) counters.set(match[1], Number(match[2]));
  }
  return counters;
}

/**
 * The kernel's count of datagrams dropped by reverse-path filtering in this network namespace
 * (`TcpExt.IPReversePathFilter` of `/proc/net/netstat`), or null when it cannot be read.
 *
 * @example
 * ```ts
 * import { readReversePathDrops } from "./proc_counters.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/net`);
 * Deno.writeTextFileSync(`${dir}/net/netstat`, "TcpExt: IPReversePathFilter\nTcpExt: 3\n");
 * readReversePathDrops({ procRoot: dir }); // 3
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param options Where procfs is.
 * @returns The count, or null.
 */
export function readReversePathDrops(options: ReadCountersOptions = {}): number | null {
  const root = (options.procRoot ?? "/proc").replace(/\/+$/, "");
  try {
    return parseNetstat(readKernelFile(`${root}/net/netstat`)).get("TcpExt.IPReversePathFilter") ??
      null;
  } catch {
    return null;
  }
}

/**
 * The number of MLD queries an interface has received since it appeared
 * (`Icmp6InGroupMembQueries` of `/proc/net/dev_snmp6/<interface>`), or null when it cannot be
 * read (no IPv6 on the interface, no such interface).
 *
 * @example
 * ```ts
 * import { readMldQueriesReceived } from "./proc_counters.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/net/dev_snmp6`, { recursive: true });
 * Deno.writeTextFileSync(`${dir}/net/dev_snmp6/eth1`, "Icmp6InGroupMembQueries \t4\n");
 * readMldQueriesReceived("eth1", { procRoot: dir }); // 4
 * readMldQueriesReceived("eth9", { procRoot: dir }); // null
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param iface The interface name.
 * @param options Where procfs is.
 * @returns The count, or null.
 */
export function readMldQueriesReceived(
  iface: string,
  options: ReadCountersOptions = {},
): number | null {
  if (!validInterfaceName(iface)) return null;
  const root = (options.procRoot ?? "/proc").replace(/\/+$/, "");
  try {
    return parseSnmp6(readKernelFile(`${root}/net/dev_snmp6/${iface}`))
      .get("Icmp6InGroupMembQueries") ?? null;
  } catch {
    return null;
  }
}
