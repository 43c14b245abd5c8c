/**
 * The IGMP / MLD version in force on the receiving interface against what the join needs
 * (`version-forced`: `conf/all` or the interface forces an older version; `querier-version`: an
 * older querier does), and whether a querier is there at all (`no-querier`, a warning: a
 * snooping switch without a querier ages memberships out after about 260 s and the stream stops).
 *
 * What this host can know about queriers: for IGMP, `/proc/net/igmp` shows an IGMPv1/v2 querier
 * heard lately (as the interface's version) but neither an IGMPv3 querier nor the absence of
 * one; for MLD, `/proc/net/dev_snmp6/IFACE` counts the queries received since the interface
 * appeared, not their version. A listener on the interface (see `querier_watcher.ts`) knows more,
 * and its observation, when given, takes precedence.
 *
 * @module
 */

import type { AddressFamily } from "../address.ts";
import type { MembershipProtocol } from "../igmp_version.ts";
import type { NetworkInterface } from "../interfaces.ts";
import { readMldQueriesReceived } from "../proc_counters.ts";
import { readVersionInForce } from "../membership_version.ts";
import { sourceJoinRefusal, versionFixCommand } from "../version_in_force.ts";
import type { Finding } from "./finding.ts";
import type { Reception } from "./reception.ts";

/** What a listener on the interface heard (see `QuerierWatcher`). */
export interface QuerierObservation {
  /** The querier heard, or null when none was. */
  querier: { address: string; version: number } | null;
  /** How long the listener has listened, in seconds. */
  listenedS: number;
}

/** Options of {@linkcode checkVersion}. */
export interface CheckVersionOptions {
  /** What a querier listener heard; absent when nobody listened. */
  observation?: QuerierObservation;
  /** Where procfs is mounted. @default {"/proc"} */
  procRoot?: string;
}

/** The hint every no-querier finding carries. */
const AGING = "snooping switches without a querier age memberships out after about 260 s, " +
  "and the stream stops";

/** The default Query Interval of IGMPv3 and MLDv2 (RFC 3376 8.2, RFC 3810 9.2), seconds. */
const QUERY_INTERVAL_S = 125;

/** The fix of every no-querier finding. */
const ENABLE_QUERIER = "enable a querier on the LAN (a Linux bridge: ip link set dev BRIDGE " +
  "type bridge mcast_querier 1)";

/**
 * The `no-querier` warning of a listener that heard no query since the join.
 *
 * @example
 * ```ts
 * import { noQueryHeard } from "./version_check.ts";
 * noQueryHeard("IPv4", "eth1", 312).message;
 * // "No IGMP query heard on eth1 in the 312 s since the join: snooping switches …"
 * noQueryHeard("IPv4", "eth1", 3).message;
 * // "No IGMP query heard on eth1 in the 3 s since the join (a querier asks every 125 s by
 * // default: one may not have asked yet): snooping switches …"
 * ```
 *
 * @param family IPv4 (IGMP) or IPv6 (MLD).
 * @param iface The interface listened on.
 * @param listenedS How long it listened, in seconds.
 * @returns The finding.
 */
export function noQueryHeard(family: AddressFamily, iface: string, listenedS: number): Finding {
  // A querier asks every Query Interval (125 s by default, RFC 3376 / RFC 3810): a shorter
  // silence says little, and the message says so rather than claim there is none.
  const early = listenedS < QUERY_INTERVAL_S
    ? ` (a querier asks every ${QUERY_INTERVAL_S} s by default: one may not have asked yet)`
    : "";
  return {
    id: "no-querier",
    severity: "warning",
    message: `No ${family === "IPv4" ? "IGMP" : "MLD"} query heard on ${iface} in the ${
      Math.round(listenedS)
    } s since the join${early}: ${AGING}`,
    fix: ENABLE_QUERIER,
  };
}

/**
 * Checks the version in force and the querier for a join on `iface`.
 *
 * @example
 * ```ts ignore
 * import { resolveInterface } from "../interfaces.ts";
 * import { resolveReception } from "./reception.ts";
 * import { checkVersion } from "./version_check.ts";
 * const reception = resolveReception({ group: "232.1.1.1", sources: ["10.0.0.1"] });
 * checkVersion(reception, resolveInterface("eth1"));
 * ```
 *
 * @param reception The checked request.
 * @param iface The receiving interface.
 * @param options A listener's observation, procfs root.
 * @returns The findings (`version-forced`, `querier-version`, `no-querier`).
 */
export function checkVersion(
  reception: Reception,
  iface: NetworkInterface,
  options: CheckVersionOptions = {},
): Finding[] {
  const protocol: MembershipProtocol = reception.family === "IPv4" ? "igmp" : "mld";
  const observation = options.observation;
  const heard = observation?.querier ?? null;
  const inForce = readVersionInForce(iface.name, protocol, {
    procRoot: options.procRoot,
    mldQuerier: protocol === "mld" && heard !== null ? heard.version : null,
  });
  const findings: Finding[] = [];
  const refusal = sourceJoinRefusal(reception, inForce);
  const mldQueries = protocol === "mld"
    ? readMldQueriesReceived(iface.name, { procRoot: options.procRoot })
    : null;
  if (refusal !== null) {
    const querier = inForce.reason === "querier";
    findings.push({
      id: querier ? "querier-version" : "version-forced",
      severity: "error",
      message: refusal,
      fix: querier && protocol === "mld"
        ? `sysctl -w net.ipv6.conf.${iface.name}.force_mld_version=2`
        : versionFixCommand(inForce),
    });
  } else if (
    protocol === "mld" && !inForce.querierKnown && inForce.version === 2 &&
    inForce.reason !== "forced-all" && inForce.reason !== "forced-interface" &&
    (reception.sources.length > 0 || reception.exclude.length > 0) &&
    mldQueries !== null && mldQueries > 0
  ) {
    findings.push({
      id: "querier-version",
      severity: "warning",
      message: `${iface.name} has received ${mldQueries} MLD queries and Linux does not show ` +
        "their version: an MLDv1 querier would make the kernel report in MLDv1, which carries " +
        "no source list, so the router would only learn (*, " + `${reception.group})`,
      fix: `sysctl -w net.ipv6.conf.${iface.name}.force_mld_version=2`,
    });
  }
  if (observation !== undefined) {
    if (heard === null) {
      findings.push(noQueryHeard(reception.family, iface.name, observation.listenedS));
    }
  } else if (protocol === "igmp") {
    if (inForce.reason !== "querier") {
      findings.push({
        id: "no-querier",
        severity: "warning",
        message: `Whether an IGMP querier is active on ${iface.name} cannot be read from /proc ` +
          `(only IGMPv1/v2 queriers show there): ${AGING}`,
        fix: `${ENABLE_QUERIER}; as root, mcast-receive listens for queries and names the querier`,
      });
    }
  } else if (mldQueries === null || mldQueries === 0) {
    findings.push({
      id: "no-querier",
      severity: "warning",
      message: mldQueries === null
        ? `Cannot read the MLD query count of ${iface.name} (/proc/net/dev_snmp6): ${AGING}`
        : `No MLD query has been received on ${iface.name} since it came up: ${AGING}`,
      fix: ENABLE_QUERIER,
    });
  }
  return findings;
}
