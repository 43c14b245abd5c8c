// Private helpers of the diagnosis lab tests: a sender and a receiver namespace on one veth
// link, `mcast-status --check` run inside a namespace (JSON or text), the fix a finding prints
// run as a shell command, the MCAS test sender, and the diagnosis peer (a receiver that joins,
// counts and diagnoses itself). With DIAGNOSIS_TRANSCRIPTS=DIR set, every text output is also
// appended to DIR/<test>.txt, which is where docs/troubleshooting.md's examples come from.

import assert from "node:assert/strict";
import type { Lab, LabProcess, Link, Namespace } from "../lab/mod.ts";
import { taskFlags } from "../_task_flags.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const STATUS = new URL("../../cli/mcast_status.ts", import.meta.url).pathname;
const SENDER = new URL("./_mcas_sender.ts", import.meta.url).pathname;
const PEER = new URL("../lib/_diagnosis_peer.ts", import.meta.url).pathname;
/** The permissions of `deno task mcast-status`. */
export const STATUS_FLAGS = taskFlags("mcast-status");

/** One finding of the JSON. */
export interface JsonFinding {
  id: string;
  severity: "error" | "warning";
  message: string;
  fix: string;
}

/** `mcast-status --check --json`. */
export interface CheckJson {
  group: string;
  source: string | string[] | null;
  interface: string | null;
  ready: boolean;
  findings: JsonFinding[];
}

/** A sender and a receiver namespace on one link (`veth0` at both ends). */
export interface Pair {
  tx: Namespace;
  rx: Namespace;
  link: Link;
}

/**
 * Two namespaces on a veth link: `tx` (10.100.1.1, fd00:100:1::1) and `rx` (.2, ::2).
 *
 * @param lab The test's lab.
 * @param multicastRoute Add the 224.0.0.0/4 routes.
 * @returns The pair.
 */
export async function pair(lab: Lab, multicastRoute = true): Promise<Pair> {
  const tx = await lab.addNamespace("tx");
  const rx = await lab.addNamespace("rx");
  const link = await lab.link(tx, rx, { multicastRoute });
  return { tx, rx, link };
}

/** The command line of mcast-status in a namespace. */
export function statusArgv(args: string[]): string[] {
  return [Deno.execPath(), "run", ...STATUS_FLAGS, STATUS, ...args];
}

/**
 * `mcast-status --check ARGS --json` in `ns`: the exit code and the parsed JSON, whose keys are
 * checked against the contract.
 */
export async function checkJson(ns: Namespace, args: string[]): Promise<[number, CheckJson]> {
  const result = await ns.run(statusArgv(["--check", ...args, "--json"]), {
    cwd: ROOT,
    timeoutMs: 30_000,
  });
  assert.ok(result.code === 0 || result.code === 3, `exit ${result.code}: ${result.stderr}`);
  const json = JSON.parse(result.stdout) as CheckJson;
  assert.deepEqual(Object.keys(json), ["group", "source", "interface", "ready", "findings"]);
  for (const finding of json.findings) {
    assert.deepEqual(Object.keys(finding), ["id", "severity", "message", "fix"]);
  }
  assert.equal(json.ready, !json.findings.some((f) => f.severity === "error"));
  assert.equal(result.code, json.ready ? 0 : 3, "exit 3 exactly when not ready");
  return [result.code, json];
}

/** `mcast-status --check ARGS` as text in `ns` (NO_COLOR), recorded in the transcript. */
export async function checkText(
  ns: Namespace,
  args: string[],
  transcript: string,
): Promise<{ code: number; stdout: string }> {
  const result = await ns.run(statusArgv(["--check", ...args]), {
    cwd: ROOT,
    timeoutMs: 30_000,
    env: { NO_COLOR: "1" },
  });
  await record(
    transcript,
    `$ mcast-status --check ${args.join(" ")}\n${result.stdout}` +
      `(exit ${result.code})\n`,
  );
  return { code: result.code, stdout: result.stdout };
}

/** The findings of one id. */
export function findings(json: CheckJson, id: string): JsonFinding[] {
  return json.findings.filter((f) => f.id === id);
}

/** The errors, as `id` list. */
export function errors(json: { findings: JsonFinding[] }): string[] {
  return json.findings.filter((f) => f.severity === "error").map((f) => f.id);
}

