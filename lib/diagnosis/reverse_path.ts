/**
 * Reverse-path filtering (IPv4 `rp_filter`): the kernel drops a datagram whose source it would
 * not route back the way the datagram came. The mode in force on an interface is the larger of
 * `net.ipv4.conf.all.rp_filter` and the interface's own (0 off, 1 strict, 2 loose); strict wants
 * the route back to leave through the receiving interface, loose wants any route back. A route
 * back that is not unicast (unreachable, blackhole, prohibit, or the host's own address) fails
 * both. Drops are counted in `TcpExt.IPReversePathFilter` of `/proc/net/netstat`.
 *
 * {@linkcode reversePathVerdict} is that rule as a pure function; {@linkcode checkReversePath}
 * applies it to the sources of a join with the kernel's own route back (`ip route get`), and
 * asks the kernel to confirm a drop (`ip route get LOCAL from SOURCE iif IFACE`, which runs the
 * input path, reverse-path check included, and also knows multipath routes back).
 *
 * @module
 */

import { readSysctl, validInterfaceName } from "../sysctl.ts";
import { readReversePathDrops } from "../proc_counters.ts";
import type { NetworkInterface } from "../interfaces.ts";
import { describeFailure, isFailure, runProgram } from "../_command.ts";
import type { Finding } from "./finding.ts";
import type { Reception } from "./reception.ts";
import { isNoRoute, lookupRoute, type RouteLookup } from "./route_lookup.ts";

/** 0 off, 1 strict, 2 loose. */
export type RpFilterMode = 0 | 1 | 2;

/** The route back to a source, as the kernel gives it. */
export interface RouteBack {
  /** `"unicast"`, `"local"`, `"unreachable"` … */
  type: string;
  /** The interface it leaves through. */
  interface: string | null;
}

/** What {@linkcode reversePathVerdict} decides from. */
export interface ReversePathInput {
  /** The mode in force. */
  mode: RpFilterMode;
  /** The interface the datagram arrives on. */
  receivingInterface: string;
  /** The route back to its source, or null when there is none. */
  routeBack: RouteBack | null;
}

/** Why a source passes or is dropped. */
export type ReversePathReason =
  | "off"
  | "strict-same-interface"
  | "strict-other-interface"
  | "loose-route-back"
  | "no-route-back"
  | "not-unicast";

/** The decision. */
export interface ReversePathVerdict {
  /** Whether the datagram passes. */
  accepted: boolean;
  /** Why. */
  reason: ReversePathReason;
}

/**
 * The `rp_filter` mode in force: the larger of `conf/all` and the interface's value.
 *
 * @example
 * ```ts
 * import { rpFilterMode } from "./reverse_path.ts";
 * rpFilterMode(1, 0); // 1 (strict)
 * rpFilterMode(1, 2); // 2 (loose)
 * rpFilterMode(null, 0); // null (conf/all unreadable)
 * ```
 *
 * @param all `net.ipv4.conf.all.rp_filter`, or null when unreadable.
 * @param iface The interface's `rp_filter`, or null when unreadable.
 * @returns The mode, or null when it cannot be known.
 */
export function rpFilterMode(all: number | null, iface: number | null): RpFilterMode | null {
  if (all === null || iface === null) return null;
  return Math.min(2, Math.max(all, iface)) as RpFilterMode;
}

/**
 * Whether reverse-path filtering lets a datagram through (Linux `fib_validate_source`).
 *
 * @example
 * ```ts
 * import { reversePathVerdict } from "./reverse_path.ts";
 * reversePathVerdict({ mode: 1, receivingInterface: "eth1", routeBack: null });
 * // { accepted: false, reason: "no-route-back" }
 * reversePathVerdict({
 *   mode: 2,
 *   receivingInterface: "eth1",
 *   routeBack: { type: "unicast", interface: "eth0" },
 * }); // { accepted: true, reason: "loose-route-back" }
 * ```
 *
 * @param input Mode, receiving interface and route back.
 * @returns The decision.
 */
export function reversePathVerdict(input: ReversePathInput): ReversePathVerdict {
  if (input.mode === 0) return { accepted: true, reason: "off" };
  const back = input.routeBack;
  if (back === null) return { accepted: false, reason: "no-route-back" };
  if (back.type !== "unicast") return { accepted: false, reason: "not-unicast" };
  if (input.mode === 2) return { accepted: true, reason: "loose-route-back" };
  return back.interface === input.receivingInterface
    ? { accepted: true, reason: "strict-same-interface" }
    : { accepted: false, reason: "strict-other-interface" };
}

/** For sources seen arriving (the wire tap): how the kernel's drop counter grew meanwhile. */
export interface SeenOnWire {
  /** Growth of `IPReversePathFilter` while watching, or null when unknown. */
  counterGrowth: number | null;
}

/** The mode in force on an interface and its two parts, read from /proc/sys. */
export interface RpFilterSetting {
  /** The mode, or null when a value cannot be read. */
  mode: RpFilterMode | null;
  /** `conf/all`. */
  all: number | null;
  /** The interface's. */
  iface: number | null;
}

/**
 * Reads `rp_filter` of `conf/all` and of an interface.
 *
 * @example
 * ```ts
 * import { readRpFilter } from "./reverse_path.ts";
 * const dir = Deno.makeTempDirSync();
 * for (const [name, value] of [["all", "1"], ["eth1", "0"]]) {
 *   Deno.mkdirSync(`${dir}/sys/net/ipv4/conf/${name}`, { recursive: true });
 *   Deno.writeTextFileSync(`${dir}/sys/net/ipv4/conf/${name}/rp_filter`, `${value}\n`);
 * }
 * readRpFilter("eth1", { procRoot: dir }); // { mode: 1, all: 1, iface: 0 }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param iface The interface name.
 * @param options Where procfs is.
 * @returns The setting.
 */
