/**
 * The first checks: the route the kernel uses for the group (`no-route`, `wrong-interface`) and
 * the state of the receiving interface (`interface-down`, `no-multicast`). The MULTICAST flag is
 * a warning only: Linux joins, reports and receives on an interface without it (a veth, and
 * `lo`, which never has it); what it stops is the programs that test the flag.
 *
 * A join that names no interface goes out of the interface the kernel's route for the group
 * gives; a join that names one uses it whatever the routes say. So no route is an error only
 * when no interface is named, and a route out of another interface than the named one is a
 * warning: receivers that name the interface still get the group.
 *
 * @module
 */

import { readKernelFile } from "../../ffi/procfs.ts";
import { PLATFORM } from "../../ffi/constants.ts";
import { scopeIdKept } from "../address.ts";
import { listInterfaces, type NetworkInterface } from "../interfaces.ts";
import { readRouteInterface } from "../proc_route.ts";
import { validInterfaceName } from "../sysctl.ts";
import { isFailure } from "../_command.ts";
import type { Finding } from "./finding.ts";
import type { Reception } from "./reception.ts";
import { isNoRoute, lookupRoute } from "./route_lookup.ts";

/** What {@linkcode checkGroupRoute} found. */
export interface GroupRouteCheck {
  /** The findings (`no-route`, `wrong-interface`). */
  findings: Finding[];
  /** The receiving interface: the one named, else the route's; null when neither exists. */
  interface: NetworkInterface | null;
}

/**
 * Checks the kernel's route for the group against the interface named (if any).
 *
 * @example
 * ```ts ignore
 * import { resolveReception } from "./reception.ts";
 * import { checkGroupRoute } from "./route_check.ts";
 * const { findings, interface: iface } = await checkGroupRoute(
 *   resolveReception({ group: "239.1.2.3", interface: "eth1" }),
 * );
 * ```
 *
 * @param reception The checked request.
 * @returns The findings and the receiving interface.
 */
export async function checkGroupRoute(reception: Reception): Promise<GroupRouteCheck> {
  const interfaces = listInterfaces();
  const named = reception.interface;
  if (named !== null && scopeIdKept(reception.groupBytes)) {
    // Link- and interface-local groups are joined on the interface named, never by route.
    return { findings: [], interface: named };
  }
  const found = await lookupRoute(reception.group, reception.family);
  let routeInterface: string | null;
  let noRoute: string | null = null;
  if (isFailure(found)) {
    // Without `ip`, the main table is what the kernel uses short of policy routing.
    routeInterface = readRouteInterface({ family: reception.family, bytes: reception.groupBytes });
    if (routeInterface === null) noRoute = "no matching route in the main table";
  } else if (isNoRoute(found)) {
    routeInterface = null;
    noRoute = found.noRoute;
  } else {
    routeInterface = found.interface;
  }
  const findings: Finding[] = [];
  if (noRoute !== null) {
    const target = named?.name ?? soleCandidate(interfaces, reception) ?? "IFACE";
    findings.push({
      id: "no-route",
      severity: named === null ? "error" : "warning",
      message: named === null
        ? `No route for ${reception.group} (${noRoute}): a join that names no interface fails`
        : `No route for ${reception.group} (${noRoute}): receivers that name no interface ` +
          `cannot join; those that name ${named.name} can`,
      fix: multicastRouteCommand(reception, target, "add"),
    });
  } else if (named !== null && routeInterface !== null && routeInterface !== named.name) {
    findings.push({
      id: "wrong-interface",
      severity: "warning",
      message:
        `The kernel routes ${reception.group} out of ${routeInterface}, not ${named.name}: ` +
        `receivers that name no interface join on ${routeInterface}`,
      fix: multicastRouteCommand(reception, named.name, "replace"),
    });
  }
  const iface = named ?? interfaces.find((i) => i.name === routeInterface) ?? null;
  return { findings, interface: iface };
}

/**
 * The state of the receiving interface: administratively down, no carrier (or an operstate other
 * than up), or the MULTICAST flag off.
 *
 * @example
 * ```ts ignore
 * import { resolveInterface } from "../interfaces.ts";
 * import { checkLink } from "./route_check.ts";
 * checkLink(resolveInterface("eth1")); // [] when it is up, with carrier and multicast
 * ```
 *
 * @param iface The interface.
 * @param options Where sysfs is (its `operstate`).
 * @returns The findings (`interface-down`, `no-multicast`).
 */
export function checkLink(iface: NetworkInterface, options: { sysRoot?: string } = {}): Finding[] {
  const findings: Finding[] = [];
  const name = iface.name;
  const operstate = readOperstate(name, options.sysRoot ?? "/sys");
  if ((iface.flags & PLATFORM.IFF_UP) === 0) {
    findings.push({
      id: "interface-down",
      severity: "error",
      message: `${name} is down (administratively): nothing is received on it`,
      fix: `ip link set dev ${name} up`,
    });
  } else if (
    (iface.flags & PLATFORM.IFF_RUNNING) === 0 ||
    (operstate !== null && operstate !== "up" && operstate !== "unknown")
  ) {
    findings.push({
      id: "interface-down",
      severity: "error",
      message: `${name} is up but has no carrier (operstate ${operstate ?? "not readable"}): ` +
        "nothing can arrive on it",
      fix: `connect ${name} to a live link (the other end of a veth pair: ip link set dev PEER up)`,
    });
  }
  if ((iface.flags & (PLATFORM.IFF_MULTICAST | PLATFORM.IFF_LOOPBACK)) === 0) {
    // Seen on Linux 6.18: joins, reports and reception still work on a veth without the flag.
    findings.push({
      id: "no-multicast",
      severity: "warning",
      message: `${name} has the MULTICAST flag off: Linux still joins and receives on it, but ` +
        "multicast routing daemons (smcroute, pimd) and other programs that test the flag " +
        "skip such interfaces",
      fix: `ip link set dev ${name} multicast on`,
    });
  }
  return findings;
}

/** The command that routes the group's family out of `iface`. */
function multicastRouteCommand(
  reception: Reception,
  iface: string,
  verb: "add" | "replace",
): string {
  return reception.family === "IPv4"
    ? `ip route ${verb} 224.0.0.0/4 dev ${iface}`
    : `ip -6 route ${verb} multicast ff00::/8 dev ${iface} table local metric 1`;
}

/** The one interface (not loopback, up, multicast, with an address of the family), if unique. */
function soleCandidate(interfaces: NetworkInterface[], reception: Reception): string | null {
  const wanted = PLATFORM.IFF_UP | PLATFORM.IFF_MULTICAST;
  const candidates = interfaces.filter((i) =>
    (i.flags & wanted) === wanted && (i.flags & PLATFORM.IFF_LOOPBACK) === 0 &&
    i.addresses.some((a) => a.family === reception.family)
  );
  return candidates.length === 1 ? candidates[0].name : null;
}

function readOperstate(name: string, sysRoot: string): string | null {
  if (!validInterfaceName(name)) return null;
  try {
    return readKernelFile(`${sysRoot.replace(/\/+$/, "")}/class/net/${name}/operstate`).trim();
  } catch {
    return null;
  }
}
