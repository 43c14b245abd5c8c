// Private helpers of the lab tests that run the tools end to end (issues 9 and 11): how each tool
// is started with the permissions of its `deno task`, waiting (bounded) until the kernel lists a
// receiver's joins, ending a receiver and reading its JSON, the scripted MCAS sender, and a
// decoder of the IGMP / MLD membership reports in a capture (with tshark as a second opinion).
// Everything runs inside namespaces of a lab; every wait has a limit.

import assert from "node:assert/strict";
import {
  type CapturedPacket,
  type CommandResult,
  findOnPath,
  formatIpv6,
  type Lab,
  type LabProcess,
  type LinkOptions,
  type Namespace,
} from "../lab/mod.ts";
import { parseIgmp, parseIgmp6 } from "../../lib/proc_igmp.ts";
import { ROOT, sendArgv } from "./_send_tool.ts";
import { taskFlags } from "../_task_flags.ts";

/** mcast-receive's entry point. */
export const RECEIVE = new URL("../../cli/mcast_receive.ts", import.meta.url).pathname;
/** The permissions of `deno task mcast-receive`. */
export const RECEIVE_FLAGS = taskFlags("mcast-receive");
/** mcast-status's entry point. */
export const STATUS = new URL("../../cli/mcast_status.ts", import.meta.url).pathname;
/** The scripted MCAS sender (`_mcas_sender.ts`). */
export const MCAS_SENDER = new URL("./_mcas_sender.ts", import.meta.url).pathname;

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** An integer from `min` to `max`, both included. */
export function pick(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** A fresh IPv4 group: `<first>.a.b.c` with random a, b (c left small, so `+N` forms fit). */
export function freshGroup(first = 239, last = pick(1, 99)): string {
  return `${first}.${pick(1, 254)}.${pick(1, 254)}.${last}`;
}

/** The argv of mcast-receive with `args`, as `deno task mcast-receive` runs it. */
export function receiveArgv(args: string[]): string[] {
  return [Deno.execPath(), "run", ...RECEIVE_FLAGS, RECEIVE, ...args];
}

/** The argv of mcast-status with `args`, as `deno task mcast-status` runs it. */
export function statusArgv(args: string[]): string[] {
  return [Deno.execPath(), "run", ...taskFlags("mcast-status"), STATUS, ...args];
}

/**
 * The users (sockets) of every group on `iface` in `ns`, both families, from /proc/net/igmp and
 * /proc/net/igmp6.
 */
export async function joinedOn(ns: Namespace, iface: string): Promise<Map<string, number>> {
  const read = async (path: string) => (await ns.run(["cat", path], { check: true })).stdout;
  const users = new Map<string, number>();
  for (const entry of parseIgmp(await read("/proc/net/igmp"))) {
    if (entry.name !== iface) continue;
    for (const group of entry.groups) users.set(group.group, group.users);
  }
  for (const entry of parseIgmp6(await read("/proc/net/igmp6"))) {
    if (entry.name === iface) users.set(entry.group, entry.users);
  }
  return users;
}

/**
 * Waits (at most `timeoutMs`) until `ready()` holds; fails early when `process` exits first.
 *
 * @param what What is waited for, for the message.
 * @param ready The condition.
 * @param process A process that must stay alive meanwhile.
 * @param timeoutMs The limit.
 */
export async function waitFor(
  what: string,
  ready: () => Promise<boolean>,
  process?: LabProcess,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (process?.exited) {
      const result = await process.wait();
      throw new Error(`${what}: the process exited first (${result.code}): ${result.stderr}`);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Where a receiver joins, to wait for: the interface and the groups (canonical text). */
export interface JoinPoint {
  iface: string;
  groups: readonly string[];
}

/**
 * Starts mcast-receive in `ns` and waits until every one of `join.groups` has one more user on
 * `join.iface` than before.
 */
export async function startReceive(
  ns: Namespace,
  args: string[],
  join: JoinPoint,
  env?: Record<string, string>,
): Promise<LabProcess> {
  const before = await joinedOn(ns, join.iface);
  const process = ns.spawn(receiveArgv(args), { cwd: ROOT, env });
  await waitFor(`mcast-receive ${args.join(" ")} joined on ${join.iface}`, async () => {
    const now = await joinedOn(ns, join.iface);
    return join.groups.every((g) => (now.get(g) ?? 0) > (before.get(g) ?? 0));
  }, process);
  return process;
}

/**
 * Starts mcast-receive joined to one group on `iface` (`args` begins with the group, canonical;
 * `-i iface` is added) and waits until the kernel lists the join.
 */
export function joinOne(
  ns: Namespace,
  iface: string,
  args: string[],
  env?: Record<string, string>,
): Promise<LabProcess> {
  return startReceive(ns, [...args, "-i", iface], { iface, groups: [args[0]] }, env);
}

/** Two namespaces on one veth link: `h1` (`link.a`, the sending side) and `h2` (`link.b`). */
export async function linkedPair(lab: Lab, labels = ["h1", "h2"], options?: LinkOptions) {
  const h1 = await lab.addNamespace(labels[0]);
  const h2 = await lab.addNamespace(labels[1]);
  const link = await lab.link(h1, h2, options);
  return { h1, h2, link };
}

/** A finished tool run with its `--json` object (null when stdout was not one). */
export interface JsonRun extends CommandResult {
  // deno-lint-ignore no-explicit-any
  json: any;
}

function withJson(result: CommandResult): JsonRun {
  let json = null;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    json = null;
  }
  return { ...result, json };
}

/** Ends a receiver with `signal` (SIGINT: Ctrl-C) and returns its run and JSON summary. */
export async function endReceive(
  process: LabProcess,
  signal: Deno.Signal = "SIGINT",
): Promise<JsonRun> {
  process.kill(signal);
  return withJson(await process.wait());
}

/** Runs mcast-receive in `ns` to its end (give it `--duration`). */
export async function runReceive(
  ns: Namespace,
  args: string[],
  timeoutMs = 30_000,
): Promise<JsonRun> {
  return withJson(await ns.run(receiveArgv(args), { cwd: ROOT, timeoutMs }));
}

/** Runs mcast-send in `ns` to its end. */
export async function runSend(ns: Namespace, args: string[], timeoutMs = 30_000): Promise<JsonRun> {
  return withJson(await ns.run(sendArgv(args), { cwd: ROOT, timeoutMs }));
}

/** Runs mcast-status in `ns`. */
export async function runStatus(ns: Namespace, args: string[]): Promise<JsonRun> {
  return withJson(
    await ns.run(statusArgv(args), { cwd: ROOT, env: { NO_COLOR: "1" }, timeoutMs: 20_000 }),
  );
}

/** What the scripted sender reports at its end. */
export interface SenderReport {
  mcas: number;
  foreign: number;
  sender_ids: string[];
}

/** Runs the scripted MCAS sender (`_mcas_sender.ts`) in `ns`; it must succeed. */
export async function sendPlan(
  ns: Namespace,
  group: string,
  args: string[],
): Promise<SenderReport> {
  const result = await ns.runDeno(MCAS_SENDER, { args: [group, ...args], timeoutMs: 60_000 });
  assert.equal(result.code, 0, `scripted sender failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!);
}

/** The kernel's `tx_dropped` counter of an interface, read by the test itself. */
export async function txDropped(ns: Namespace, iface: string): Promise<number> {
  const path = `/sys/class/net/${iface}/statistics/tx_dropped`;
  return Number((await ns.run(["cat", path], { check: true })).stdout.trim());
}

// --- membership reports on the wire ------------------------------------------------------------

/** IGMPv3 / MLDv2 group record types (RFC 3376 4.2.12, RFC 3810 5.2.12). */
export const RECORD = {
  MODE_IS_INCLUDE: 1,
  MODE_IS_EXCLUDE: 2,
  CHANGE_TO_INCLUDE: 3,
  CHANGE_TO_EXCLUDE: 4,
  ALLOW_NEW_SOURCES: 5,
  BLOCK_OLD_SOURCES: 6,
} as const;

/** One group record of a report (IGMPv1/v2 and MLDv1 reports: one record, type 0). */
export interface GroupRecord {
  type: number;
  group: string;
  sources: string[];
}

/** A membership report read from a captured packet. */
export interface MembershipReport {
  /** `IGMPv1`, `IGMPv2`, `IGMPv3`, `MLDv1` or `MLDv2`. */
  kind: string;
  /** The IP source and destination. */
  src: string;
  dst: string;
  records: GroupRecord[];
}

const v4 = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
const v6 = (b: Uint8Array, at: number) => formatIpv6(b.subarray(at, at + 16));

/**
 * Decodes the membership reports among captured packets, from their bytes: IGMP (protocol 2)
 * types 0x12 (v1), 0x16 (v2), 0x22 (v3); ICMPv6 (58) types 131 (MLDv1) and 143 (MLDv2).
 * Queries, leaves and everything else are skipped.
 */
export function membershipReports(packets: readonly CapturedPacket[]): MembershipReport[] {
  const reports: MembershipReport[] = [];
  for (const packet of packets) {
    const t = packet.transport;
    if (t === undefined || t.length < 8) continue;
    const view = new DataView(t.buffer, t.byteOffset, t.byteLength);
    const base = { src: packet.src, dst: packet.dst };
    const v3 = (packet.family === 4 && packet.protocol === 2 && t[0] === 0x22) ||
      (packet.family === 6 && packet.protocol === 58 && t[0] === 143);
    if (packet.family === 4 && packet.protocol === 2 && (t[0] === 0x12 || t[0] === 0x16)) {
      const kind = t[0] === 0x12 ? "IGMPv1" : "IGMPv2";
      reports.push({ kind, ...base, records: [{ type: 0, group: v4(t, 4), sources: [] }] });
    } else if (packet.family === 6 && packet.protocol === 58 && t[0] === 131 && t.length >= 24) {
      reports.push({
        kind: "MLDv1",
        ...base,
        records: [{ type: 0, group: v6(t, 8), sources: [] }],
      });
    } else if (v3) {
      const size = packet.family === 4 ? 4 : 16;
      const address = packet.family === 4 ? v4 : v6;
      const records: GroupRecord[] = [];
      let at = 8;
      for (let r = 0; r < view.getUint16(6) && at + 4 + size <= t.length; r++) {
        const type = t[at];
        const aux = t[at + 1] * 4;
        const count = view.getUint16(at + 2);
        const group = address(t, at + 4);
        const sources: string[] = [];
        for (let s = 0; s < count; s++) sources.push(address(t, at + 4 + size * (s + 1)));
        records.push({ type, group, sources });
        at += 4 + size * (count + 1) + aux;
      }
      reports.push({ kind: packet.family === 4 ? "IGMPv3" : "MLDv2", ...base, records });
    }
  }
  return reports;
}

/** The records about `group` in every report of `kind`. */
export function recordsFor(
  reports: readonly MembershipReport[],
  kind: string,
  group: string,
): GroupRecord[] {
  return reports.filter((r) => r.kind === kind).flatMap((r) => r.records).filter((r) =>
    r.group === group
  );
}

/**
 * tshark's reading of the IGMPv3 / MLDv2 reports of a pcap file, flattened per report to
 * `types|groups|sources` (comma lists in record order), for comparing with
 * {@linkcode flattenReports} of our own decoder. Null when tshark is not installed.
 */
export async function tsharkReportLines(path: string): Promise<string[] | null> {
  const tshark = findOnPath("tshark");
  if (tshark === undefined) return null;
  const fields = [
    "igmp.record_type",
    "igmp.maddr",
    "igmp.saddr",
    "icmpv6.mldr.mar.record_type",
    "icmpv6.mldr.mar.multicast_address",
    "icmpv6.mldr.mar.source_address",
  ];
  const argv = [tshark, "-r", path, "-n", "-Y", "igmp.type == 0x22 or icmpv6.type == 143"];
  argv.push("-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,");
  for (const field of fields) argv.push("-e", field);
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped" }).output();
  assert.equal(out.code, 0, "tshark failed");
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").map((line) => {
    const c = line.split("|");
    return c[0] !== "" ? `${c[0]}|${c[1]}|${c[2]}` : `${c[3]}|${c[4]}|${c[5]}`;
  });
}

/** Our own IGMPv3 / MLDv2 reports in {@linkcode tsharkReportLines}' form. */
export function flattenReports(reports: readonly MembershipReport[]): string[] {
  return reports.filter((r) => r.kind === "IGMPv3" || r.kind === "MLDv2").map((r) =>
    [
      r.records.map((x) => x.type).join(","),
      r.records.map((x) => x.group).join(","),
      r.records.flatMap((x) => x.sources).join(","),
    ].join("|")
  );
}

// --- an independent joiner ----------------------------------------------------------------------

// One socket per spec, joined with the RFC 3678 socket options (not through mcast's library):
// "G/asm" (MCAST_JOIN_GROUP), "G/include/S1,S2" (MCAST_JOIN_SOURCE_GROUP per source),
// "G/exclude/S1,S2" (MCAST_JOIN_GROUP, then MCAST_BLOCK_SOURCE per source). Prints READY and
// holds the joins for at most 60 s.
const JOINER = String.raw`
import socket, struct, sys, time
index = socket.if_nametoindex(sys.argv[1])
MCAST_JOIN_GROUP, MCAST_BLOCK_SOURCE, MCAST_JOIN_SOURCE_GROUP = 42, 43, 46

def storage(addr):
    if ":" in addr:
        raw = struct.pack("=HHI16sI", socket.AF_INET6, 0, 0, socket.inet_pton(socket.AF_INET6, addr), 0)
    else:
        raw = struct.pack("=HH4s", socket.AF_INET, 0, socket.inet_aton(addr))
    return raw + bytes(128 - len(raw))

held = []
for spec in sys.argv[2:]:
    group, mode, *rest = spec.split("/")
    sources = rest[0].split(",") if rest else []
    v6 = ":" in group
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    level = socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP
    head = struct.pack("=I4x", index) + storage(group)
    if mode == "include":
        for source in sources:
            s.setsockopt(level, MCAST_JOIN_SOURCE_GROUP, head + storage(source))
    else:
        s.setsockopt(level, MCAST_JOIN_GROUP, head)
        for source in sources:
            s.setsockopt(level, MCAST_BLOCK_SOURCE, head + storage(source))
    held.append(s)
print("READY", flush=True)
time.sleep(60)
`;

/**
 * Starts a python3 process in `ns` holding one socket per spec on `iface` ("G/asm",
 * "G/include/S1,S2", "G/exclude/S1,S2") and waits until it holds them all.
 */
export async function spawnJoiner(
  ns: Namespace,
  iface: string,
  specs: string[],
): Promise<LabProcess> {
  const joiner = ns.spawn(["python3", "-c", JOINER, iface, ...specs], { timeoutMs: 70_000 });
  await joiner.waitForOutput(/READY/, 15_000);
  return joiner;
}

/**
 * Waits until the kernel has taken the carrier of `iface` in `ns` away and its operational state
 * is DOWN (after its veth peer went down: the operational state follows a moment later).
 */
export async function waitNoCarrier(ns: Namespace, iface: string): Promise<void> {
  await waitFor(`${ns.label}/${iface} without carrier`, async () => {
    const line = await ns.ip(["-o", "link", "show", "dev", iface]);
    return line.includes("NO-CARRIER") && / state DOWN /.test(line);
  });
}
