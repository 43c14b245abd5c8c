/**
 * The route the kernel itself chooses for an address, asked with `ip -j route get` (policy
 * rules, the local table and multicast routes included — what a join without an interface and
 * the reverse-path check actually use), and its parser, a pure function of the output.
 *
 * @module
 */

import type { AddressFamily } from "../address.ts";
import { isFailure, type ProgramFailure, runProgram } from "../_command.ts";

/** A route `ip route get` gave. */
export interface RouteLookup {
  /** `"unicast"`, `"multicast"`, `"local"`, `"broadcast"` … */
  type: string;
  /** The interface it leaves through (`lo` for local routes), or null. */
  interface: string | null;
  /** The next hop, or null when on-link. */
  gateway: string | null;
}

/** No route: the kernel's answer (`Network is unreachable`, `No route to host` …). */
export interface NoRoute {
  /** The kernel's words, as `ip` printed them. */
  noRoute: string;
}

/**
 * Parses the output of `ip -j route get ADDRESS`.
 *
 * @example
 * ```ts
 * import { parseRouteGet } from "./route_lookup.ts";
 * parseRouteGet('[{"type":"multicast","dst":"239.1.1.1","dev":"veth0","prefsrc":"10.0.0.2"}]');
 * // { type: "multicast", interface: "veth0", gateway: null }
 * parseRouteGet('[{"dst":"10.9.0.1","gateway":"10.0.0.1","dev":"eth0"}]')?.type; // "unicast"
 * parseRouteGet("not json"); // null
 * ```
 *
 * @param json The output.
 * @returns The route, or null when the output is not a route.
 */
export function parseRouteGet(json: string): RouteLookup | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  const first = Array.isArray(parsed) ? parsed[0] : null;
  if (first === null || typeof first !== "object") return null;
  const route = first as Record<string, unknown>;
  return {
    type: typeof route.type === "string" ? route.type : "unicast",
    interface: typeof route.dev === "string" ? route.dev : null,
    gateway: typeof route.gateway === "string" ? route.gateway : null,
  };
}

/**
 * Whether a lookup found no route.
 *
 * @example
 * ```ts
 * import { isNoRoute } from "./route_lookup.ts";
 * isNoRoute({ noRoute: "Network is unreachable" }); // true
 * ```
 *
 * @param result A lookup result.
 * @returns True for {@linkcode NoRoute}.
 */
export function isNoRoute(result: RouteLookup | NoRoute | ProgramFailure): result is NoRoute {
  return "noRoute" in result;
}

/**
 * Asks the kernel for the route to `address` (`ip -j [-6] route get ADDRESS`).
 *
 * @example
 * ```ts ignore
 * import { lookupRoute } from "./route_lookup.ts";
 * const route = await lookupRoute("239.1.2.3", "IPv4");
 * ```
 *
 * @param address The address, canonical text.
 * @param family Its family.
 * @returns The route, no route (with the kernel's reason), or why `ip` could not be run.
 */
export async function lookupRoute(
  address: string,
  family: AddressFamily,
): Promise<RouteLookup | NoRoute | ProgramFailure> {
  const argv = ["ip", "-j", ...(family === "IPv6" ? ["-6"] : []), "route", "get", address];
  const result = await runProgram(argv);
  if (isFailure(result)) return result;
  if (result.code !== 0) {
    const answer = /RTNETLINK answers:\s*(.+)/.exec(result.stderr);
    if (answer !== null) return { noRoute: answer[1].trim() };
    return { failure: "failed", program: "ip", detail: result.stderr.trim() };
  }
  return parseRouteGet(result.stdout) ?? { noRoute: `unreadable answer: ${result.stdout.trim()}` };
}
