/**
 * `deno task demo`: the first thing to run. Starts `mcast-receive` and `mcast-send` as
 * subprocesses on the loopback interface (IPv4, no root needed), lets them talk for three seconds
 * and tells, in plain words, what was sent and what arrived: packets, loss, hops and DSCP.
 *
 * ```sh
 * deno task demo
 * ```
 *
 * Exit code 0 when packets arrived, 1 otherwise (or when a tool failed), 2 for a bad argument.
 *
 * @module
 */

import { createProgram, EXIT, runTool } from "./_cli.ts";
import { colors } from "./_dashboard.ts";
import { abortOnSignals } from "./_runtime.ts";
import { readMulticastState } from "../lib/multicast_state.ts";

const NAME = "demo";
/** An administratively scoped group nobody else should be using. */
const GROUP = "239.255.77.77";
const INTERFACE = "lo";
const RATE_PPS = 50;
const COUNT = 150;
const DSCP = "af41";
const TTL = 64;
/** The permissions of `deno task mcast-send` / `deno task mcast-receive`. */
const TOOL_FLAGS = ["--allow-ffi", "--allow-env", "--allow-read"];
const JOIN_TIMEOUT_MS = 15_000;
const SEND_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

const EXAMPLES = ["deno task demo", "NO_COLOR=1 deno task demo"];

/** What a finished tool left behind. */
interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A JSON object as parsed, read with care: the fields may be missing. */
type Json = Record<string, unknown>;

function parseArgs(argv: string[]): boolean {
  let ok = false;
  const program = createProgram(
    NAME,
    `Run mcast-send and mcast-receive on the loopback interface for a few seconds and show ` +
      `what arrived (IPv4 group ${GROUP}, no root needed)`,
    EXAMPLES,
  ).action(() => {
    ok = true;
  });
  program.parse(argv, { from: "user" });
  return ok;
}

/**
 * Runs the demo.
 *
 * @example
 * ```ts ignore
 * import { main } from "./demo.ts";
 * Deno.exit(await main([]));
 * ```
 *
 * @param args The command-line arguments (only `--help` and `--version` are known).
 * @returns 0 when packets arrived, 1 otherwise.
 */
export async function main(args: string[]): Promise<number> {
  if (!parseArgs(args)) return EXIT.ok;
  // A port of our own, so that another test on this host's lo cannot mix into the demo.
  const port = 20000 + Math.floor(Math.random() * 12000); // below the ephemeral range
  const common = [GROUP, "--interface", INTERFACE, "--port", String(port)];
  const receiveArgs = [...common, "--duration", String(Math.ceil(COUNT / RATE_PPS) + 20), "--json"];
  const sendArgs = [
    ...common,
    "--rate",
    `${RATE_PPS}pps`,
    "--count",
    String(COUNT),
    "--dscp",
    DSCP,
    "--json",
  ];
  // mcast-send's positional duration (a bound: --count ends it first) and TTL.
  sendArgs.splice(1, 0, String(Math.ceil(COUNT / RATE_PPS) + 5), String(TTL));

  say(
    `${colors.bold("mcast demo")}: a sender and a receiver on the loopback interface ` +
      `(${INTERFACE}), IPv4 group ${GROUP}, port ${port}\n`,
  );
  say(colors.dim(`  $ mcast-receive ${receiveArgs.join(" ")}`));
  say(colors.dim(`  $ mcast-send ${sendArgs.join(" ")}\n`));

  using interrupted = abortOnSignals();
  const baseline = await groupUsers();
  const receiver = startTool("mcast_receive.ts", receiveArgs);
  let sender: Deno.ChildProcess | undefined;
  try {
    const joined = await waitForJoin(baseline, receiver, interrupted.signal);
    if (!joined) {
      const result = await stopTool(receiver, "SIGTERM");
      if (interrupted.signal.aborted) {
        say("Interrupted before anything was sent.");
        return EXIT.runtime;
      }
      return failed("the receiver did not join the group", result);
    }
    say(`Receiver joined (*, ${GROUP}) on ${INTERFACE}.`);
    say(`Sending ${COUNT} packets at ${RATE_PPS} pps, TTL ${TTL}, DSCP ${DSCP.toUpperCase()} ...`);
    sender = startTool("mcast_send.ts", sendArgs);
    const sent = await finishSender(sender, interrupted.signal);
    sender = undefined;
    // Let the last datagrams reach the receiver's socket, then ask for its summary.
    await delay(500);
    const received = await stopTool(receiver, "SIGINT");
    return report(sent, received);
  } finally {
    if (sender !== undefined) await stopTool(sender, "SIGTERM");
    await stopTool(receiver, "SIGTERM");
  }
}

