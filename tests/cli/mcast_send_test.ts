// `mcast-send` as a subprocess: usage errors (exit 2, one line, no stack trace), --help and
// --version on this host; real runs only on `lo` inside a fresh namespace (lab harness).
//
// Network safety: every bad-input run is prefixed with `--interface lo --count 1 --quiet`, so
// that even a value wrongly accepted could only send one datagram on the loopback interface.

import assert from "node:assert/strict";
import { FLAGS, ROOT, SCRIPT, sendArgv, SUMMARY_KEYS } from "./_send_tool.ts";
import { labTest } from "../lab/mod.ts";
import { VERSION } from "../../cli/_cli.ts";

// The permissions of `deno task mcast-send`.
const SAFE_PREFIX = ["--interface", "lo", "--count", "1", "--quiet"];
const ESC = "\x1b";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function sendHere(args: string[]): Promise<Result> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...FLAGS, SCRIPT, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

// [case, arguments, a fragment the one-line message must contain (the bad value)]
const BAD_INPUTS: ReadonlyArray<readonly [string, string[], string]> = [
  ["group not multicast", ["10.0.0.1"], "10.0.0.1"],
  ["group not an address", ["not-a-group"], "not-a-group"],
  ["unicast IPv6 group", ["fd00::1"], "fd00::1"],
  ["ttl 0", ["239.1.2.3", "5", "0"], "'0'"],
  ["ttl 256", ["239.1.2.3", "5", "256"], "256"],
  ["ttl abc", ["239.1.2.3", "5", "abc"], "abc"],
  ["negative duration", ["239.1.2.3", "-5"], "-5"],
  ["duration with junk", ["239.1.2.3", "10s"], "10s"],
  ["extra argument", ["239.1.2.3", "5", "10", "extra"], "extra"],
  ["bad rate", ["239.1.2.3", "--rate", "fast"], "fast"],
  ["zero rate", ["239.1.2.3", "--rate", "0pps"], "0pps"],
  ["rate in bytes", ["239.1.2.3", "--rate", "10MBps"], "10MBps"],
  ["size 31", ["239.1.2.3", "--size", "31"], "31"],
  ["size 70000", ["239.1.2.3", "--size", "70000"], "70000"],
  ["dscp 64", ["239.1.2.3", "--dscp", "64"], "64"],
  ["dscp xx", ["239.1.2.3", "--dscp", "xx"], "xx"],
  ["port 0", ["239.1.2.3", "--port", "0"], "'0'"],
  ["port 70000", ["239.1.2.3", "--port", "70000"], "70000"],
  ["count 0", ["239.1.2.3", "--count", "0"], "'0'"],
  ["count -1", ["239.1.2.3", "--count", "-1"], "-1"],
  ["unknown interface", ["239.1.2.3", "--interface", "nosuch0"], "nosuch0"],
  ["unknown interface index", ["239.1.2.3", "--interface", "99999"], "99999"],
  ["interface of the other family", ["239.1.2.3", "--interface", "::1"], "::1"],
  ["source of the other family", ["239.1.2.3", "--source", "::1"], "::1"],
  ["IPv4 source for an IPv6 group", ["ff3e::8000:1", "--source", "127.0.0.1"], "127.0.0.1"],
  ["multicast source", ["239.1.2.3", "--source", "239.9.9.9"], "239.9.9.9"],
  ["source not an address", ["239.1.2.3", "--source", "bogus"], "bogus"],
  ["unknown option", ["239.1.2.3", "--bogus"], "--bogus"],
  ["missing group", [], "group"],
  ["option without a value", ["239.1.2.3", "--rate"], "--rate"],
];

for (const [name, args, fragment] of BAD_INPUTS) {
  Deno.test(`mcast-send refuses ${name}: exit 2, one line naming it`, async () => {
    const result = await sendHere([...SAFE_PREFIX, ...args]);
    assert.equal(result.code, 2, `exit code; stderr: ${result.stderr}`);
    const lines = result.stderr.split("\n").filter((line) => line !== "");
    assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
    assert.match(lines[0], /^mcast-send: /);
    assert.ok(lines[0].includes(fragment), `${JSON.stringify(fragment)} in: ${lines[0]}`);
    assert.ok(!/^\s+at /m.test(result.stderr), "no stack trace");
    assert.equal(result.stdout, "", "nothing on stdout");
  });
}

Deno.test("mcast-send --help shows usage, every option and examples", async () => {
  const result = await sendHere(["--help"]);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /Usage: mcast-send \[options\] <group> \[duration\] \[ttl\]/);
  for (
    const option of [
      "--rate",
      "--count",
      "--size",
      "--dscp",
      "--port",
      "--interface",
      "--source",
      "--no-loopback",
      "--quiet",
      "--json",
      "--version",
    ]
  ) {
    assert.ok(result.stdout.includes(option), `help mentions ${option}`);
  }
  assert.match(result.stdout, /Examples:\n {2}mcast-send 239\./);
  assert.equal(result.stderr, "");
});

Deno.test("mcast-send --version prints the version", async () => {
  for (const flag of ["--version", "-V"]) {
    const result = await sendHere([flag]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), VERSION);
  }
});

