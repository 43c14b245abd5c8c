/**
 * Everything that stops this host from receiving a group, checked in order — the route and the
 * interface, reverse-path filtering, the IGMP/MLD version and the querier, the firewall, the
 * membership limits, the memberships themselves, the SSM range — each finding with the command
 * that fixes it. Read-only, and root is not needed: what cannot be read without it is a warning
 * saying so. This is what `mcast-status --check` prints.
 *
 * @module
 */

import { parseAddress } from "../address.ts";
import { checkFirewall } from "./firewall_check.ts";
import { type Finding, receptionReady, uniqueFindings } from "./finding.ts";
import { checkLimits } from "./limits_check.ts";
import { checkMembership } from "./membership_check.ts";
import { type Reception, type ReceptionRequest, resolveReception } from "./reception.ts";
import { checkReversePath } from "./reverse_path.ts";
import { checkGroupRoute, checkLink } from "./route_check.ts";
import { checkSsmRange } from "./ssm_check.ts";
import { checkVersion, type QuerierObservation } from "./version_check.ts";

/** Options of {@linkcode checkReception}. */
export interface CheckReceptionOptions {
  /**
   * The caller holds the join (a receiver checking itself): a missing membership is an error,
   * not a warning.
   *
   * @default {false}
   */
  expectJoined?: boolean;
  /**
   * How many groups the receiver joins (for the open-file and per-socket limits).
   *
   * @default {1}
   */
  groups?: number;
  /**
   * Whether the receiver joins all its groups on one socket.
   *
   * @default {false}
   */
  sharedSocket?: boolean;
  /** What a querier listener on the interface heard (see `QuerierWatcher`). */
  querier?: QuerierObservation;
}

/** The outcome: the request as checked, and the findings. */
export interface ReceptionReport {
  /** The group, canonical. */
  group: string;
  /** INCLUDE-mode sources. */
  sources: readonly string[];
  /** EXCLUDE-mode sources. */
  exclude: readonly string[];
  /** The UDP port. */
  port: number;
  /** The receiving interface (named, or the route's), or null when there is none. */
  interface: string | null;
  /** True when no finding is an error. */
  ready: boolean;
  /** The findings, in check order. */
  findings: Finding[];
}

/**
 * Checks what stops this host from receiving a group (or channel) on a port.
 *
 * @example
 * ```ts ignore
 * import { checkReception } from "./check_reception.ts";
 * const report = await checkReception({ group: "232.1.1.1", sources: ["10.0.0.1"], interface: "eth1" });
 * for (const finding of report.findings) console.log(finding.severity, finding.id, finding.fix);
 * ```
 *
 * @param request The group, sources, interface and port (checked first: bad values throw).
 * @param options Receiver facts: whether it holds the join, its group count, a querier heard.
 * @returns The report.
 * @throws {InvalidValueError} When a value of the request is not acceptable.
 */
export async function checkReception(
  request: ReceptionRequest | Reception,
  options: CheckReceptionOptions = {},
): Promise<ReceptionReport> {
  const reception = "groupBytes" in request ? request : resolveReception(request);
  const findings: Finding[] = [];
  const route = await checkGroupRoute(reception);
  findings.push(...route.findings);
  const iface = route.interface;
  if (iface !== null) {
    findings.push(...checkLink(iface));
    findings.push(...await checkReversePath(reception, iface));
    findings.push(...checkVersion(reception, iface, { observation: options.querier }));
  }
  const sources = reception.sources.map((s) => parseAddress(s).bytes);
  const what = `${reception.group} port ${reception.port}`;
  findings.push(
    ...await checkFirewall({
      family: reception.family,
      group: reception.groupBytes,
      sources: sources.length > 0 ? sources : null,
      port: reception.port,
      iface: iface?.name ?? null,
    }, what),
  );
  findings.push(
    ...checkLimits(reception, { groups: options.groups, sharedSocket: options.sharedSocket }),
  );
  findings.push(...await checkMembership(reception, iface, { expectJoined: options.expectJoined }));
  findings.push(...checkSsmRange(reception));
  const unique = uniqueFindings(findings);
  return {
    group: reception.group,
    sources: reception.sources,
    exclude: reception.exclude,
    port: reception.port,
    interface: iface?.name ?? null,
    ready: receptionReady(unique),
    findings: unique,
  };
}
