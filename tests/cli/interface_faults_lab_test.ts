// Issue 9, item 5, in lab namespaces: interfaces that fail. The receiving interface deleted while
// mcast-receive runs ends the run (exit 1, the interface named, the summary printed); mcast-send
// refuses a down egress interface, named or found by route, and during a run reports the kernel's
// drops (checked against the counter the test reads itself); mcast-receive joining on a down
// interface says so and still runs.

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
  txDropped,
  waitNoCarrier,
} from "./_receive_lab.ts";
import { ROOT, sendArgv } from "./_send_tool.ts";

labTest(
  "mcast-receive: the receiving interface deleted mid-run is exit 1 naming it, with the summary",
  async (lab) => {
    const { h1, h2, link } = await linkedPair(lab);
    const iface = link.b.name;
    const group = freshGroup();
    const receiver = await joinOne(h2, iface, [group, "--json"]);
    await sendPlan(h1, group, ["--interface", link.a.name, "--count", "5"]);
    await sleep(300);
    const deleted = Date.now();
    await h2.ip(["link", "del", iface]);
    const ended = await Promise.race([receiver.wait(), sleep(10_000).then(() => null)]);
    assert.notEqual(ended, null, "still running 10 s after the interface was deleted");
    const waitedMs = Date.now() - deleted;
    const run = await endReceive(receiver); // already ended: returns its result
    assert.equal(run.code, 1, run.stderr);
    assert.ok(run.stderr.includes(iface), run.stderr);
    assert.match(run.stderr, /gone/);
    assert.ok(run.json !== null, `the summary is printed: ${run.stdout}`);
    assert.equal(run.json.interface, iface);
    assert.equal(run.json.totals.packets, 5);
    assert.ok(waitedMs < 10_000, `ended ${waitedMs} ms after the deletion`);
  },
  { timeoutMs: 60_000 },
);

labTest(
  "mcast-send: a down egress interface is exit 1 '… is down', named or found by route for --source",
  async (lab) => {
    const { h1, h2, link } = await linkedPair(lab);
    // The peer down: the veth has no carrier; found from --source by the route.
    await h2.ip(["link", "set", link.b.name, "down"]);
    await waitNoCarrier(h1, link.a.name);
    const routed = await runSend(h1, [freshGroup(), "--source", link.a.ipv4!, "--count", "3"]);
    // Then the veth itself down, named.
    await h1.ip(["link", "set", link.a.name, "down"]);
    const named = await runSend(h1, [freshGroup(), "--interface", link.a.name, "--count", "3"]);
    const cases = [[routed, /no carrier/], [named, new RegExp(`ip link set ${link.a.name} up`)]];
    for (const [run, why] of cases as [typeof routed, RegExp][]) {
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
      assert.ok(run.stderr.includes(`${link.a.name} is down`), run.stderr);
      assert.match(run.stderr, why);
      assert.equal(run.stdout, "");
    }
  },
  { timeoutMs: 60_000 },
);

labTest(
  "mcast-send: a veth peer going down mid-run warns, and interface_tx_dropped is the kernel's delta",
  async (lab) => {
    const { h1: a, h2: b, link } = await linkedPair(lab, ["a", "b"], { ipv6: false });
    // Nothing but the sender leaves the veth meanwhile: no IPv6 (no MLD, no neighbour discovery).
    await a.sysctl(`net.ipv6.conf.${link.a.name}.disable_ipv6`, 1);
    const before = await txDropped(a, link.a.name);
    const args = [freshGroup(), "--interface", link.a.name, "--rate", "200pps", "--count", "800"];
    const sender = a.spawn(sendArgv([...args, "--json"]), { cwd: ROOT, timeoutMs: 30_000 });
    await sleep(1_500);
    await b.ip(["link", "set", link.b.name, "down"]);
    const result = await sender.wait();
    const after = await txDropped(a, link.a.name);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.packets_sent, 800);
    assert.match(result.stderr, new RegExp(`warning: ${link.a.name} went down \\(no carrier\\)`));
    assert.ok(after - before > 0, `the kernel counted no drops (${before} → ${after})`);
    assert.equal(summary.interface_tx_dropped, after - before);
  },
  { timeoutMs: 60_000 },
);

labTest(
  "mcast-send: the egress interface deleted mid-run ends the run with exit 1 naming it",
  async (lab) => {
    const { h1: a, link } = await linkedPair(lab, ["a", "b"], { ipv6: false });
    const iface = link.a.name;
    const args = [freshGroup(), "--interface", iface, "--rate", "100pps", "--count", "2000"];
    const sender = a.spawn(sendArgv([...args, "--json"]), { cwd: ROOT, timeoutMs: 40_000 });
    await sleep(1_500);
    await a.ip(["link", "del", iface]);
    const deleted = Date.now();
    const result = await sender.wait();
    const waitedMs = Date.now() - deleted;
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`The egress interface ${iface} is gone`));
    // Checked once a second: the run ends long before its 20 s.
    assert.ok(waitedMs < 10_000, `ended ${waitedMs} ms after the deletion`);
  },
  { timeoutMs: 60_000 },
);

labTest(
  "mcast-receive: joining on a down interface, or one without carrier, says so and still runs",
  async (lab) => {
    const { h1, h2, link } = await linkedPair(lab);
    const iface = link.b.name;
    await h1.ip(["link", "set", link.a.name, "down"]);
    await waitNoCarrier(h2, iface);
    const noCarrier = await runReceive(h2, [
      freshGroup(),
      "-i",
      iface,
      "--duration",
      "1",
      "--json",
    ]);
    assert.equal(noCarrier.code, 0, noCarrier.stderr);
    assert.ok(noCarrier.stderr.includes(`${iface} is up but has no carrier`), noCarrier.stderr);
    assert.equal(noCarrier.json.interface, iface);
    assert.equal(noCarrier.json.status, "WAITING");

    await h2.ip(["link", "set", iface, "down"]);
    const down = await runReceive(h2, [freshGroup(), "-i", iface, "--duration", "1", "--json"]);
    assert.equal(down.code, 0, down.stderr);
    assert.ok(down.stderr.includes(`${iface} is down`), down.stderr);
    assert.ok(down.stderr.includes(`ip link set ${iface} up`), down.stderr);
    assert.equal(down.json.interface, iface);
    assert.ok(down.json.duration_s >= 1, `ran ${down.json.duration_s} s`);
  },
  { timeoutMs: 60_000 },
);
