/**
 * Building a classroom lab (`mcast-lab up`): under the lab's lock, refuse a name that is taken
 * (by a lab, or by namespaces mcast-lab did not make), record the whole plan, then create the
 * namespaces, switches, links, addresses and routes, the querier, the policy box and the
 * routers' smcroute, recording each daemon before it starts — and, when anything fails or a stop
 * signal arrives, remove everything again before reporting the failure.
 *
 * @example
 * ```ts ignore
 * import { upLab } from "./up.ts";
 * import { classroomOptions } from "./options.ts";
 * const record = await upLab({ name: "lab", topology: "routed", options: classroomOptions({}) });
 * ```
 *
 * @module
 */

import { LabError } from "../errors.ts";
import { runCommand } from "../lab/command.ts";
import { listNamespaces } from "../lab/cleanup.ts";
import type { Lan } from "../lab/lan.ts";
import type { Namespace } from "../lab/namespace.ts";
import { LabNetwork } from "../lab/network.ts";
import { programAvailable } from "../lab/programs.ts";
import { teardownLab } from "./down.ts";
import { LabLock } from "./lock.ts";
import { applyNftPolicy } from "./nft_policy.ts";
import {
  checkLabName,
  type ClassroomOptions,
  labPrefix,
  type QuerierVersion,
  remarkName,
  type TopologyName,
} from "./options.ts";
import { labDir, type LabRecord, readRecord, RECORD_FORMAT, writeRecord } from "./record.ts";
import { writeShellRc } from "./host_exec.ts";
import { smcrouteFiles, startSmcroute } from "./smcroute.ts";
import { type LabTools, writeToolWrappers } from "./tool_wrappers.ts";
import { type LabPlan, planLab, type PlannedInterface } from "./topology.ts";

/** What to build. */
export interface UpRequest {
  /** The lab's name. */
  name: string;
  /** The topology. */
  topology: TopologyName;
  /** The checked exercise options. */
  options: ClassroomOptions;
  /** The tools to put on PATH inside the lab (none when absent). */
  tools?: LabTools;
  /** Stops the build (everything built so far is removed again). */
  signal?: AbortSignal;
}

/**
 * Build a lab.
 *
 * @example
 * ```ts ignore
 * import { upLab } from "./up.ts";
 * import { classroomOptions } from "./options.ts";
 * const options = classroomOptions({ querier: "v2" });
 * const record = await upLab({ name: "lab", topology: "lan", options });
 * console.log(record.namespaces);
 * ```
 *
 * @param request What to build.
 * @returns Its record (state `up`).
 * @throws {InvalidValueError} When the name is not a valid lab name.
 * @throws {LabError} When the name is taken, a program is missing, or a step fails (after
 * everything built was removed again).
 */
export async function upLab(request: UpRequest): Promise<LabRecord> {
  const name = checkLabName(request.name);
  const plan = planLab(request.topology, request.options);
  await checkPrograms(plan, request.topology);
  using lock = await LabLock.acquire(name);
  let record: LabRecord | null = null;
  try {
    await refuseTakenName(name);
    if (request.tools?.prepare) {
      await runCommand(request.tools.prepare, { check: true, timeoutMs: 300_000 });
    }
    record = newRecord(name, plan, request);
    await writeRecord(record);
    await build(record, plan, request);
    record.state = "up";
    await writeRecord(record);
    return record;
  } catch (error) {
    if (record !== null) {
      await teardownLab(name, record).catch(() => {/* the first failure is the news */});
      lock.removeFile();
    } else if (!(error instanceof TakenError)) {
      lock.removeFile();
    }
    throw error;
  }
}

/** The name belongs to a lab that exists: its lock file stays. */
class TakenError extends LabError {}

async function checkPrograms(plan: LabPlan, topology: TopologyName): Promise<void> {
  const needed: Array<[string, string, boolean]> = [
    ["ip", "iproute2", true],
    ["smcrouted", "smcroute", plan.routers.length > 0],
    ["nft", "nftables", plan.policy !== null],
  ];
  for (const [program, pkg, wanted] of needed) {
    if (wanted && !(await programAvailable(program))) {
      throw new LabError(
        `Program not found: ${program} (the ${topology} lab needs it; apt-get install ${pkg})`,
      );
    }
  }
}

async function refuseTakenName(name: string): Promise<void> {
  let existing: LabRecord | null;
  try {
    existing = await readRecord(name);
  } catch {
    throw new TakenError(
      `Lab ${name} exists but is damaged: remove it with mcast-lab down ${name}`,
    );
  }
  if (existing !== null) {
    throw new TakenError(
      existing.state === "up"
        ? `Lab ${name} is already up: mcast-lab down ${name} removes it, --name picks another name`
        : `Lab ${name} was left half-built: mcast-lab down ${name} removes it`,
    );
  }
  const foreign = (await listNamespaces()).filter((ns) => ns.startsWith(labPrefix(name)));
  if (foreign.length > 0) {
    throw new LabError(
      `Namespaces ${foreign.join(", ")} exist but mcast-lab has no record of them: it leaves ` +
        `them alone (pick another --name, or delete them with ip netns del)`,
    );
  }
}