/** Runs a finding's fix in `ns` as a shell command (it must succeed). */
export async function runFix(ns: Namespace, fix: string, transcript: string): Promise<void> {
  await record(transcript, `$ ${fix}\n`);
  await ns.run(["sh", "-c", fix], { check: true, timeoutMs: 15_000 });
}

/**
 * Starts the MCAS test sender in `ns`: `count` datagrams to `group` every `intervalMs`.
 *
 * @returns The process (it exits by itself).
 */
export function startSender(
  ns: Namespace,
  group: string,
  options: { port?: number; source?: string; count?: number; intervalMs?: number } = {},
): LabProcess {
  const args = [group, "--interface", "veth0", "--count", String(options.count ?? 400)];
  args.push("--interval-ms", String(options.intervalMs ?? 10));
  if (options.port !== undefined) args.push("--port", String(options.port));
  if (options.source !== undefined) args.push("--source", options.source);
  return ns.spawnDeno(SENDER, { args });
}

/** Starts the diagnosis peer with `args` and waits until it is ready (or has failed to join). */
async function startPeer(ns: Namespace, args: (string | number)[]): Promise<LabProcess> {
  const process = ns.spawnDeno(PEER, { args: args.map(String) });
  await process.waitForOutput(/READY|"error"/, 20_000);
  return process;
}

/**
 * A receiver (the diagnosis peer's `receive` mode) that joins and counts for `ms`.
 *
 * @returns The process; its result is the count, or the join's error.
 */
export function startReceiver(
  ns: Namespace,
  group: string,
  options: { sources?: string[]; iface?: string | null; port?: number; ms?: number } = {},
): Promise<LabProcess> {
  const iface = options.iface === null ? "-" : options.iface ?? "veth0";
  const sources = options.sources?.join(",") || "-";
  return startPeer(ns, [
    "receive",
    group,
    sources,
    iface,
    options.port ?? 19779,
    options.ms ?? 3000,
  ]);
}

/** The last JSON line a peer printed, after it exited 0. */
export async function peerResult<T>(process: LabProcess): Promise<T> {
  const result = await process.wait();
  assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}`);
  const line = result.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as T;
}

/** Starts the diagnosis peer's `diagnose` mode (see tests/lib/_diagnosis_peer.ts). */
export function startDiagnosis(
  ns: Namespace,
  group: string,
  options: { sources?: string[]; port?: number; waitMs?: number; wireMs?: number } = {},
): Promise<LabProcess> {
  const sources = options.sources?.join(",") || "-";
  const times = [options.waitMs ?? 1000, options.wireMs ?? 1500];
  return startPeer(ns, ["diagnose", group, sources, "veth0", options.port ?? 19779, ...times]);
}

/** Starts the diagnosis peer's `querier` mode. */
export function startQuerierWatch(
  ns: Namespace,
  iface: string,
  family: "IPv4" | "IPv6",
  timeoutMs: number,
): Promise<LabProcess> {
  return startPeer(ns, ["querier", iface, family, timeoutMs]);
}

/** The source of {@linkcode withoutRouteBack}: not in any subnet of the receiver. */
export const UNROUTED_SOURCE = "192.0.2.10";

/**
 * Strict reverse-path filtering on the receiver (conf/all = 1) and a sender address it has no
 * route back to ({@linkcode UNROUTED_SOURCE}, added to the sender's veth0).
 */
export async function withoutRouteBack(p: Pair): Promise<string> {
  await p.tx.ip(["addr", "add", `${UNROUTED_SOURCE}/32`, "dev", "veth0"]);
  await p.rx.sysctl("net.ipv4.conf.all.rp_filter", 1);
  await p.rx.sysctl("net.ipv4.conf.veth0.rp_filter", 0);
  return UNROUTED_SOURCE;
}

/**
 * `--check ARGS` must fail (exit 3) with exactly one error, of `id`: that finding.
 */
export async function expectError(ns: Namespace, args: string[], id: string): Promise<JsonFinding> {
  const [code, json] = await checkJson(ns, args);
  assert.equal(code, 3, JSON.stringify(json));
  assert.deepEqual(errors(json), [id], JSON.stringify(json.findings));
  return findings(json, id)[0];
}

/** Appends to the transcript of a test when DIAGNOSIS_TRANSCRIPTS is set. */
export async function record(transcript: string, text: string): Promise<void> {
  const dir = Deno.env.get("DIAGNOSIS_TRANSCRIPTS");
  if (dir === undefined || dir === "") return;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/${transcript}.txt`, text, { append: true });
}