labTest(
  "mcast-send --json on lo in a bare namespace: the contract's keys, exact count",
  async (lab) => {
    const ns = await lab.addNamespace("lo");
    const result = await ns.run(
      sendArgv(["239.1.2.3", "--count", "20", "--rate", "1kpps", "--json", "--interface", "lo"]),
      { cwd: ROOT, timeoutMs: 30_000 },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    const summary = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(summary), SUMMARY_KEYS);
    assert.equal(summary.tool, "mcast-send");
    assert.equal(summary.version, VERSION);
    assert.equal(summary.group, "239.1.2.3");
    assert.equal(summary.port, 19779);
    assert.equal(summary.source, "127.0.0.1");
    assert.equal(summary.interface, "lo");
    assert.match(summary.sender_id, /^[0-9a-f]{16}$/);
    assert.equal(summary.ttl, 100);
    assert.equal(summary.dscp, "be");
    assert.equal(summary.size, 200);
    assert.equal(summary.rate_pps, 1000);
    assert.equal(summary.packets_sent, 20);
    assert.equal(summary.bytes_sent, 4000);
    assert.equal(summary.send_errors, 0);
    assert.ok(summary.duration_s >= 0.019 && summary.duration_s < 1, `${summary.duration_s}`);
    assert.ok(Math.abs(summary.achieved_pps - 1000) < 100, `achieved ${summary.achieved_pps}`);
  },
  { timeoutMs: 60_000 },
);

labTest("mcast-send defaults, --dscp names, bit rates and max in --json", async (lab) => {
  const ns = await lab.addNamespace("lo");
  const run = async (args: string[]) => {
    const result = await ns.run(sendArgv(["--interface", "lo", "--json", ...args]), {
      cwd: ROOT,
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout);
  };
  const named = await run([
    "239.1.2.3",
    "1",
    "8",
    "--dscp",
    "AF41",
    "--count",
    "3",
    "--port",
    "5000",
  ]);
  assert.deepEqual([named.dscp, named.ttl, named.port, named.packets_sent], ["af41", 8, 5000, 3]);
  const numbered = await run(["239.1.2.3", "--dscp", "13", "--count", "2", "--rate", "100pps"]);
  assert.equal(numbered.dscp, 13, "a DSCP without a name is its number");
  const bits = await run(["239.1.2.3", "--rate", "160kbps", "--count", "5"]); // 200 B = 1600 bits
  assert.equal(bits.rate_pps, 100);
  const max = await run(["239.1.2.3", "--rate", "max", "--count", "1000", "--size", "64"]);
  assert.equal(max.rate_pps, null);
  assert.equal(max.packets_sent, 1000);
  assert.equal(max.bytes_sent, 64_000);
  const timed = await run(["239.1.2.3", "0.5", "--rate", "20pps"]);
  assert.equal(timed.packets_sent, 10, "ceil(0.5 s × 20 pps)");
  assert.ok(timed.duration_s >= 0.5 && timed.duration_s < 0.7, `${timed.duration_s}`);
}, { timeoutMs: 90_000 });

labTest("mcast-send without a TTY: plain lines, no escape codes; --quiet: nothing", async (lab) => {
  const ns = await lab.addNamespace("lo");
  const plain = await ns.run(
    sendArgv(["239.1.2.3", "1", "--rate", "50pps", "--interface", "lo"]),
    { cwd: ROOT, timeoutMs: 30_000, env: { NO_COLOR: "" } },
  );
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(!plain.stdout.includes(ESC), "no escape codes");
  const lines = plain.stdout.trim().split("\n");
  assert.match(lines[0], /^mcast-send: sending to 239\.1\.2\.3:19779 from 127\.0\.0\.1 via lo/);
  assert.match(lines.at(-1)!, /^mcast-send: done: 50 packets, 10000 bytes in 1\.0\d\ds: /);
  const quiet = await ns.run(
    sendArgv(["239.1.2.3", "1", "--rate", "50pps", "--interface", "lo", "--quiet"]),
    { cwd: ROOT, timeoutMs: 30_000 },
  );
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stdout, "");
  assert.equal(quiet.stderr, "");
}, { timeoutMs: 60_000 });

labTest("mcast-send ends cleanly with a summary on SIGINT and SIGTERM", async (lab) => {
  const ns = await lab.addNamespace("lo");
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const process = ns.spawn(
      sendArgv(["239.1.2.3", "0", "--rate", "200pps", "--interface", "lo", "--json"]),
      { cwd: ROOT },
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    process.kill(signal);
    const result = await process.wait();
    assert.equal(result.code, 0, `${signal}: ${result.stderr}`);
    const summary = JSON.parse(result.stdout);
    assert.ok(summary.packets_sent > 50, `${signal}: sent ${summary.packets_sent}`);
    assert.ok(
      Math.abs(summary.achieved_pps - 200) < 20,
      `${signal}: achieved ${summary.achieved_pps}`,
    );
  }
}, { timeoutMs: 60_000 });

labTest(
  "mcast-send fails at run time with exit 1 and one line: source not on this host",
  async (lab) => {
    const ns = await lab.addNamespace("lo");
    for (
      const args of [
        ["239.1.2.3", "--source", "192.0.2.1", "--interface", "lo"],
        ["ff3e::8000:1", "--source", "fd00:dead::1", "--interface", "lo"],
        ["239.1.2.3"], // no multicast route in a bare namespace: ENETUNREACH
      ]
    ) {
      const result = await ns.run(sendArgv([...args, "--count", "1"]), {
        cwd: ROOT,
        timeoutMs: 30_000,
      });
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
      const lines = result.stderr.split("\n").filter((line) => line !== "");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], /^mcast-send: .*(EADDRNOTAVAIL|ENETUNREACH)/);
    }
  },
  { timeoutMs: 60_000 },
);