function newRecord(name: string, plan: LabPlan, request: UpRequest): LabRecord {
  const prefix = labPrefix(name);
  return {
    format: RECORD_FORMAT,
    name,
    topology: request.topology,
    state: "building",
    created_at: new Date().toISOString(),
    pid: Deno.pid,
    options: {
      querier: request.options.querier,
      remark: plan.policy?.remark == null ? null : remarkName(plan.policy.remark),
      drop_pct: plan.policy?.dropPercent ?? null,
      rp_filter: request.options.rpFilterStrict ? "strict" : null,
    },
    namespaces: plan.hosts.map((host) => `${prefix}${host.name}`),
    daemons: [],
    tools_dir: null,
    plan,
  };
}

async function build(record: LabRecord, plan: LabPlan, request: UpRequest): Promise<void> {
  const step = () => {
    if (request.signal?.aborted) {
      throw new LabError(`Interrupted: lab ${record.name} removed again`);
    }
  };
  const network = new LabNetwork(labPrefix(record.name).slice(0, -1));
  const hosts = new Map<string, Namespace>();
  const lans = new Map<string, Lan>();
  for (const host of plan.hosts) {
    step();
    if (host.role === "switch") {
      const lan = await network.addLan(host.name, [], { snooping: true, ipv4: false, ipv6: false });
      await addAddresses(lan.ns, host.interfaces[0]);
      lans.set(host.name, lan);
      hosts.set(host.name, lan.ns);
    } else {
      hosts.set(
        host.name,
        await network.addNamespace(host.name, { router: host.role === "router" }),
      );
    }
  }
  const planned = (host: string, iface: string): PlannedInterface =>
    plan.hosts.find((h) => h.name === host)!.interfaces.find((i) => i.name === iface)!;
  for (const { a, b } of plan.links) {
    step();
    const end = planned(a.host, a.iface);
    const lan = lans.get(b.host);
    if (lan !== undefined) {
      await lan.attach(hosts.get(a.host)!, {
        name: a.iface,
        port: b.iface,
        ipv4: end.ipv4 ?? undefined,
        ipv6: end.ipv6 ?? undefined,
      });
    } else {
      const other = planned(b.host, b.iface);
      await network.link(hosts.get(a.host)!, hosts.get(b.host)!, {
        names: [a.iface, b.iface],
        ipv4: [end.ipv4!, other.ipv4!],
        ipv6: [end.ipv6!, other.ipv6!],
      });
    }
  }
  for (const route of plan.routes) {
    await hosts.get(route.host)!.addRoute(route.destination, route.via);
  }
  if (plan.rpFilterStrict !== null) {
    const receiver = hosts.get(plan.rpFilterStrict)!;
    await receiver.sysctl("net.ipv4.conf.all.rp_filter", 1);
    await receiver.sysctl("net/ipv4/conf/eth0/rp_filter", 1);
  }
  for (const sw of plan.switches) {
    step();
    for (const args of querierSteps(sw.querier)) {
      await hosts.get(sw.host)!.ip(["link", "set", "br0", "type", "bridge", ...args]);
    }
  }
  if (plan.policy !== null) await applyNftPolicy(hosts.get(plan.policy.host)!, plan.policy);
  const dir = labDir(record.name);
  for (const router of plan.routers) {
    step();
    const files = smcrouteFiles(dir, router.host);
    const daemon = {
      host: router.host,
      program: "smcrouted",
      pid: null as number | null,
      files: [files.config, files.socket, files.pidFile],
    };
    record.daemons.push(daemon);
    await writeRecord(record);
    daemon.pid = await startSmcroute(hosts.get(router.host)!, router.interfaces, files);
    await writeRecord(record);
  }
  if (request.tools !== undefined) {
    record.tools_dir = await writeToolWrappers(dir, request.tools.tools);
  }
  await writeShellRc(dir);
  step();
}

async function addAddresses(ns: Namespace, iface: PlannedInterface): Promise<void> {
  if (iface.ipv4 !== null) await ns.addAddress(iface.name, iface.ipv4);
  if (iface.ipv6 !== null) await ns.addAddress(iface.name, iface.ipv6);
}

/**
 * The bridge settings of a switch's querier, in order: the timers first — queries every 10 s
 * from br0's own address, answers within 2 s, memberships age out after 25 s without reports,
 * the first two queries 1 s apart — then the querier itself, IGMPv2 + MLDv1 or IGMPv3 + MLDv2
 * (none: snooping stays on, nobody queries). Linux trusts its snooping table only one query
 * response interval after the querier starts, and floods every group until then: set first,
 * that interval is the lab's 2 s rather than the default 10 s.
 */
function querierSteps(querier: QuerierVersion): string[][] {
  if (querier === "none") return [["mcast_querier", "0"]];
  const [igmp, mld] = querier === "v2" ? ["2", "1"] : ["3", "2"];
  return [
    [
      "mcast_query_use_ifaddr",
      "1",
      "mcast_query_interval",
      "1000",
      "mcast_query_response_interval",
      "200",
      "mcast_membership_interval",
      "2500",
      "mcast_startup_query_interval",
      "100",
      "mcast_igmp_version",
      igmp,
      "mcast_mld_version",
      mld,
    ],
    ["mcast_querier", "1"],
  ];
}
