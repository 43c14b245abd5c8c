// Tests of the mcast-receive tool as a subprocess: --help/--version, a table of bad inputs (exit
// 2, one stderr line, no stack trace), and runs inside a fresh lab namespace (only `lo` up) with a
// scripted MCAS stream of known truth: exact JSON totals, plain output without escape codes,
// SIGINT/SIGTERM giving the summary and the exit code the expectations call for. All traffic stays
// on `lo` of namespaces the tests create.

import assert from "node:assert/strict";
import { nobodyPath, nobodyRuntime } from "../_nobody.ts";
import { type LabProcess, labTest, type Namespace } from "../lab/mod.ts";
import { parseIgmp } from "../../lib/proc_igmp.ts";
import { taskFlags } from "../_task_flags.ts";

const TOOL = new URL("../../cli/mcast_receive.ts", import.meta.url).pathname;
const SENDER = new URL("./_mcas_sender.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
/** The permissions of `deno task mcast-receive`: the tool must work with these. */
const TOOL_FLAGS = taskFlags("mcast-receive");
const ESCAPE = new RegExp(String.fromCharCode(0x1b));

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

async function runTool(args: string[]): Promise<Output> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...TOOL_FLAGS, TOOL, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(30_000),
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/**
 * Starts mcast-receive in `ns` (with the task's permissions) and waits until it has joined: until
 * the group on `iface` has one more user (socket) in /proc/net/igmp than before.
 */
async function startReceiver(
  ns: Namespace,
  group: string,
  iface: string,
  args: string[],
): Promise<LabProcess> {
  const before = await igmpUsers(ns, group, iface);
  const process = ns.spawnDeno(TOOL, { flags: TOOL_FLAGS, args: [group, ...args] });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await igmpUsers(ns, group, iface) > before) return process;
    if (process.exited) {
      const result = await process.wait();
      throw new Error(`receiver exited early (${result.code}): ${result.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${group} not joined on ${iface} within 15 s: ${process.stderr}`);
}

/** Sockets joined to an IPv4 `group` on `iface` in `ns`, from /proc/net/igmp. */
async function igmpUsers(ns: Namespace, group: string, iface: string): Promise<number> {
  const result = await ns.run(["cat", "/proc/net/igmp"], { check: true });
  const entry = parseIgmp(result.stdout).find((e) => e.name === iface);
  return entry?.groups.find((g) => g.group === group)?.users ?? 0;
}

/** Runs the scripted sender in `ns`; returns what it reports. */
async function send(
  ns: Namespace,
  group: string,
  args: string[],
): Promise<{ mcas: number; foreign: number; sender_ids: string[] }> {
  const result = await ns.runDeno(SENDER, { args: [group, ...args], timeoutMs: 30_000 });
  assert.equal(result.code, 0, `sender failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!);
}

// --- without a network ------------------------------------------------------------------------

Deno.test("mcast-receive: --help shows usage and examples, --version the version", async () => {
  const help = await runTool(["--help"]);
  assert.equal(help.code, 0);
  assert.equal(help.stderr, "");
  assert.match(help.stdout, /Usage: mcast-receive \[options\] <group> \[source\]/);
  for (
    const option of [
      "--igmp-version",
      "--mld-version",
      "--port",
      "--interface",
      "--stall-timeout",
      "--duration",
      "--min-packets",
      "--max-loss",
      "--expect-dscp",
      "--expect-hops",
      "--quiet",
      "--json",
    ]
  ) {
    assert.ok(help.stdout.includes(option), `help lacks ${option}`);
  }
  assert.match(help.stdout, /Examples:\n\s+mcast-receive 239\.1\.2\.3/);
  const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  for (const flag of ["--version", "-V"]) {
    const version = await runTool([flag]);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), denoJson.version);
  }
});

const BAD_INPUTS: Array<[string[], RegExp]> = [
  [[], /missing required argument 'group'/],
  [["10.1.2.3"], /multicast/],
  [["not-an-address"], /group/],
  [["239.1.2.3", "--port", "0"], /port must be an integer from 1 to 65535/],
  [["239.1.2.3", "--port", "70000"], /port/],
  [["239.1.2.3", "--port", "http"], /port/],
  [["239.1.2.3", "--igmp-version", "4"], /IGMP version must be an integer from 1 to 3/],
  [["239.1.2.3", "--igmp-version", "0"], /IGMP version/],
  [["232.1.1.1", "10.0.0.1", "--igmp-version", "2"], /IGMP version: 2 .*only IGMPv3/],
  [["ff3e::1234", "fd00::1", "--mld-version", "1"], /MLD version: 1 .*only MLDv2/],
  [["ff3e::1234", "--mld-version", "3"], /MLD version must be an integer from 1 to 2/],
  [["ff3e::1234", "--igmp-version", "2"], /--igmp-version.*use --mld-version/],
  [["239.1.2.3", "--mld-version", "2"], /--mld-version.*use --igmp-version/],
  [["239.1.2.3", "fd00::1"], /address family of source/],
  [["239.1.2.3", "239.9.9.9"], /source.*unicast/],
  [["239.1.2.3", "0.0.0.0"], /source.*unicast/],
  [["239.1.2.3", "10.0.0.300"], /source/],
  [["239.1.2.3", "--interface", "nosuchif0"], /interface: "?nosuchif0/],
  [["239.1.2.3", "--interface", "99999"], /interface/],
  [["ff02::1234%nosuchif0"], /interface: "?nosuchif0/],
  [["239.1.2.3", "--stall-timeout", "0"], /stall timeout must be a number/],
  [["239.1.2.3", "--stall-timeout", "soon"], /stall timeout/],
  [["239.1.2.3", "--duration", "-5"], /duration|unknown option/],
  [["239.1.2.3", "--duration", "ten"], /duration must be a number/],
  [["239.1.2.3", "--min-packets", "1.5"], /min packets must be an integer/],
  [["239.1.2.3", "--max-loss", "101"], /max loss must be a number from 0 to 100/],
  [["239.1.2.3", "--max-loss", "5%"], /max loss/],
  [["239.1.2.3", "--expect-dscp", "af51"], /0 to 63 or a name/],
  [["239.1.2.3", "--expect-dscp", "64"], /0 to 63 or a name/],
  [["239.1.2.3", "--expect-hops", "256"], /expected hops must be an integer from 0 to 255/],
  [["239.1.2.3", "--bogus"], /unknown option '--bogus'/],
  [["239.1.2.3", "10.0.0.1", "extra"], /too many arguments/],
  [["239.1.2.3", "--port"], /argument missing/],
];

Deno.test(`mcast-receive: ${BAD_INPUTS.length} bad inputs exit 2 with one line, no stack`, async () => {
  const results = await Promise.all(BAD_INPUTS.map(([args]) => runTool(args)));
  results.forEach((result, i) => {
    const [args, pattern] = BAD_INPUTS[i];
    const what = `mcast-receive ${args.join(" ")}`;
    assert.equal(result.code, 2, `${what}: exit ${result.code}, stderr: ${result.stderr}`);
    assert.equal(result.stdout, "", `${what}: stdout not empty`);
    const lines = result.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, `${what}: expected one stderr line, got:\n${result.stderr}`);
    assert.match(lines[0], /^mcast-receive: /, what);
    assert.match(lines[0], pattern, what);
    assert.doesNotMatch(result.stderr, /\n\s+at |Error:|Stack/, `${what}: stack trace`);
  });
});

// --- in a fresh namespace, on lo --------------------------------------------------------------

// Known truth: sender id 1 sends 0-4,6,5,7,7,8,10-14 (15 packets: 5 late = 1 reordered, 7 twice
// = 1 duplicate, 9 never = 1 lost), then 3 foreign datagrams, then sender id 2 from the same
// source sends 0-9 (a restart).
const PLAN = "id=1:0-4,6,5,7,7,8,10-14;foreign=3;id=2:0-9";
const SIZE = 200;

labTest(
  "mcast-receive: a scripted stream on lo gives exactly its counts in --json",
  async (lab) => {
    const ns = await lab.addNamespace("rx");
    const group = `239.${randomInt(1, 254)}.${randomInt(1, 254)}.${randomInt(1, 254)}`;
    const port = String(randomInt(20_000, 60_000));
    const common = ["--interface", "lo", "--port", port, "--duration", "3"];
    // Started together (their --duration runs from their own start), then all three joined.
    const [json, plain, quiet] = [[...common, "--json"], common, [...common, "--quiet"]].map(
      (args) => ns.spawnDeno(TOOL, { flags: TOOL_FLAGS, args: [group, ...args] }),
    );
    const deadline = Date.now() + 15_000;
    while (await igmpUsers(ns, group, "lo") < 3) {
      if (Date.now() > deadline || json.exited || plain.exited || quiet.exited) {
        throw new Error(`receivers did not join: ${json.stderr}${plain.stderr}${quiet.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const sent = await send(ns, group, [
      "--port",
      port,
      "--plan",
      PLAN,
      "--ttl",
      "7",
      "--dscp",
      "af41",
    ]);
    assert.deepEqual(sent, {
      mcas: 25,
      foreign: 3,
      sender_ids: ["0000000000000001", "0000000000000002"],
    });

    const [jsonResult, plainResult, quietResult] = await Promise.all([
      json.wait(),
      plain.wait(),
      quiet.wait(),
    ]);

    // --json: exit 0 (no expectations), stdout is exactly one JSON object.
    assert.equal(jsonResult.code, 0, jsonResult.stderr);
    const summary = JSON.parse(jsonResult.stdout);
    assert.deepEqual(Object.keys(summary), [
      "tool",
      "version",
      "group",
      "source",
      "exclude",
      "port",
      "interface",
      "igmp_version",
      "duration_s",
      "status",
      "totals",
      "senders",
      "gaps",
      "querier",
      "diagnosis",
    ]);
    assert.deepEqual(summary.exclude, []);
    assert.deepEqual(summary.diagnosis, []);
    assert.equal(summary.tool, "mcast-receive");
    assert.equal(summary.group, group);
    assert.equal(summary.source, null);
    assert.equal(summary.port, Number(port));
    assert.equal(summary.interface, "lo");
    assert.equal(summary.igmp_version, 3);
    assert.ok(summary.duration_s >= 3 && summary.duration_s < 5, `duration ${summary.duration_s}`);
    assert.equal(summary.status, "RECEIVING");
    assert.deepEqual(summary.totals, {
      packets: 25,
      bytes: 25 * SIZE,
      lost: 1,
      loss_pct: 4, // 1 of 1 + 24 unique
      duplicates: 1,
      reordered: 1,
      restarts: 1,
      foreign: 3,
      stalls: 0,
      senders_evicted: 0,
    });
    assert.deepEqual(summary.gaps, []);
    assert.equal(summary.senders.length, 2);
    const [first, second] = summary.senders;
    assert.deepEqual(
      { ...first, jitter_ms: 0, rate_pps: 0 },
      {
        sender_id: "0000000000000001",
        source: "127.0.0.1",
        packets: 15,
        lost: 1,
        loss_pct: 6.667, // 1 of 1 + 14 unique
        duplicates: 1,
        reordered: 1,
        first_seq: 0,
        last_seq: 14,
        rate_pps: 0,
        ttl: { received: 7, original: 7, hops: 0, min: 7, max: 7, changes: 0 },
        dscp: {
          received: "af41",
          original: "af41",
          remarked: false,
          remarked_packets: 0,
          seen: { af41: 15 },
        },
        jitter_ms: 0,
      },
    );
    assert.equal(typeof first.jitter_ms, "number");
    assert.ok(first.rate_pps > 0, `rate ${first.rate_pps}`);
    assert.equal(second.sender_id, "0000000000000002");
    assert.equal(second.packets, 10);
    assert.equal(second.lost + second.duplicates + second.reordered, 0);
    assert.equal(summary.expectations, undefined);

    // Not a terminal: plain start line, status lines and summary; no escape codes anywhere.
    assert.equal(plainResult.code, 0, plainResult.stderr);
    assert.doesNotMatch(plainResult.stdout, ESCAPE);
    assert.match(
      plainResult.stdout,
      /^mcast-receive \S+: joined \(\*, [\d.]+\) ASM port \d+ on lo/,
    );
    assert.match(
      plainResult.stdout,
      /\n\[2\.\ds\] (WAITING|RECEIVING) \(\*, [\d.]+\) ASM on lo: \d+ packets/,
    );
    assert.match(plainResult.stdout, /packets 25 {2}bytes 5000 {2}lost 1/);
    assert.ok(plainResult.stdout.includes("recv 7, sender set 7 — same link (0 hops)"));
    assert.ok(plainResult.stdout.includes("AF41, sender set AF41 — preserved"));

    // --quiet: no status lines, only the summary.
    assert.equal(quietResult.code, 0, quietResult.stderr);
    assert.doesNotMatch(quietResult.stdout, ESCAPE);
    assert.doesNotMatch(quietResult.stdout, /joined|\[\d+\.\ds\]/);
    assert.match(quietResult.stdout, /restarts 1 {2}foreign 3/);
  },
  { timeoutMs: 60_000 },
);

labTest(
  "mcast-receive: SIGINT and SIGTERM end the run with the summary and the right exit",
  async (lab) => {
    const ns = await lab.addNamespace("rx");
    const group = `239.${randomInt(1, 254)}.${randomInt(1, 254)}.${randomInt(1, 254)}`;
    const port = String(randomInt(20_000, 60_000));
    const common = ["--interface", "lo", "--port", port, "--json"];
    const met = await startReceiver(ns, group, "lo", [...common, "--min-packets", "20"]);
    const unmet = await startReceiver(ns, group, "lo", [...common, "--min-packets", "1000"]);
    const byTerm = await startReceiver(ns, group, "lo", [...common, "--expect-hops", "0"]);
    await send(ns, group, ["--port", port, "--count", "20"]);
    await new Promise((resolve) => setTimeout(resolve, 300));

    met.kill("SIGINT");
    unmet.kill("SIGINT");
    byTerm.kill("SIGTERM");
    const [metResult, unmetResult, termResult] = await Promise.all([
      met.wait(),
      unmet.wait(),
      byTerm.wait(),
    ]);

    assert.equal(metResult.code, 0, metResult.stderr);
    const metSummary = JSON.parse(metResult.stdout);
    assert.equal(metSummary.totals.packets, 20);
    assert.deepEqual(metSummary.expectations, [
      { name: "min-packets", ok: true, detail: "20 MCAS packets received, expected at least 20" },
    ]);

    assert.equal(unmetResult.code, 3, unmetResult.stderr);
    const unmetSummary = JSON.parse(unmetResult.stdout);
    assert.equal(unmetSummary.expectations[0].ok, false);
    assert.match(unmetResult.stderr, /expectation not met: min-packets/);

    assert.equal(termResult.code, 0, termResult.stderr);
    const termSummary = JSON.parse(termResult.stdout);
    assert.equal(termSummary.totals.packets, 20);
    assert.equal(termSummary.expectations[0].name, "expect-hops");
    assert.equal(termSummary.expectations[0].ok, true);

    // Membership left: nobody is joined to the group any more.
    assert.equal(await igmpUsers(ns, group, "lo"), 0, "still joined");
  },
  { timeoutMs: 60_000 },
);

labTest(
  "mcast-receive: nothing received leaves --expect-* unmet and --max-loss met",
  async (lab) => {
    const ns = await lab.addNamespace("rx");
    const group = `239.${randomInt(1, 254)}.${randomInt(1, 254)}.${randomInt(1, 254)}`;
    const result = await ns.runDeno(TOOL, {
      flags: TOOL_FLAGS,
      args: [
        group,
        "-i",
        "lo",
        "--duration",
        "0.5",
        "--json",
        "--max-loss",
        "0",
        "--expect-dscp",
        "ef",
        "--expect-hops",
        "1",
      ],
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 3, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.status, "WAITING");
    assert.deepEqual(summary.expectations.map((e: { ok: boolean }) => e.ok), [true, false, false]);
    assert.match(summary.expectations[1].detail, /no sender seen/);
    assert.equal(result.stderr.trim().split("\n").length, 2);
  },
  { timeoutMs: 30_000 },
);

labTest(
  "mcast-receive without root: one warning about the IGMP version, then it runs on the kernel's",
  async (lab) => {
    const ns = await lab.addNamespace("nobody");
    const before = await ns.readSysctl("net.ipv4.conf.lo.force_igmp_version");
    // A Deno and a checkout nobody can reach (npx's cache and the clone may be root's only).
    const nobody = await nobodyRuntime();
    if (typeof nobody === "string") throw new Error(`cannot run as nobody: ${nobody}`);
    {
      const result = await ns.run([
        ...nobody.prefix,
        "NO_COLOR=1",
        nobody.deno,
        "run",
        "--cached-only",
        ...TOOL_FLAGS,
        nobodyPath(nobody, new URL(`file://${TOOL}`)),
        "239.77.1.2",
        "--interface",
        "lo",
        "--igmp-version",
        "2",
        "--duration",
        "1",
        "--json",
      ], { cwd: nobody.root, timeoutMs: 30_000 });
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(
        lines[0],
        /^mcast-receive: warning: Permission needed to force IGMPv2 on lo: .*the kernel keeps force_igmp_version 0$/,
      );
      const summary = JSON.parse(result.stdout);
      assert.equal(summary.igmp_version, 3, "the kernel's own version is reported");
      assert.equal(await ns.readSysctl("net.ipv4.conf.lo.force_igmp_version"), before);
    }
  },
  { requires: ["runuser"] },
);
