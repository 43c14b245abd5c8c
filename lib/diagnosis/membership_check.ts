/**
 * Whether this host is joined to the group, on which interface, and whether its source filter
 * accepts the join's sources (`not-joined`), from `/proc/net/igmp`, `igmp6`, `mcfilter` and
 * `mcfilter6`.
 *
 * Severity: `mcast-status --check` runs before the receiver as often as beside it, and the join
 * is the receiver's to make, not a host setting to fix — so there a missing join is a warning
 * (it tells the user that nothing receives yet, and where the existing joins are). A receiver
 * that runs the check about its own join (`expectJoined`) holds that join: its absence is then an
 * error (the interface was replaced, or another program dropped the membership).
 *
 * @module
 */

import type { NetworkInterface } from "../interfaces.ts";
import { type GroupState, readMulticastState } from "../multicast_state.ts";
import { PermissionError } from "../errors.ts";
import type { Finding, Severity } from "./finding.ts";
import { describeJoin, receiveCommand, type Reception } from "./reception.ts";

/** Options of {@linkcode checkMembership}. */
export interface CheckMembershipOptions {
  /**
   * The caller holds the join (a receiver checking itself): a missing join is an error.
   *
   * @default {false}
   */
  expectJoined?: boolean;
  /** Where procfs is mounted. @default {"/proc"} */
  procRoot?: string;
}

/**
 * Checks the host's memberships for the join.
 *
 * @example
 * ```ts ignore
 * import { resolveReception } from "./reception.ts";
 * import { checkMembership } from "./membership_check.ts";
 * await checkMembership(resolveReception({ group: "239.1.1.1" }), null);
 * ```
 *
 * @param reception The checked request.
 * @param iface The receiving interface, or null when unknown.
 * @param options Whether the caller holds the join, procfs root.
 * @returns The findings (`not-joined`).
 */
export async function checkMembership(
  reception: Reception,
  iface: NetworkInterface | null,
  options: CheckMembershipOptions = {},
): Promise<Finding[]> {
  const severity: Severity = options.expectJoined === true ? "error" : "warning";
  const fix = receiveCommand(reception, iface?.name ?? null);
  let interfaces;
  try {
    interfaces = (await readMulticastState({ procRoot: options.procRoot })).interfaces;
  } catch (error) {
    if (!(error instanceof PermissionError)) throw error;
    return [{
      id: "not-joined",
      severity: "warning",
      message: `Cannot read this host's memberships (${error.message}): whether ` +
        `${reception.group} is joined is unknown`,
      fix: "run with --allow-ffi, which reads /proc through the C library",
    }];
  }
  const joined = interfaces
    .map((i) => ({ name: i.name, group: i.groups.find((g) => g.group === reception.group) }))
    .filter((i): i is { name: string; group: GroupState } =>
      i.group !== undefined && i.group.users > 0
    );
  const join = describeJoin(reception);
  if (joined.length === 0) {
    return [{
      id: "not-joined",
      severity,
      message: `No socket on this host has joined ${reception.group}` +
        (options.expectJoined === true ? "" : " (yet: a receiver joins when it starts)"),
      fix,
    }];
  }
  const here = iface === null ? joined[0] : joined.find((j) => j.name === iface.name);
  if (here === undefined) {
    return [{
      id: "not-joined",
      severity,
      message: `${reception.group} is joined on ${joined.map((j) => j.name).join(", ")}, not on ` +
        `${iface?.name}: what arrives on ${iface?.name} is not delivered`,
      fix,
    }];
  }
  const { mode, sources } = here.group;
  const accepts = (source: string) =>
    mode === "INCLUDE" ? sources.includes(source) : !sources.includes(source);
  const filter = `${mode} {${sources.join(", ")}}`;
  const refused = reception.sources.filter((s) => !accepts(s));
  if (refused.length > 0) {
    return [{
      id: "not-joined",
      severity,
      message: `${reception.group} is joined on ${here.name} with the filter ${filter}, which ` +
        `does not accept ${refused.join(", ")}: ${join} is not joined`,
      fix,
    }];
  }
  if (reception.sources.length === 0 && mode === "INCLUDE") {
    return [{
      id: "not-joined",
      severity: "warning",
      message: `${reception.group} is joined on ${here.name} for ${sources.join(", ")} only ` +
        `(${filter}): other senders are not delivered`,
      fix,
    }];
  }
  return [];
}