/** Starts a tool next to this file with the task's permissions. */
function startTool(file: string, args: string[]): Deno.ChildProcess {
  const url = new URL(`./${file}`, import.meta.url);
  const flags = [...TOOL_FLAGS];
  let script = url.href;
  if (url.protocol === "file:") {
    script = decodeURIComponent(url.pathname);
    // The import map and lock file of this checkout, wherever the demo is started from.
    flags.push("--config", decodeURIComponent(new URL("../deno.json", import.meta.url).pathname));
  }
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...flags, script, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

const results = new WeakMap<Deno.ChildProcess, Promise<ToolResult>>();

/** The tool's result once it has exited (collected once, however often asked). */
function resultOf(child: Deno.ChildProcess): Promise<ToolResult> {
  let result = results.get(child);
  if (result === undefined) {
    result = child.output().then(
      (out) => ({
        code: out.signal === null ? out.code : null,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
      }),
    );
    results.set(child, result);
  }
  return result;
}

/** Sends `signal` (unless it has exited) and waits, bounded; SIGKILL after the bound. */
async function stopTool(child: Deno.ChildProcess, signal: Deno.Signal): Promise<ToolResult> {
  const result = resultOf(child);
  const exited = await Promise.race([result.then(() => true), delay(0).then(() => false)]);
  if (!exited) {
    try {
      child.kill(signal);
    } catch { /* exited meanwhile */ }
    const inTime = await Promise.race([
      result.then(() => true),
      delay(STOP_TIMEOUT_MS).then(() => false),
    ]);
    if (!inTime) {
      try {
        child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }
  }
  return await result;
}

/** Users of the demo group on lo, from /proc/net/igmp. */
async function groupUsers(): Promise<number> {
  const state = await readMulticastState();
  const lo = state.interfaces.find((iface) => iface.name === INTERFACE);
  return lo?.groups.find((group) => group.group === GROUP)?.users ?? 0;
}

/** Waits until the kernel lists one more user of the group on lo, the receiver exits or time's up. */
async function waitForJoin(
  baseline: number,
  receiver: Deno.ChildProcess,
  signal: AbortSignal,
): Promise<boolean> {
  let exited = false;
  resultOf(receiver).then(() => exited = true);
  const deadline = Date.now() + JOIN_TIMEOUT_MS;
  while (!exited && !signal.aborted && Date.now() < deadline) {
    if (await groupUsers() > baseline) return true;
    await delay(50);
  }
  return false;
}

/** Waits for the sender (bounded; Ctrl-C stops it early) and parses its summary. */
async function finishSender(sender: Deno.ChildProcess, signal: AbortSignal): Promise<ToolResult> {
  const result = resultOf(sender);
  const stop = () => stopTool(sender, "SIGINT");
  signal.addEventListener("abort", stop, { once: true });
  const timer = setTimeout(stop, SEND_TIMEOUT_MS);
  try {
    return await result;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", stop);
  }
}

/** Prints what was sent and what arrived; 0 when packets arrived. */
function report(sent: ToolResult, received: ToolResult): number {
  const send = parseJson(sent.stdout);
  const receive = parseJson(received.stdout);
  if (send === null && sent.code !== 0) return failed("mcast-send failed", sent);
  if (receive === null) return failed("mcast-receive printed no summary", received);

  say(`\n${colors.bold("What was sent")}`);
  if (send !== null) {
    say(
      `  ${num(send.packets_sent)} packets of ${num(send.size)} bytes to ${str(send.group)}:` +
        `${num(send.port)} from ${str(send.source)} in ${seconds(send.duration_s)} ` +
        `(${fixed(send.achieved_pps, 1)} pps)`,
    );
    say(
      `  TTL ${num(send.ttl)}, DSCP ${str(send.dscp).toUpperCase()}, sender id ` +
        `${str(send.sender_id)}${
          num(send.send_errors) > 0 ? `, ${send.send_errors} send errors` : ""
        }`,
    );
  } else {
    say(colors.yellow(`  (mcast-send printed no summary)`));
  }

  const totals = obj(receive.totals);
  const packets = num(totals.packets);
  const senders = Array.isArray(receive.senders) ? receive.senders.map(obj) : [];
  const lost = num(totals.lost);
  const unique = packets - num(totals.duplicates);
  const lossPct = lost + unique > 0 ? (100 * lost) / (lost + unique) : 0;
  say(`\n${colors.bold("What arrived")}`);
  say(
    `  ${packets} packets (${num(totals.bytes)} bytes of UDP payload) from ${senders.length} ` +
      `sender${senders.length === 1 ? "" : "s"}: ${lost} lost (${lossPct.toFixed(1)} %), ` +
      `${num(totals.duplicates)} duplicates, ${num(totals.reordered)} reordered`,
  );
  for (const s of senders) {
    const ttl = obj(s.ttl);
    const dscp = obj(s.dscp);
    const hops = num(ttl.hops);
    say(`  sender ${str(s.sender_id)} from ${str(s.source)}:`);
    say(
      `    hops  ${hops} (TTL received ${num(ttl.received)}, sender set ${num(ttl.original)}` +
        `${hops === 0 ? ": same host, nothing routed it" : ""})`,
    );
    const remarked = dscp.remarked === true;
    say(
      `    DSCP  ${str(dscp.received).toUpperCase()}, sender set ${
        str(dscp.original).toUpperCase()
      }: ${remarked ? colors.yellow("REMARKED on the way") : "preserved"}`,
    );
    if (typeof s.jitter_ms === "number") say(`    jitter ${s.jitter_ms.toFixed(3)} ms`);
  }
  const version = typeof receive.igmp_version === "number" ? ` (IGMPv${receive.igmp_version})` : "";
  say(
    `  receiver status ${str(receive.status)} on ${str(receive.interface)}${version}, ` +
      `${num(totals.foreign)} foreign datagrams`,
  );

  say("");
  const expected = send === null ? null : num(send.packets_sent);
  if (packets > 0) {
    say(
      colors.green(
        `OK: ${packets}${expected === null ? "" : ` of ${expected}`} packets arrived. ` +
          "Multicast works on this host.",
      ),
    );
    say(colors.dim(
      `\nTry it in two terminals:\n` +
        `  deno task mcast-receive ${GROUP} --interface ${INTERFACE}\n` +
        `  deno task mcast-send ${GROUP} --interface ${INTERFACE} --rate 50pps --dscp ef\n` +
        `and see your memberships with: deno task mcast-status`,
    ));
    return EXIT.ok;
  }
  say(colors.red("FAILED: no packets arrived."));
  const err = received.stderr.trim();
  if (err !== "") say(colors.dim(`mcast-receive said: ${err}`));
  return EXIT.runtime;
}

function failed(what: string, result: ToolResult): number {
  say(colors.red(`FAILED: ${what} (exit ${result.code ?? "by signal"}).`));
  const err = result.stderr.trim();
  if (err !== "") say(err);
  return EXIT.runtime;
}

function parseJson(text: string): Json | null {
  const start = text.indexOf("{");
  if (start < 0) return null;
  try {
    const value = JSON.parse(text.slice(start));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function obj(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value as Json : {};
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function str(value: unknown): string {
  return value === null || value === undefined ? "?" : String(value);
}

function fixed(value: unknown, digits: number): string {
  return typeof value === "number" ? value.toFixed(digits) : "?";
}

function seconds(value: unknown): string {
  return typeof value === "number" ? `${value.toFixed(1)} s` : "? s";
}

function say(line: string): void {
  console.log(line);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

if (import.meta.main) await runTool(NAME, main);
