// mcast-lab's text views: the map `up` prints (picture, hosts with interfaces and addresses,
// what forwards multicast where, the command that runs something on each host, a few commands
// to try) and the `status` list. Plain columns; colour only where colorWanted() allows it.

import type { DownReport } from "../lib/classroom/down.ts";
import { DEFAULT_LAB_NAME, remarkName } from "../lib/classroom/options.ts";
import type { LabRecord } from "../lib/classroom/record.ts";
import type { LabStatus } from "../lib/classroom/status.ts";
import type { LabPlan, PlannedHost } from "../lib/classroom/topology.ts";
import { colors } from "./_dashboard.ts";

const QUERIERS: Record<string, string> = {
  v2: "IGMPv2 + MLDv1",
  v3: "IGMPv3 + MLDv2",
};

/** How a host is named on the command line: `r1` in the default lab, else `NAME/r1`. */
export function hostArg(lab: string, host: string): string {
  return lab === DEFAULT_LAB_NAME ? host : `${lab}/${host}`;
}

/** `mcast-lab down` for a lab. */
function downCommand(lab: string): string {
  return lab === DEFAULT_LAB_NAME ? "mcast-lab down" : `mcast-lab down ${lab}`;
}

/**
 * Left-aligned columns, two spaces apart; the last cell of a row is not padded, and a shorter
 * row's last cell runs on over the columns it leaves out (without widening them).
 */
function columns(rows: string[][], indent = "  "): string[] {
  const full = Math.max(...rows.map((row) => row.length));
  const widths = Array.from(
    { length: full },
    (_, i) => Math.max(0, ...rows.filter((r) => r.length === full).map((r) => r[i].length)),
  );
  return rows.map((row) =>
    indent + row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join("  ")
      .trimEnd()
  );
}

function hostRows(lab: string, host: PlannedHost): string[][] {
  const rows: string[][] = [];
  const addressed = host.interfaces.filter((i) => i.ipv4 !== null || i.ipv6 !== null);
  const ports = host.interfaces.filter((i) => i.ipv4 === null && i.ipv6 === null);
  for (const [n, iface] of addressed.entries()) {
    rows.push([
      n === 0 ? host.name : "",
      n === 0 ? host.role : "",
      iface.name,
      iface.ipv4 ?? "-",
      iface.ipv6 ?? "-",
      n === 0 ? `mcast-lab exec ${hostArg(lab, host.name)} -- CMD` : "",
    ]);
  }
  if (ports.length > 0) {
    rows.push(["", "", "ports", ports.map((p) => p.name).join(" ")]);
  }
  return rows;
}

/** What forwards multicast where, one line per switch, router, policy and filter. */
export function forwardingLines(plan: LabPlan): string[] {
  const lines: string[] = [];
  for (const sw of plan.switches) {
    const querier = sw.querier === "none"
      ? "no querier (without one the bridge floods every group to every port)"
      : `querier ${QUERIERS[sw.querier]} from br0 every 10 s`;
    lines.push(`${sw.host}: bridge br0, IGMP/MLD snooping, ${querier}`);
  }
  for (const router of plan.routers) {
    lines.push(
      `${router.host}: smcroute forwards 224.0.0.0/4 and ff00::/8 between ` +
        `${router.interfaces.join(", ")} (TTL and hop limit - 1 per hop)`,
    );
  }
  if (plan.policy !== null) {
    const what: string[] = [];
    if (plan.policy.remark !== null) {
      what.push(`remarks DSCP to ${remarkName(plan.policy.remark).toUpperCase()}`);
    }
    if (plan.policy.dropPercent !== null) {
      what.push(`drops ${plan.policy.dropPercent} % at random`);
    }
    lines.push(`${plan.policy.host}: nft on forwarded multicast UDP: ${what.join(", ")}`);
  }
  if (plan.rpFilterStrict !== null) {
    lines.push(
      `${plan.rpFilterStrict}: rp_filter strict (IPv4) and no route back to the sender` +
        (plan.topology === "lan" ? " (the sender is on-link: the check passes)" : ""),
    );
  }
  return lines;
}

/** The map `mcast-lab up` prints. */
export function renderMap(record: LabRecord): string {
  const { name, plan } = record;
  const heading = colors.bold(`lab "${name}" is up: ${plan.topology}`);
  const rows = [["host", "role", "iface", "IPv4", "IPv6", "run something there"]];
  for (const host of plan.hosts) rows.push(...hostRows(name, host));
  const [head, ...body] = columns(rows);
  const receiver = plan.hosts.find((h) => h.role === "receiver")!.name;
  const tryLines = [
    `mcast-lab exec ${hostArg(name, receiver)} -- mcast-receive 232.1.1.1 10.0.1.10`,
    `mcast-lab exec ${hostArg(name, "sender")} -- mcast-send 232.1.1.1 --count 100`,
    `mcast-lab shell ${hostArg(name, receiver)}`,
    downCommand(name),
  ];
  return [
    heading,
    "",
    ...plan.picture,
    "",
    colors.bold(head),
    ...body,
    "",
    colors.bold("Multicast"),
    ...forwardingLines(plan).map((line) => `  ${line}`),
    plan.routes.length > 0 ? "  unicast: hosts route through their router (default route)" : "",
    "",
    colors.bold("Try"),
    ...tryLines.map((line) => `  ${line}`),
    "",
  ].filter((line, i, all) => !(line === "" && all[i - 1] === "")).join("\n");
}

/** The `mcast-lab status` text. */
export function renderStatus(statuses: readonly LabStatus[], strays: readonly string[]): string {
  const lines: string[] = [];
  if (statuses.length === 0) lines.push("No labs. mcast-lab up builds one.");
  for (const status of statuses) {
    const topology = status.record?.topology ?? "?";
    const state = status.state === "up" ? colors.green("up") : colors.yellow(status.state);
    lines.push(`${colors.bold(status.name)}  ${topology}  ${state}`);
    if (status.record !== null) {
      const rows = status.record.plan.hosts.map((host) => [
        host.name,
        host.role,
        host.interfaces.filter((i) => i.ipv4 !== null).map((i) => `${i.name} ${i.ipv4}`).join(
          ", ",
        ),
      ]);
      lines.push(...columns(rows));
    }
    if (status.state === "incomplete") {
      lines.push(`  up was interrupted: ${downCommand(status.name)} removes what it built`);
    } else if (status.problem !== null) {
      lines.push(`  ${status.problem}: ${downCommand(status.name)} removes the rest`);
    }
  }
  if (strays.length > 0) {
    lines.push(
      colors.yellow(
        `Namespaces without a record (not mcast-lab's, left alone): ${strays.join(", ")}`,
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** One line per lab removed. */
export function renderDown(reports: readonly DownReport[]): string {
  if (reports.length === 0) return "No labs to remove.\n";
  return reports.map((r) =>
    `Lab ${r.name} removed: ${r.namespaces.length} namespaces` +
    (r.daemons > 0 ? `, ${r.daemons} daemon${r.daemons === 1 ? "" : "s"} stopped` : "") + "\n"
  ).join("");
}
