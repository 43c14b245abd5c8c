/**
 * The kernel's routing tables as `/proc/net/route` (IPv4, main table) and `/proc/net/ipv6_route`
 * (IPv6, every table) print them, and the interface they give for an address: the one the kernel
 * uses for a multicast join without an interface, short of policy routing.
 *
 * The parsers are pure functions of the file text and never throw on odd input: lines they do
 * not understand (the header, a truncated line) are skipped. Facts about the formats (Linux 6.x,
 * checked against routes added in a namespace):
 *
 * - `/proc/net/route`: a header, then tab-separated `Iface Destination Gateway Flags RefCnt Use
 *   Metric Mask MTU Window IRTT`. Destination, gateway and mask are `%08X` of the `__be32` read
 *   as a host integer (byte-reversed on little-endian hosts: `000001EF` is 239.1.0.0), flags are
 *   hex, the metric decimal; a reject route (`ip route add unreachable …`) has interface `*`.
 * - `/proc/net/ipv6_route`: no header, space-separated destination (32 hex digits), prefix
 *   length (hex), source and its length, next hop, then metric, refcount, use and flags (hex)
 *   and the interface. The local table's routes and the unreachable ones are listed on `lo`.
 *
 * @module
 */

import { type AddressFamily, parseAddress, type ParsedAddress } from "./address.ts";
import { readKernelFile } from "../ffi/procfs.ts";
import { LITTLE_ENDIAN } from "../ffi/constants.ts";
import { ipv4FromWord, ipv6FromHex, procRows } from "./_proc_fields.ts";

/** `RTF_UP`: the route is usable. */
const RTF_UP = 0x1;
/** `RTF_REJECT`: an unreachable, prohibit or blackhole route. */
const RTF_REJECT = 0x200;
const HEX8 = /^[0-9A-Fa-f]{8}$/;
const HEX = /^[0-9A-Fa-f]{1,8}$/;

/** One route of `/proc/net/route` or `/proc/net/ipv6_route`. */
export interface RouteEntry {
  /** Family of the table it came from. */
  family: AddressFamily;
  /** Destination prefix, as text. */
  destination: string;
  /** Prefix length in bits. */
  prefixLength: number;
  /** Route metric (priority): lower wins among equal prefixes. */
  metric: number;
  /** The `RTF_*` flags: 0x1 up, 0x2 gateway, 0x200 reject … */
  flags: number;
  /** Interface name as printed (`*` for an IPv4 reject route). */
  interface: string;
}

/** Options for {@linkcode parseRouteTable}. */
export interface ParseRouteTableOptions {
  /**
   * Whether the kernel that wrote the file is little-endian (destination and mask are host-order
   * integers).
   *
   * @default {true on little-endian hosts}
   */
  littleEndian?: boolean;
}

/** Options for {@linkcode readRouteInterface}. */
export interface ReadRouteInterfaceOptions extends ParseRouteTableOptions {
  /** Where procfs is mounted; tests point it at a temporary directory. @default {"/proc"} */
  procRoot?: string;
}

/**
 * Parses `/proc/net/route`.
 *
 * @example
 * ```ts
 * import { parseRouteTable } from "./proc_route.ts";
 * const text = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
 *   "eth1\t000001EF\t00000000\t0001\t0\t0\t10\t0000FFFF\t0\t0\t0\n";
 * const [route] = parseRouteTable(text, { littleEndian: true });
 * route.destination; // "239.1.0.0"
 * route.prefixLength; // 16
 * route.metric; // 10
 * ```
 *
 * @param text The file's contents.
 * @param options Byte order of the destination and mask columns.
 * @returns The routes, in file order.
 */
export function parseRouteTable(text: string, options: ParseRouteTableOptions = {}): RouteEntry[] {
  const littleEndian = options.littleEndian ?? LITTLE_ENDIAN;
  const result: RouteEntry[] = [];
  for (const f of procRows(text)) {
    if (f.length < 8) continue;
    const [name, destHex, , flagsHex, , , metricText, maskHex] = f;
    if (!HEX8.test(destHex) || !HEX8.test(maskHex) || !HEX.test(flagsHex)) continue;
    if (!/^\d{1,10}$/.test(metricText)) continue;
    result.push({
      family: "IPv4",
      destination: ipv4FromWord(parseInt(destHex, 16), littleEndian),
      prefixLength: popcount(parseInt(maskHex, 16)),
      metric: Number(metricText),
      flags: parseInt(flagsHex, 16),
      interface: name,
    });
  }
  return result;
}

