// Issue 9, items 9 and 10, in lab namespaces: mcast-receive's rates count MCAS datagrams only
// (foreign traffic alone is 0 packets at 0 pps), a sender's rate is over its own span and not
// diluted by the time spent WAITING, loss_pct and senders_evicted are exact; and the hints a lab
// user needs: no multicast route, reserved groups, the SSM range used the wrong way round.
// (Item 1, TTL/DSCP over every packet, is in mcast_receive_lab_test.ts.)

import assert from "node:assert/strict";
import { labTest } from "../lab/mod.ts";
import {
  endReceive,
  freshGroup,
  joinOne,
  linkedPair,
  runReceive,
  runSend,
  sendPlan,
  sleep,
} from "./_receive_lab.ts";

labTest(
  "foreign datagrams alone: 0 MCAS packets at 0 pps in the status lines, counted as foreign",
  async (lab) => {
    const ns = await lab.addNamespace("rx");
    const group = freshGroup();
    const json = await joinOne(ns, "lo", [group, "--json"]);
    const plain = await joinOne(ns, "lo", [group], { NO_COLOR: "1" });
    // About 5 s of noise: at least two status lines (every 2 s) are printed while it flows.
    const sent = await sendPlan(ns, group, ["--plan", "foreign=500", "--interval-ms", "10"]);
    assert.equal(sent.foreign, 500);
    await sleep(300);
    const [summary, lines] = [await endReceive(json), await endReceive(plain)];
    assert.equal(summary.code, 0, summary.stderr);
    assert.equal(summary.json.status, "WAITING");
    assert.equal(summary.json.totals.packets, 0);
    assert.equal(summary.json.totals.bytes, 0);
    assert.equal(summary.json.totals.foreign, 500);
    assert.deepEqual(summary.json.senders, []);
    assert.equal(lines.code, 0, lines.stderr);
    const status = lines.stdout.split("\n").filter((l) => /^\[[^\]]+\] [A-Z]+ /.test(l));
    assert.ok(status.length >= 2, lines.stdout);
    for (const line of status) assert.match(line, /: 0 packets, 0 pps, /, line);
    const foreign = status.map((l) => Number(/foreign (\d+)/.exec(l)?.[1] ?? -1));
    assert.ok(
      foreign.some((n) => n > 0),
      `no status line while the noise flowed:\n${lines.stdout}`,
    );
  },
  { timeoutMs: 60_000 },
);

labTest(
  "rate_pps is over the sender's own span after seconds of WAITING; loss_pct exact per sender and in total",
  async (lab) => {
    const { h1, h2, link } = await linkedPair(lab);
    const group = freshGroup();
    const receiver = await joinOne(h2, link.b.name, [group, "--json"]);
    await sleep(3_000); // WAITING
    const stream = await runSend(h1, [group, "--rate", "100pps", "--count", "200", "--json"]);
    assert.equal(stream.code, 0, stream.stderr);
    // Then a scripted sender from the same address: 99 of 100 (sequence 9 never sent).
    await sendPlan(h1, group, ["--interface", link.a.name, "--plan", "id=abc:0-8,10-99"]);
    await sleep(300);
    const run = await endReceive(receiver);
    assert.equal(run.code, 0, run.stderr);
    const byId = new Map(run.json.senders.map((s: { sender_id: string }) => [s.sender_id, s]));
    // deno-lint-ignore no-explicit-any
    const paced = byId.get(stream.json.sender_id) as any;
    assert.equal(paced.packets, 200);
    assert.equal(paced.lost, 0);
    assert.equal(paced.loss_pct, 0);
    // 100 pps; diluted by the ≥ 3 s of WAITING it would be about 40.
    assert.ok(paced.rate_pps > 60 && paced.rate_pps < 140, `rate_pps ${paced.rate_pps}`);
    // deno-lint-ignore no-explicit-any
    const lossy = byId.get("0000000000000abc") as any;
    assert.equal(lossy.packets, 99);
    assert.equal(lossy.lost, 1);
    assert.equal(lossy.loss_pct, 1);
    assert.deepEqual(run.json.totals, {
      packets: 299,
      bytes: 299 * 200,
      lost: 1,
      loss_pct: 0.333,
      duplicates: 0,
      reordered: 0,
      restarts: 1,
      foreign: 0,
      stalls: 0,
      senders_evicted: 0,
    });
  },
  { timeoutMs: 60_000 },
);

