// End-to-end tests of mcast-receive in lab namespaces (issue #5, "Done when"): the exit codes of
// the lab expectations; a router namespace (smcroute forwarding, iptables remarking DSCP) giving
// 1 hop and REMARKED; the live dashboard in tmux going RECEIVING → STALLED; force_igmp_version
// restored after SIGINT/SIGTERM. All traffic stays on `lo` or veth links of namespaces the tests
// create; every sender sends a fixed count, every wait is bounded.

import assert from "node:assert/strict";
import { type Lab, type LabProcess, labTest, type Namespace } from "../lab/mod.ts";
import { parseIgmp } from "../../lib/proc_igmp.ts";
import { taskFlags } from "../_task_flags.ts";

const TOOL = new URL("../../cli/mcast_receive.ts", import.meta.url).pathname;
const SENDER = new URL("./_mcas_sender.ts", import.meta.url).pathname;
/** The permissions of `deno task mcast-receive`: the tool must work with these. */
const TOOL_FLAGS = taskFlags("mcast-receive");

function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

function randomGroup(): string {
  return `239.${randomInt(1, 254)}.${randomInt(1, 254)}.${randomInt(1, 254)}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sockets joined to an IPv4 `group` on `iface` in `ns`, from /proc/net/igmp. */
async function igmpUsers(ns: Namespace, group: string, iface: string): Promise<number> {
  const result = await ns.run(["cat", "/proc/net/igmp"], { check: true });
  const entry = parseIgmp(result.stdout).find((e) => e.name === iface);
  return entry?.groups.find((g) => g.group === group)?.users ?? 0;
}

/** The operational IGMP version of `iface` in `ns` (/proc/net/igmp), or null. */
async function igmpVersion(ns: Namespace, iface: string): Promise<number | null> {
  const result = await ns.run(["cat", "/proc/net/igmp"], { check: true });
  return parseIgmp(result.stdout).find((e) => e.name === iface)?.version ?? null;
}

/** Waits (bounded) until the group on `iface` has more than `before` users. */
async function waitUsers(
  ns: Namespace,
  group: string,
  iface: string,
  before: number,
  process?: LabProcess,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await igmpUsers(ns, group, iface) > before) return;
    if (process?.exited) {
      const result = await process.wait();
      throw new Error(`receiver exited early (${result.code}): ${result.stderr}`);
    }
    await sleep(50);
  }
  throw new Error(`${group} not joined on ${iface} within 15 s`);
}

/** Starts mcast-receive in `ns` and waits until it has joined. */
async function startReceiver(
  ns: Namespace,
  group: string,
  iface: string,
  args: string[],
): Promise<LabProcess> {
  const before = await igmpUsers(ns, group, iface);
  const process = ns.spawnDeno(TOOL, { flags: TOOL_FLAGS, args: [group, "-i", iface, ...args] });
  await waitUsers(ns, group, iface, before, process);
  return process;
}

async function send(ns: Namespace, group: string, args: string[]): Promise<void> {
  const result = await ns.runDeno(SENDER, { args: [group, ...args], timeoutMs: 30_000 });
  assert.equal(result.code, 0, `sender failed: ${result.stderr}`);
}

interface Expectation {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * Ctrl-C to every receiver; each must exit with its case's code and print its JSON summary.
 * Returns, per receiver, its flags as text, the code, the parsed summary and stderr.
 */
async function interruptAll(
  receivers: LabProcess[],
  cases: ReadonlyArray<readonly [string[], number]>,
) {
  for (const receiver of receivers) receiver.kill("SIGINT");
  const results = await Promise.all(receivers.map((r) => r.wait()));
  return results.map((result, i) => {
    const [flags, code] = cases[i];
    const what = flags.join(" ");
    assert.equal(result.code, code, `${what}: exit ${result.code}: ${result.stderr}`);
    return { flags, what, code, summary: JSON.parse(result.stdout), stderr: result.stderr };
  });
}

labTest("mcast-receive lab: expectation flags give exit 0 when met and 3 when not", async (lab) => {
  const ns = await lab.addNamespace("rx");
  const group = randomGroup();
  const port = String(randomInt(20_000, 60_000));
  // 20 EF packets, sequence 10 missing: loss 1 / 21 = 4.76 %.
  const cases: Array<[string[], number]> = [
    [["--min-packets", "20"], 0],
    [["--min-packets", "21"], 3],
    [["--expect-dscp", "ef"], 0],
    [["--expect-dscp", "af11"], 3],
    [["--max-loss", "5"], 0],
    [["--max-loss", "4.5"], 3],
    [["--min-packets", "1", "--expect-dscp", "46", "--expect-hops", "0"], 0],
  ];
  const receivers: LabProcess[] = [];
  for (const [flags] of cases) {
    receivers.push(await startReceiver(ns, group, "lo", ["--port", port, "--json", ...flags]));
  }
  await send(ns, group, ["--port", port, "--dscp", "ef", "--plan", "id=abc:0-9,11-20"]);
  await sleep(300);
  for (const { flags, what, code, summary, stderr } of await interruptAll(receivers, cases)) {
    assert.equal(summary.totals.packets, 20, what);
    assert.equal(summary.totals.lost, 1, what);
    const expectations = summary.expectations as Expectation[];
    assert.equal(expectations.every((e) => e.ok), code === 0, what);
    assert.equal(expectations.length, flags.filter((f) => f.startsWith("--")).length, what);
    if (code === 3) assert.match(stderr, /expectation not met/, what);
  }
}, { timeoutMs: 60_000 });

/** h1 — router (smcroute forwarding `group` from h1 to h2) — h2. */
async function routedLab(lab: Lab, group: string) {
  const h1 = await lab.addNamespace("h1");
  const router = await lab.addRouter("r");
  const h2 = await lab.addNamespace("h2");
  const up = await lab.link(h1, router);
  const down = await lab.link(router, h2);
  // smcroute: a static (S,G) route from the h1 side to the h2 side.
  const dir = await lab.scratchDir();
  const conf = `${dir}/smcroute-${router.label}.conf`;
  await Deno.writeTextFile(
    conf,
    [
      `phyint ${up.b.name} enable`,
      `phyint ${down.a.name} enable`,
      `mroute from ${up.b.name} source ${up.a.ipv4} group ${group} to ${down.a.name}`,
      "",
    ].join("\n"),
  );
  const smcroute = router.spawn([
    "smcrouted",
    "-n",
    "-N",
    "-f",
    conf,
    "-u",
    `${dir}/smcroute-${router.label}.sock`,
    "-P",
    `${dir}/smcroute-${router.label}.pid`,
    "-l",
    "info",
  ]);
  const deadline = Date.now() + 15_000;
  while (!(await router.ip(["mroute", "show"])).includes(group)) {
    if (smcroute.exited || Date.now() > deadline) {
      throw new Error(`smcroute did not install the route: ${smcroute.stderr}`);
    }
    await sleep(100);
  }
  return { h1, router, h2, up, down, smcroute };
}

/** The iptables mangle rule that remarks forwarded MCAS to AF11 (and, with `ttlDec`, ages it). */
function remarkRule(action: "-A" | "-D", target: string[]): string[] {
  return [
    "iptables",
    "-t",
    "mangle",
    action,
    "FORWARD",
    "-p",
    "udp",
    "--dport",
    "19779",
    ...target,
  ];
}

labTest(
  "mcast-receive lab: through a router that remarks DSCP the receiver sees 1 hop and REMARKED",
  async (lab) => {
    const group = randomGroup();
    const { h1, router, h2, up, down, smcroute } = await routedLab(lab, group);
    // The router remarks forwarded multicast to AF11.
    await router.run(remarkRule("-A", ["-j", "DSCP", "--set-dscp-class", "af11"]), { check: true });

    const cases: Array<[string[], number]> = [
      [["--expect-hops", "1"], 0],
      [["--expect-hops", "0"], 3],
      [["--expect-dscp", "ef"], 3],
      [["--expect-dscp", "af11", "--min-packets", "30"], 0],
    ];
    const receivers: LabProcess[] = [];
    for (const [flags] of cases) {
      receivers.push(await startReceiver(h2, group, down.b.name, ["--json", ...flags]));
    }
    await send(h1, group, [
      "--interface",
      up.a.name,
      "--source",
      up.a.ipv4!,
      "--ttl",
      "64",
      "--dscp",
      "ef",
      "--count",
      "30",
      "--interval-ms",
      "5",
    ]);
    await sleep(500);
    for (const { what, summary } of await interruptAll(receivers, cases)) {
      assert.equal(summary.interface, down.b.name, what);
      assert.equal(summary.totals.packets, 30, what);
      assert.equal(summary.senders.length, 1, what);
      const [sender] = summary.senders;
      assert.equal(sender.source, up.a.ipv4, what);
      assert.deepEqual(
        sender.ttl,
        { received: 63, original: 64, hops: 1, min: 63, max: 63, changes: 0 },
        what,
      );
      assert.deepEqual(sender.dscp, {
        received: "af11",
        original: "ef",
        remarked: true,
        remarked_packets: 30,
        seen: { af11: 30 },
      }, what);
    }
    await smcroute.stop();
  },
  { requires: ["smcrouted", "iptables"], timeoutMs: 90_000 },
);

labTest(
  "mcast-receive lab: 90 packets remarked from 6 hops then 10 clean ones fail --expect-dscp/--expect-hops",
  async (lab) => {
    const group = randomGroup();
    const { h1, router, h2, up, down, smcroute } = await routedLab(lab, group);
    // The first 90 packets: remarked AF11 and 5 hops older than the router alone makes them.
    const rules = [
      ["-j", "DSCP", "--set-dscp-class", "af11"],
      ["-j", "TTL", "--ttl-dec", "5"],
    ];
    for (const rule of rules) await router.run(remarkRule("-A", rule), { check: true });
    const capture = await h2.capture(down.b.name, { filter: `udp and dst host ${group}` });
    const receiver = await startReceiver(h2, group, down.b.name, [
      "--json",
      "--expect-dscp",
      "ef",
      "--expect-hops",
      "1",
    ]);
    const sender = [
      "--interface",
      up.a.name,
      "--source",
      up.a.ipv4!,
      "--ttl",
      "64",
      "--dscp",
      "ef",
    ];
    await send(h1, group, [...sender, "--plan", "id=5eed:0-89", "--interval-ms", "2"]);
    await sleep(300);
    for (const rule of rules) await router.run(remarkRule("-D", rule), { check: true });
    await send(h1, group, [...sender, "--plan", "id=5eed:90-99", "--interval-ms", "2"]);
    await sleep(500);
    const [{ summary, stderr }] = await interruptAll([receiver], [[["mixed path"], 3]]);
    // The capture is the truth: 90 datagrams with TOS 0x28 (AF11) and TTL 58, then 10 with TOS
    // 0xb8 (EF) and TTL 63.
    const packets = await capture.packets();
    const seen = new Map<string, number>();
    for (const p of packets) {
      const key = `${p.tos}/${p.ttl}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(seen), { "40/58": 90, "184/63": 10 });
    assert.equal(summary.totals.packets, 100);
    const [one] = summary.senders;
    assert.equal(one.sender_id, "0000000000005eed");
    assert.deepEqual(one.ttl, {
      received: 63,
      original: 64,
      hops: 1,
      min: 58,
      max: 63,
      changes: 1,
    });
    assert.deepEqual(one.dscp, {
      received: "ef",
      original: "ef",
      remarked: true,
      remarked_packets: 90,
      seen: { af11: 90, ef: 10 },
    });
    assert.deepEqual(summary.expectations, [
      {
        name: "expect-dscp",
        ok: false,
        detail:
          `expected EF for every packet: 0000000000005eed from ${up.a.ipv4} received AF11 ×90, EF ×10`,
      },
      {
        name: "expect-hops",
        ok: false,
        detail:
          `expected 1 hop for every packet: 0000000000005eed from ${up.a.ipv4} is 1 to 6 hops away`,
      },
    ]);
    assert.match(stderr, /expectation not met: expect-dscp/);
    await smcroute.stop();
  },
  { requires: ["smcrouted", "iptables", "tcpdump"], timeoutMs: 90_000 },
);