export function readRpFilter(iface: string, options: { procRoot?: string } = {}): RpFilterSetting {
  const root = (options.procRoot ?? "/proc").replace(/\/+$/, "");
  const read = (name: string) =>
    validInterfaceName(name) ? readSysctl(`${root}/sys/net/ipv4/conf/${name}/rp_filter`) : null;
  const all = read("all");
  const own = read(iface);
  return { mode: rpFilterMode(all, own), all, iface: own };
}

/**
 * Checks whether reverse-path filtering on the receiving interface drops the sources of an SSM
 * join (IPv4; IPv6 has no `rp_filter`). For a join without sources, warns when filtering is on
 * and the kernel has counted drops.
 *
 * @example
 * ```ts ignore
 * import { resolveInterface } from "../interfaces.ts";
 * import { resolveReception } from "./reception.ts";
 * import { checkReversePath } from "./reverse_path.ts";
 * const reception = resolveReception({ group: "232.1.1.1", sources: ["192.0.2.10"] });
 * await checkReversePath(reception, resolveInterface("eth1"));
 * ```
 *
 * @param reception The checked request.
 * @param iface The receiving interface.
 * @param sources The sources to judge (default: the join's INCLUDE list).
 * @param seen For sources the wire tap saw arriving: the messages say so.
 * @returns The findings (`rp-filter`).
 */
export async function checkReversePath(
  reception: Reception,
  iface: NetworkInterface,
  sources: readonly string[] = reception.sources,
  seen: SeenOnWire | null = null,
): Promise<Finding[]> {
  if (reception.family !== "IPv4") return [];
  const setting = readRpFilter(iface.name);
  if (setting.mode === null) {
    return [{
      id: "rp-filter",
      severity: "warning",
      message: `Cannot read rp_filter of conf/all and ${iface.name}: whether reverse-path ` +
        "filtering drops the senders is unknown",
      fix: `sysctl net.ipv4.conf.all.rp_filter net.ipv4.conf.${iface.name}.rp_filter`,
    }];
  }
  if (setting.mode === 0) return [];
  const drops = readReversePathDrops();
  const counted = drops === null || drops === 0
    ? ""
    : `; the kernel has counted ${drops} reverse-path drops in this network namespace`;
  const mode = `rp_filter = ${setting.mode} (${setting.mode === 1 ? "strict" : "loose"}: the ` +
    `larger of conf/all = ${setting.all} and conf/${iface.name} = ${setting.iface})`;
  if (sources.length === 0) {
    if (drops === null || drops === 0) return [];
    return [{
      id: "rp-filter",
      severity: "warning",
      message: `Reverse-path filtering is on for ${iface.name}, ${mode}${counted}: senders ` +
        `without a route back${setting.mode === 1 ? ` through ${iface.name}` : ""} are dropped`,
      fix: setting.mode === 1
        ? `sysctl -w net.ipv4.conf.${iface.name}.rp_filter=2`
        : `ip route add SENDER dev ${iface.name}`,
    }];
  }
  const findings: Finding[] = [];
  for (const source of sources) {
    const found = await lookupRoute(source, "IPv4");
    if (isFailure(found)) {
      findings.push({
        id: "rp-filter",
        severity: "warning",
        message: `Cannot tell whether reverse-path filtering on ${iface.name} (${mode}) drops ` +
          `${source}: ${describeFailure(found)}`,
        fix: `ip route get ${source}`,
      });
      continue;
    }
    const routeBack = isNoRoute(found) ? null : toRouteBack(found);
    const verdict = reversePathVerdict({
      mode: setting.mode,
      receivingInterface: iface.name,
      routeBack,
    });
    if (verdict.accepted || await kernelAccepts(source, iface)) continue;
    const why = verdict.reason === "no-route-back"
      ? `there is no route back to ${source} (${isNoRoute(found) ? found.noRoute : ""})`
      : verdict.reason === "not-unicast"
      ? `the route back to ${source} is ${routeBack?.type}`
      : `the route back to ${source} leaves through ${routeBack?.interface}, not ${iface.name}`;
    const grew = seen?.counterGrowth
      ? `; the kernel's reverse-path drop counter grew by ${seen.counterGrowth} while watching`
      : "";
    findings.push({
      id: "rp-filter",
      severity: "error",
      message: seen === null
        ? `Reverse-path filtering drops ${source} on ${iface.name}: ${mode} and ${why}${counted}`
        : `Datagrams from ${source} reach ${iface.name} but reverse-path filtering drops them: ` +
          `${mode} and ${why}${grew}`,
      fix: verdict.reason === "strict-other-interface"
        ? `sysctl -w net.ipv4.conf.${iface.name}.rp_filter=2`
        : `ip route add ${source} dev ${iface.name}`,
    });
  }
  return findings;
}

function toRouteBack(route: RouteLookup): RouteBack {
  return { type: route.type, interface: route.interface };
}

/**
 * Whether the kernel's input path accepts a datagram from `source` arriving on `iface` (to one
 * of its local addresses): the reverse-path check as the kernel runs it, multipath included.
 * False when it refuses or cannot be asked (no IPv4 address on the interface, no `ip`).
 */
async function kernelAccepts(source: string, iface: NetworkInterface): Promise<boolean> {
  const local = iface.addresses.find((a) => a.family === "IPv4")?.address;
  if (local === undefined) return false;
  const result = await runProgram(["ip", "route", "get", local, "from", source, "iif", iface.name]);
  return !isFailure(result) && result.code === 0;
}
