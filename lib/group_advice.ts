/**
 * What a lab user should hear about a group before sending to it or joining it: addresses that
 * are not groups one can use (refused), kernel and link-local control groups (a warning), and
 * the SSM range used the wrong way round (a warning): an any-source join inside 232/8 or
 * `ff3x::/32`, which a PIM-SSM router never forwards, or a source join outside it, which only
 * works where every router runs IGMPv3/MLDv2 source filtering.
 *
 * @module
 */

import { formatAddress, isSsmGroup, parseAddress } from "./address.ts";
import { InvalidValueError } from "./errors.ts";

/** What kind of use the advice is for. */
export interface GroupUse {
  /** `"send"` (mcast-send) or `"join"` (mcast-receive). */
  use: "send" | "join";
  /** Whether the join names sources (an INCLUDE list); ignored for sending. */
  withSources?: boolean;
}

/**
 * Refuses groups nobody can use for a lab stream: 224.0.0.0 (the base address of the range,
 * reserved) and IPv6 groups of the reserved scopes 0 and 15 (`ff00::/16`, `ff0f::/16` and
 * their flag variants).
 *
 * @example
 * ```ts
 * import { checkUsableGroup } from "./group_advice.ts";
 * checkUsableGroup("239.1.2.3"); // nothing
 * try {
 *   checkUsableGroup("224.0.0.0");
 * } catch (error) {
 *   (error as Error).message; // 'Invalid group: "224.0.0.0" (expected a group, not the reserved base address of 224.0.0.0/4)'
 * }
 * ```
 *
 * @param group The group.
 * @throws {InvalidValueError} For a reserved address.
 */
export function checkUsableGroup(group: string): void {
  const { family, bytes } = parseAddress(group, { what: "group" });
  if (family === "IPv4" && bytes.every((b, i) => i === 0 ? b === 224 : b === 0)) {
    throw new InvalidValueError(
      "group",
      group,
      "a group, not the reserved base address of 224.0.0.0/4",
    );
  }
  if (
    family === "IPv6" && bytes[0] === 0xff && ((bytes[1] & 0x0f) === 0 || (bytes[1] & 0x0f) === 15)
  ) {
    throw new InvalidValueError(
      "group",
      group,
      `a group of a usable scope (${formatAddress(bytes)} has the reserved scope ${
        bytes[1] & 0x0f
      })`,
    );
  }
}

/**
 * Warnings about a group a lab user would want before the run (none for an ordinary group).
 *
 * @example
 * ```ts
 * import { groupWarnings } from "./group_advice.ts";
 * groupWarnings("232.1.1.1", { use: "join" })[0];
 * // "232.1.1.1 is in the SSM range 232.0.0.0/8: an any-source (*,G) join there is never forwarded by PIM-SSM routers; give the source (mcast-receive 232.1.1.1 SOURCE)"
 * groupWarnings("239.1.2.3", { use: "join" }); // []
 * ```
 *
 * @param group The group.
 * @param use Sending or joining, with or without sources.
 * @returns The warnings, one line each.
 */
export function groupWarnings(group: string, use: GroupUse): string[] {
  const { family, bytes } = parseAddress(group, { what: "group" });
  const text = formatAddress(bytes);
  const warnings: string[] = [];
  if (family === "IPv4" && bytes[0] === 224 && bytes[1] === 0 && bytes[2] === 0) {
    warnings.push(
      `${text} is in 224.0.0.0/24, the local network control block: routers never forward it ` +
        "(TTL is ignored) and protocols use it (224.0.0.1 all hosts, .2 all routers, .22 IGMPv3, " +
        ".251 mDNS …); pick a group in 239.0.0.0/8 for a lab stream",
    );
  }
  if (family === "IPv6" && bytes[0] === 0xff && (bytes[1] & 0xf0) === 0) {
    // ff0x::1 and ff0x::2 (permanent, well-known): all nodes, all routers.
    let wellKnown = true;
    for (let i = 2; i < 15; i++) if (bytes[i] !== 0) wellKnown = false;
    if (wellKnown && (bytes[15] === 1 || bytes[15] === 2)) {
      warnings.push(
        `${text} is the ${bytes[15] === 1 ? "all-nodes" : "all-routers"} group every ` +
          `${bytes[15] === 1 ? "node" : "router"} joins by itself; pick a group of your own ` +
          "(ff3e::8000:1 with a source, ff15::1234 without) for a lab stream",
      );
    }
  }
  if (use.use === "join") {
    const ssm = isSsmGroup(bytes);
    const range = family === "IPv4" ? "232.0.0.0/8" : "ff3x::/32";
    if (ssm && !use.withSources) {
      warnings.push(
        `${text} is in the SSM range ${range}: an any-source (*,G) join there is never ` +
          `forwarded by PIM-SSM routers; give the source (mcast-receive ${text} SOURCE)`,
      );
    } else if (!ssm && use.withSources) {
      warnings.push(
        `${text} is outside the SSM range ${range}: the source join works on this link and ` +
          "where routers filter sources by IGMPv3/MLDv2, but a PIM-SM router treats the group " +
          "as any-source (shared tree)",
      );
    }
  }
  return warnings;
}