labTest("mcast-receive lab: the tmux dashboard goes RECEIVING then STALLED", async (lab) => {
  const ns = await lab.addNamespace("tty");
  const group = randomGroup();
  const port = String(randomInt(20_000, 60_000));
  const socket = `mcr-${Deno.pid}-${randomInt(1, 1e9)}`;
  const env = { TERM: "xterm-256color" };
  const tmux = (args: string[]) =>
    ns.run(["tmux", "-L", socket, "-f", "/dev/null", ...args], { env });
  const statusFile = await Deno.makeTempFile({ prefix: "mcr-status-" });
  await Deno.remove(statusFile);
  // tmux's #{pane_dead_status} is sometimes empty for a pane that did exit 0 (a race with its
  // reaping), so the shell records the exit code; it ignores SIGINT itself, the tool does not.
  const command = [
    "trap '' INT;",
    Deno.execPath(),
    "run",
    ...TOOL_FLAGS,
    TOOL,
    group,
    "-i",
    "lo",
    "--port",
    port,
  ]
    .concat(["--stall-timeout", "1", "--duration", "30", ";", "echo", "$?", ">", statusFile])
    .join(" ");
  try {
    const started = await tmux(["new-session", "-d", "-s", "rx", "-x", "120", "-y", "40", command]);
    assert.equal(started.code, 0, started.stderr);
    await tmux(["set-option", "-g", "remain-on-exit", "on"]);
    await waitUsers(ns, group, "lo", 0);
    const capture = async () => (await tmux(["capture-pane", "-p", "-t", "rx"])).stdout;
    const waitFor = async (pattern: RegExp, ms: number) => {
      const deadline = Date.now() + ms;
      let screen = "";
      while (Date.now() < deadline) {
        screen = await capture();
        if (pattern.test(screen)) return screen;
        await sleep(150);
      }
      throw new Error(`screen never matched ${pattern}:\n${screen}`);
    };

    const waiting = await waitFor(/WAITING/, 10_000);
    assert.match(waiting, /waiting for MCAS datagrams/);
    // About 2 s of traffic: 100 datagrams 20 ms apart.
    const sender = ns.spawnDeno(SENDER, {
      args: [group, "--port", port, "--count", "100", "--interval-ms", "20", "--dscp", "cs5"],
    });
    const receiving = await waitFor(/RECEIVING/, 10_000);
    assert.match(receiving, /senders \(1\)/);
    assert.ok(!sender.exited, "the dashboard showed RECEIVING only after the sender was done");
    assert.equal((await sender.wait()).code, 0);
    const stalled = await waitFor(/STALLED/, 10_000);
    assert.match(stalled, /packets 100 /);
    assert.match(stalled, /CS5, sender set CS5 — preserved/);
    assert.match(stalled, /silent for .* so far/);
    // Ctrl-C: the final frame stays, the tool exits 0.
    await tmux(["send-keys", "-t", "rx", "C-c"]);
    const deadline = Date.now() + 10_000;
    let status = "";
    while (Date.now() < deadline) {
      status = await Deno.readTextFile(statusFile).catch(() => "");
      if (status.endsWith("\n")) break;
      await sleep(150);
    }
    assert.equal(status, "0\n", "the tool did not exit 0 after Ctrl-C");
    // With the scrollback: the terminal's "^C" echo may push the first line off the top.
    const final = (await tmux(["capture-pane", "-p", "-S", "-100", "-t", "rx"])).stdout;
    assert.match(final, /ran \d/);
    assert.doesNotMatch(final, /Ctrl-C to stop/);
  } finally {
    await tmux(["kill-server"]);
    await Deno.remove(statusFile).catch(() => {});
  }
}, { requires: ["tmux"], timeoutMs: 60_000 });