/**
 * Parses `/proc/net/ipv6_route`.
 *
 * @example
 * ```ts
 * import { parseIpv6RouteTable } from "./proc_route.ts";
 * const [route] = parseIpv6RouteTable(
 *   "ff3e0001000000000000000000000000 20 00000000000000000000000000000000 00 " +
 *     "00000000000000000000000000000000 0000000a 00000002 00000000 00000001     eth1\n",
 * );
 * route.destination; // "ff3e:1::"
 * route.prefixLength; // 32
 * route.metric; // 10
 * ```
 *
 * @param text The file's contents.
 * @returns The routes, in file order.
 */
export function parseIpv6RouteTable(text: string): RouteEntry[] {
  const result: RouteEntry[] = [];
  for (const f of procRows(text)) {
    if (f.length < 10) continue;
    const destination = ipv6FromHex(f[0]);
    if (destination === null || !HEX.test(f[1]) || !HEX.test(f[5]) || !HEX.test(f[8])) continue;
    result.push({
      family: "IPv6",
      destination,
      prefixLength: parseInt(f[1], 16),
      metric: parseInt(f[5], 16),
      flags: parseInt(f[8], 16),
      interface: f[9],
    });
  }
  return result;
}

/**
 * The route the kernel's tables give for an address: the longest matching prefix, then the
 * lowest metric (the first listed among equals). Only routes that are up count; from the IPv6
 * table, reject routes and routes on `lo` (the local table, the unreachable defaults) do not
 * count either.
 *
 * @example
 * ```ts
 * import { parseRouteTable, selectRoute } from "./proc_route.ts";
 * const routes = parseRouteTable(
 *   "eth0\t00000000\t0100140A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
 *     "eth1\t000000EF\t00000000\t0001\t0\t0\t50\t000000FF\t0\t0\t0\n",
 *   { littleEndian: true },
 * );
 * selectRoute("239.1.2.3", routes)?.interface; // "eth1"
 * selectRoute("224.0.0.251", routes)?.interface; // "eth0" (the default route)
 * ```
 *
 * @param address The address, as text or bytes (4 or 16).
 * @param routes Routes of one or both tables.
 * @returns The best route, or null when none matches.
 * @throws {InvalidValueError} When `address` is text that is not an IP address.
 */
export function selectRoute(
  address: string | Uint8Array,
  routes: readonly RouteEntry[],
): RouteEntry | null {
  const bytes = typeof address === "string" ? parseAddress(address).bytes : address;
  const family: AddressFamily = bytes.length === 4 ? "IPv4" : "IPv6";
  let best: RouteEntry | null = null;
  for (const route of routes) {
    if (route.family !== family || (route.flags & RTF_UP) === 0) continue;
    if (family === "IPv6" && ((route.flags & RTF_REJECT) !== 0 || route.interface === "lo")) {
      continue;
    }
    if (!prefixMatches(bytes, parseAddress(route.destination).bytes, route.prefixLength)) continue;
    if (
      best === null || route.prefixLength > best.prefixLength ||
      (route.prefixLength === best.prefixLength && route.metric < best.metric)
    ) {
      best = route;
    }
  }
  return best;
}

/**
 * The interface the kernel's routing table gives for an address (longest prefix, then lowest
 * metric: see {@linkcode selectRoute}), read from `/proc/net/route` or `/proc/net/ipv6_route`.
 *
 * @example
 * ```ts ignore
 * import { parseAddress } from "./address.ts";
 * import { readRouteInterface } from "./proc_route.ts";
 * readRouteInterface(parseAddress("239.1.2.3")); // "eth0", say, or null
 * ```
 *
 * @param address The address: its family and bytes (a {@linkcode ParsedAddress} fits).
 * @param options Where procfs is, and its byte order.
 * @returns The interface name, or null when no route matches or the table cannot be read.
 */
export function readRouteInterface(
  address: Pick<ParsedAddress, "family" | "bytes">,
  options: ReadRouteInterfaceOptions = {},
): string | null {
  const root = (options.procRoot ?? "/proc").replace(/\/+$/, "");
  let routes: RouteEntry[];
  try {
    routes = address.family === "IPv4"
      ? parseRouteTable(readKernelFile(`${root}/net/route`), options)
      : parseIpv6RouteTable(readKernelFile(`${root}/net/ipv6_route`));
  } catch {
    return null;
  }
  return selectRoute(address.bytes, routes)?.interface ?? null;
}

function prefixMatches(address: Uint8Array, prefix: Uint8Array, bits: number): boolean {
  if (address.length !== prefix.length) return false;
  for (let i = 0; i < address.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((address[i] & mask) !== (prefix[i] & mask)) return false;
  }
  return true;
}

function popcount(value: number): number {
  let v = value >>> 0;
  let n = 0;
  while (v !== 0) {
    n += v & 1;
    v >>>= 1;
  }
  return n;
}