labTest(
  "1030 sender ids on one group: 1024 listed, senders_evicted 6, the totals count all 1030",
  async (lab) => {
    const ns = await lab.addNamespace("rx");
    const group = freshGroup();
    const receiver = await joinOne(ns, "lo", [group, "--json"]);
    const plan = Array.from({ length: 1030 }, (_, i) => `id=${(i + 1).toString(16)}:0`).join(";");
    await sendPlan(ns, group, ["--plan", plan, "--interval-ms", "1"]);
    await sleep(300);
    const run = await endReceive(receiver);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json.totals.packets, 1030);
    assert.equal(run.json.totals.senders_evicted, 6);
    assert.equal(run.json.senders.length, 1024);
    const listed = run.json.senders.reduce((n: number, s: { packets: number }) => n + s.packets, 0);
    assert.equal(listed + run.json.totals.senders_evicted, run.json.totals.packets);
    // The least recently active ones went: ids 1 to 6.
    const ids = new Set(run.json.senders.map((s: { sender_id: string }) => s.sender_id));
    for (let id = 1; id <= 6; id++) assert.ok(!ids.has(id.toString(16).padStart(16, "0")));
    assert.ok(ids.has("0000000000000007") && ids.has((1030).toString(16).padStart(16, "0")));
  },
  { timeoutMs: 60_000 },
);

labTest(
  "no multicast route and no --interface: exit 1 with the route to add or --interface",
  async (lab) => {
    const { h1: ns } = await linkedPair(lab, ["bare", "peer"], { multicastRoute: false });
    const run = await runReceive(ns, ["239.1.2.3", "--duration", "1", "--json"]);
    assert.equal(run.code, 1, run.stderr);
    assert.ok(
      run.stderr.includes(
        "no route for the group 239.1.2.3: add one (ip route add 224.0.0.0/4 dev IF) or use --interface",
      ),
      run.stderr,
    );
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
  },
  { timeoutMs: 60_000 },
);

labTest(
  "group advice: 224.0.0.0 refused, 224.0.0.5 and ff02::1 warned, SSM range used the wrong way warned",
  async (lab) => {
    const { h1: ns, link } = await linkedPair(lab, ["rx", "peer"]);
    const iface = link.a.name;
    const receive = (args: string[]) =>
      runReceive(ns, [...args, "-i", iface, "--duration", "0.3", "--json"]);
    const warnings = (stderr: string) =>
      stderr.split("\n").filter((l) => l.startsWith("mcast-receive: warning: "));

    const base = await receive(["224.0.0.0"]);
    assert.equal(base.code, 2, base.stderr);
    assert.equal(base.stderr.trim().split("\n").length, 1, base.stderr);
    assert.match(base.stderr, /224\.0\.0\.0.*reserved/);
    const send = await runSend(ns, ["224.0.0.0", "--interface", iface, "--count", "1"]);
    assert.equal(send.code, 2, send.stderr);

    const cases: Array<[string[], RegExp]> = [
      [["224.0.0.5"], /^mcast-receive: warning: 224\.0\.0\.5 is in 224\.0\.0\.0\/24/],
      [["ff02::1"], /^mcast-receive: warning: ff02::1 is the all-nodes group/],
      [["232.1.1.1"], /^mcast-receive: warning: 232\.1\.1\.1 is in the SSM range 232\.0\.0\.0\/8/],
      [["ff3e::8000:5"], /^mcast-receive: warning: ff3e::8000:5 is in the SSM range ff3x::\/32/],
      [
        ["239.1.1.1", link.b.ipv4!],
        /^mcast-receive: warning: 239\.1\.1\.1 is outside the SSM range 232\.0\.0\.0\/8/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const run = await receive(args);
      assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
      const lines = warnings(run.stderr);
      assert.equal(lines.length, 1, `${args.join(" ")}: ${run.stderr}`);
      assert.match(lines[0], pattern);
      assert.equal(run.json.group, args[0]);
    }
    for (const args of [["239.1.1.1"], ["232.1.1.1", link.b.ipv4!]]) {
      const run = await receive(args);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(warnings(run.stderr), [], `${args.join(" ")}: ${run.stderr}`);
    }
  },
  { timeoutMs: 90_000 },
);