labTest(
  "mcast-receive lab: --igmp-version 2 is forced while running and restored after",
  async (lab) => {
    const ns = await lab.addNamespace("rx");
    const key = "net.ipv4.conf.lo.force_igmp_version";
    for (const [before, signal] of [["0", "SIGINT"], ["1", "SIGTERM"]] as const) {
      await ns.sysctl(key, before);
      const group = randomGroup();
      const receiver = await startReceiver(ns, group, "lo", ["--igmp-version", "2", "--json"]);
      assert.equal(await ns.readSysctl(key), "2", "not forced while running");
      assert.equal(await igmpVersion(ns, "lo"), 2);
      receiver.kill(signal);
      const result = await receiver.wait();
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout);
      assert.equal(summary.igmp_version, 2);
      assert.equal(await ns.readSysctl(key), before, `not restored after ${signal}`);
      assert.equal(await igmpUsers(ns, group, "lo"), 0);
    }
    // A normal end (--duration) restores too.
    await ns.sysctl(key, "0");
    const result = await ns.runDeno(TOOL, {
      flags: TOOL_FLAGS,
      args: [randomGroup(), "-i", "lo", "--igmp-version", "1", "--duration", "0.3", "--quiet"],
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /IGMPv1 \(forced, restored on exit\)/);
    assert.equal(await ns.readSysctl(key), "0");
  },
  { timeoutMs: 60_000 },
);

