// Issue 10, part 2 and 3, through the tool: mcast-receive explains a silent stream. In lab
// namespaces: a sender on another port (other-port in the JSON and one stderr line in plain
// output, naming the port), a stall with no querier heard since the join (the no-querier hint),
// a healthy stream (no diagnosis, no packet socket), and the packet socket that exists only
// while the receiver is WAITING — checked in /proc/net/packet against the receiver's own fds.

import assert from "node:assert/strict";
import { type LabProcess, labTest, type Namespace } from "../lab/mod.ts";
import {
  endReceive,
  freshGroup,
  joinOne,
  linkedPair,
  sendPlan,
  sleep,
  waitFor,
} from "./_receive_lab.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

function ids(summary: Json): string[] {
  return summary.diagnosis.map((f: Json) => f.id);
}

labTest(
  "mcast-receive WAITING for --stall-timeout: other-port names the sender's port (JSON, stderr)",
  async (lab) => {
    const { h1, h2, link } = await linkedPair(lab);
    const group = freshGroup();
    // Plain output (not --json): the finished diagnosis is one line on stderr.
    const plain = await joinOne(h2, link.b.name, [group, "--stall-timeout", "1", "--port", "5000"]);
    const json = await joinOne(h2, link.b.name, [
      group,
      "--stall-timeout",
      "1",
      "--port",
      "5000",
      "--json",
    ]);
    // 300 datagrams over 3 s to port 5001: they reach the interface, not the sockets.
    await sendPlan(h1, group, [
      "--interface",
      link.a.name,
      "--port",
      "5001",
      "--count",
      "300",
      "--interval-ms",
      "10",
    ]);
    const [p, j] = [await endReceive(plain), await endReceive(json)];
    assert.equal(j.code, 0, j.stderr);
    assert.equal(j.json.status, "WAITING");
    assert.equal(j.json.totals.packets, 0);
    const otherPort = j.json.diagnosis.filter((f: Json) => f.id === "other-port");
    assert.equal(otherPort.length, 1, JSON.stringify(j.json.diagnosis));
    assert.equal(otherPort[0].severity, "error");
    assert.match(otherPort[0].message, /\b5001\b/);
    assert.match(otherPort[0].fix, /--port 5001/);
    assert.ok(!ids(j.json).includes("other-source"), JSON.stringify(j.json.diagnosis));
    // Plain: the same finding on stderr, naming the group and the port.
    const line = p.stderr.split("\n").find((l) => l.includes("other-port"));
    assert.ok(line !== undefined, p.stderr);
    assert.ok(line.startsWith(`mcast-receive: ${group}: error other-port: `), line);
    assert.match(line, /\b5001\b/);
    // --json prints no diagnosis on stderr: it is in the summary.
    assert.ok(!j.stderr.includes("other-port"), j.stderr);
  },
  { timeoutMs: 90_000 },
);

labTest(
  "mcast-receive: a stall with no querier heard since the join gets the no-querier hint",
  async (lab) => {
    const { h1, h2, link } = await linkedPair(lab);
    const group = freshGroup();
    const receiver = await joinOne(h2, link.b.name, [group, "--stall-timeout", "1", "--json"]);
    await sendPlan(h1, group, ["--interface", link.a.name, "--count", "20", "--interval-ms", "10"]);
    // The stall begins 1 s after the last datagram; the diagnosis runs then (checks + 2 s wire).
    await sleep(4_500);
    const run = await endReceive(receiver);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json.status, "STALLED");
    assert.equal(run.json.totals.packets, 20);
    assert.equal(run.json.totals.stalls, 1);
    assert.equal(run.json.querier, null, "nobody queries on this link");
    const hint = run.json.diagnosis.find((f: Json) => f.id === "no-querier");
    assert.ok(hint !== undefined, JSON.stringify(run.json.diagnosis));
    assert.equal(hint.severity, "warning");
    assert.match(hint.message, new RegExp(`No IGMP query heard on ${link.b.name}`));
    assert.match(hint.message, /260 s/);
  },
  { timeoutMs: 60_000 },
);

labTest(
  "mcast-receive: a healthy stream has no diagnosis and no packet socket",
  async (lab) => {
    const { h1, h2, link } = await linkedPair(lab);
    const group = freshGroup();
    const receiver = await joinOne(h2, link.b.name, [group, "--stall-timeout", "2", "--json"]);
    const sending = sendPlan(h1, group, [
      "--interface",
      link.a.name,
      "--count",
      "300",
      "--interval-ms",
      "10",
    ]);
    await sleep(1_500); // RECEIVING, well before the stall timeout
    assert.deepEqual(await packetSocketsOf(h2, receiver), 0);
    await sending;
    const run = await endReceive(receiver);
    assert.equal(run.json.status, "RECEIVING");
    assert.equal(run.json.totals.packets, 300);
    assert.deepEqual(run.json.diagnosis, []);
    assert.equal(run.stderr, "");
  },
  { timeoutMs: 60_000 },
);

labTest(
  "mcast-receive opens its packet socket only while WAITING, and closes it once RECEIVING",
  async (lab) => {
    const { h1, h2, link } = await linkedPair(lab);
    const group = freshGroup();
    const receiver = await joinOne(h2, link.b.name, [group, "--stall-timeout", "1", "--json"]);
    // After the stall timeout the diagnosis watches the wire for 2 s: one packet socket.
    await waitFor(
      "the diagnosis's packet socket",
      async () => await packetSocketsOf(h2, receiver) === 1,
      receiver,
      10_000,
    );
    // The stream starts: the wire watch is cut short and its socket closed.
    const sending = sendPlan(h1, group, [
      "--interface",
      link.a.name,
      "--count",
      "300",
      "--interval-ms",
      "10",
    ]);
    await waitFor(
      "no packet socket while RECEIVING",
      async () => await packetSocketsOf(h2, receiver) === 0,
      receiver,
      5_000,
    );
    await sending;
    const run = await endReceive(receiver);
    assert.equal(run.json.status, "RECEIVING");
    assert.equal(run.json.totals.packets, 300);
    assert.deepEqual(run.json.diagnosis, [], "a group that receives again drops its findings");
  },
  { timeoutMs: 60_000 },
);

/** How many AF_PACKET sockets of the namespace (/proc/net/packet) the receiver holds. */
async function packetSocketsOf(ns: Namespace, receiver: LabProcess): Promise<number> {
  const table = (await ns.run(["cat", "/proc/net/packet"], { check: true })).stdout;
  const inodes = new Set(table.trim().split("\n").slice(1).map((l) => l.trim().split(/\s+/)[8]));
  const pid = await denoPid(receiver);
  let held = 0;
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && inodes.has(inode)) held++;
  }
  return held;
}

/** The pid of the Deno process itself (the namespace's runner may start it under `ip netns exec`). */
async function denoPid(process: LabProcess): Promise<number> {
  let pid = process.pid;
  for (let depth = 0; depth < 4; depth++) {
    const exe = Deno.readLinkSync(`/proc/${pid}/exe`);
    if (exe === Deno.execPath()) return pid;
    const children = (await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`)).trim();
    if (children === "") break;
    pid = Number(children.split(/\s+/)[0]);
  }
  throw new Error(`no deno process under pid ${process.pid}`);
}