labTest(
  "mcast-receive lab: SSM for IPv4 and IPv6 on a link, routing-default interface",
  async (lab) => {
    const h1 = await lab.addNamespace("h1");
    const h2 = await lab.addNamespace("h2");
    const link = await lab.link(h1, h2);
    const iface = link.b.name;
    const group4 = `232.${randomInt(1, 254)}.${randomInt(1, 254)}.${randomInt(1, 254)}`;
    const group6 = `ff3e::${randomInt(1, 0xffff).toString(16)}`;

    // IPv4: an (S,G) receiver without --interface (the lab's 224.0.0.0/4 route names the link), an
    // (S,G) receiver for another source, an ASM receiver.
    const ssm = await startReceiver(h2, group4, iface, [link.a.ipv4!, "--json"]);
    // (startReceiver passes -i; the routing-default one is started by hand.)
    const before = await igmpUsers(h2, group4, iface);
    const routed = h2.spawnDeno(TOOL, {
      flags: TOOL_FLAGS,
      args: [group4, link.a.ipv4!, "--json"],
    });
    await waitUsers(h2, group4, iface, before, routed);
    const other = await startReceiver(h2, group4, iface, ["10.100.99.1", "--json"]);
    const args = ["--interface", link.a.name, "--count", "25", "--ttl", "5", "--dscp", "af41"];
    await send(h1, group4, args);

    // IPv6: (S,G) on ff3e::/32 with MLDv2; joins are not in /proc/net/igmp, so wait on igmp6.
    const receiver6 = h2.spawnDeno(TOOL, {
      flags: TOOL_FLAGS,
      args: [group6, link.a.ipv6!, "-i", iface, "--json"],
    });
    const deadline = Date.now() + 15_000;
    while (!(await h2.run(["cat", "/proc/net/igmp6"])).stdout.includes(hexIpv6(group6))) {
      if (receiver6.exited || Date.now() > deadline) {
        throw new Error(`IPv6 receiver did not join: ${receiver6.stderr}`);
      }
      await sleep(50);
    }
    await send(h1, group6, args);
    await sleep(300);

    for (const r of [ssm, routed, other, receiver6]) r.kill("SIGINT");
    const [s4, r4, o4, s6] = await Promise.all(
      [ssm, routed, other, receiver6].map((r) => r.wait()),
    );
    for (const result of [s4, r4, o4, s6]) assert.equal(result.code, 0, result.stderr);
    const ipv4 = JSON.parse(s4.stdout);
    assert.equal(ipv4.source, link.a.ipv4);
    assert.equal(ipv4.igmp_version, 3);
    assert.equal(ipv4.totals.packets, 25);
    assert.deepEqual(ipv4.senders[0].ttl, {
      received: 5,
      original: 5,
      hops: 0,
      min: 5,
      max: 5,
      changes: 0,
    });
    assert.deepEqual(ipv4.senders[0].dscp, {
      received: "af41",
      original: "af41",
      remarked: false,
      remarked_packets: 0,
      seen: { af41: 25 },
    });
    const viaRoute = JSON.parse(r4.stdout);
    assert.equal(viaRoute.interface, iface);
    assert.equal(viaRoute.totals.packets, 25);
    assert.equal(JSON.parse(o4.stdout).totals.packets, 0, "an (S,G) for another source got data");

    const ipv6 = JSON.parse(s6.stdout);
    assert.equal("igmp_version" in ipv6, false);
    assert.equal(ipv6.mld_version, 2);
    assert.equal(ipv6.group, group6);
    assert.equal(ipv6.source, link.a.ipv6);
    assert.equal(ipv6.interface, iface);
    assert.equal(ipv6.totals.packets, 25);
    assert.deepEqual(ipv6.senders[0].ttl, {
      received: 5,
      original: 5,
      hops: 0,
      min: 5,
      max: 5,
      changes: 0,
    });
    assert.equal(ipv6.senders[0].dscp.received, "af41");
  },
  { timeoutMs: 60_000 },
);

/** The 32 hex digits /proc/net/igmp6 writes for an IPv6 address. */
function hexIpv6(address: string): string {
  const [head, tail = ""] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return groups.map((g) => g.padStart(4, "0")).join("");
}

labTest(
  "mcast-receive lab: --mld-version 1 is forced, the report on the wire is MLDv1, then restored",
  async (lab) => {
    const h1 = await lab.addNamespace("h1");
    const h2 = await lab.addNamespace("h2");
    const link = await lab.link(h1, h2);
    const iface = link.b.name;
    const key = `net.ipv6.conf.${iface}.force_mld_version`;
    const before = await h2.readSysctl(key);
    const group = `ff3e::${randomInt(0x1000, 0xffff).toString(16)}`;
    // Not "icmp6": MLD reports carry a hop-by-hop options header before the ICMPv6 one.
    const capture = await h2.capture(iface, { filter: "ip6" });
    const receiver = h2.spawnDeno(TOOL, {
      flags: TOOL_FLAGS,
      args: [group, "-i", iface, "--mld-version", "1", "--json"],
    });
    const deadline = Date.now() + 15_000;
    while (!(await h2.run(["cat", "/proc/net/igmp6"])).stdout.includes(hexIpv6(group))) {
      if (receiver.exited || Date.now() > deadline) {
        throw new Error(`IPv6 receiver did not join: ${receiver.stderr}`);
      }
      await sleep(50);
    }
    assert.equal(await h2.readSysctl(key), "1", "not forced while running");
    await sleep(300);
    receiver.kill("SIGINT");
    const result = await receiver.wait();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).mld_version, 1);
    assert.equal(await h2.readSysctl(key), before, "not restored");
    // ICMPv6 type 131 is an MLDv1 report, 143 an MLDv2 one; the join must have gone out as v1.
    const types = (await capture.packets())
      .filter((p) => p.family === 6 && p.protocol === 58 && p.transport !== undefined)
      .map((p) => p.transport![0]);
    assert.ok(types.includes(131), `no MLDv1 report among ICMPv6 types ${types.join(",")}`);
  },
  { requires: ["tcpdump"], timeoutMs: 60_000 },
);
