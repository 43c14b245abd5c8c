// Issue 11 ("Done when"), many groups, in lab namespaces: one mcast-send spreading 640 datagrams
// over 64 groups gives one mcast-receive 64 groups × 10, nothing lost and nothing counted for
// another group (a second receiver on 8 of them sees only its 8); one receiver counts 2048 groups,
// raising its own open-file limit; and the group forms that are wrong exit 2 naming the part.

import assert from "node:assert/strict";
import { labTest } from "../lab/mod.ts";
import { parseGroupList } from "../../lib/group_list.ts";
import { ROOT } from "./_send_tool.ts";
import {
  endReceive,
  joinedOn,
  linkedPair,
  receiveArgv,
  runReceive,
  runSend,
  sleep,
  startReceive,
  waitFor,
} from "./_receive_lab.ts";

interface GroupEntry {
  group: string;
  source: unknown;
  status: string;
  totals: Record<string, number>;
  senders: { sender_id: string; packets: number; lost: number; first_seq: number }[];
  gaps: unknown[];
}

/** The `groups` of a summary by group, checked to hold each group once. */
function byGroup(groups: GroupEntry[]): Map<string, GroupEntry> {
  const map = new Map(groups.map((g) => [g.group, g]));
  assert.equal(map.size, groups.length, "a group listed twice");
  return map;
}

labTest(
  "64 groups (G+63) × 10 from one mcast-send: each counted exactly, a second receiver sees only its 8",
  async (lab) => {
    const { h1, h2, link } = await linkedPair(lab);
    const iface = link.b.name;
    const all = parseGroupList("239.64.1.1+63").groups;
    assert.equal(all.length, 64);
    const eight = [3, 10, 17, 24, 31, 40, 52, 63].map((i) => all[i]);
    const wide = await startReceive(h2, ["239.64.1.1+63", "-i", iface, "--json"], {
      iface,
      groups: all,
    });
    const narrow = await startReceive(h2, [eight.join(","), "-i", iface, "--json"], {
      iface,
      groups: eight,
    });
    const send = await runSend(h1, [
      "239.64.1.1+63",
      "--rate",
      "640pps",
      "--count",
      "640",
      "--interface",
      link.a.name,
      "--json",
    ]);
    assert.equal(send.code, 0, send.stderr);
    assert.equal(send.json.packets_sent, 640);
    assert.deepEqual(send.json.groups, all);
    await sleep(500);
    const [w, n] = [await endReceive(wide), await endReceive(narrow)];
    assert.equal(w.code, 0, w.stderr);
    assert.equal(n.code, 0, n.stderr);

    const wideGroups = byGroup(w.json.groups);
    assert.deepEqual([...wideGroups.keys()], all);
    for (const group of all) {
      const entry = wideGroups.get(group)!;
      assert.equal(entry.totals.packets, 10, `${group}: ${JSON.stringify(entry.totals)}`);
      assert.equal(entry.totals.duplicates, 0, group);
      assert.deepEqual(entry.senders.map((s) => [s.sender_id, s.packets]), [[
        send.json.sender_id,
        10,
      ]]);
    }
    assert.equal(w.json.totals.packets, 640);
    const narrowGroups = byGroup(n.json.groups);
    assert.deepEqual([...narrowGroups.keys()], eight);
    for (const group of eight) assert.equal(narrowGroups.get(group)!.totals.packets, 10, group);
    assert.equal(n.json.totals.packets, 80, "only its 8 groups' datagrams");
    // Nothing lost: each group's stream is whole.
    const lossy = all.filter((g) => wideGroups.get(g)!.totals.lost !== 0);
    assert.deepEqual(
      lossy.map((g) => `${g}: lost ${wideGroups.get(g)!.totals.lost}`).slice(0, 3),
      [],
      `${lossy.length} of 64 groups report losses`,
    );
    assert.equal(w.json.totals.lost, 0);
    assert.equal(w.json.totals.loss_pct, 0);
    assert.equal(n.json.totals.lost, 0);
  },
  { timeoutMs: 90_000 },
);

labTest(
  "2048 groups (G+2047) in one receiver started with a soft ulimit -n of 1024: every group counted",
  async (lab) => {
    const { h1, h2, link } = await linkedPair(lab);
    const iface = link.b.name;
    const groups = parseGroupList("239.100.0.0+2047").groups;
    assert.equal(groups.length, 2048);
    // A soft limit below what 2048 sockets need (the hard one stays): the receiver raises it.
    const script = `ulimit -S -n 1024 && exec "$@"`;
    const control = await h2.run(["sh", "-c", script, "sh", "cat", "/proc/self/limits"]);
    assert.match(control.stdout, /Max open files\s+1024\s/, "the shell sets the soft limit");
    const receiver = h2.spawn(
      ["sh", "-c", script, "sh", ...receiveArgv(["239.100.0.0+2047", "-i", iface, "--json"])],
      // Its JSON (a few MiB for 2048 groups) must not be cut to the default 1 MiB kept.
      { cwd: ROOT, timeoutMs: 120_000, maxOutputChars: 1 << 26 },
    );
    await waitFor(
      "2048 groups joined",
      async () => {
        const joined = await joinedOn(h2, iface);
        return groups.every((g) => (joined.get(g) ?? 0) > 0);
      },
      receiver,
      60_000,
    );
    const limits = await h2.run(["cat", `/proc/${receiver.pid}/limits`], { check: true });
    const soft = Number(/Max open files\s+(\d+)/.exec(limits.stdout)?.[1]);
    assert.ok(soft >= 2048, `the receiver's soft limit is ${soft}`);
    const send = await runSend(h1, [
      "239.100.0.0+2047",
      "--rate",
      "2000pps",
      "--count",
      String(2048 * 3),
      "--interface",
      link.a.name,
      "--json",
    ], 60_000);
    assert.equal(send.code, 0, send.stderr);
    assert.equal(send.json.packets_sent, 2048 * 3);
    await sleep(1_000);
    const run = await endReceive(receiver);
    assert.equal(run.code, 0, run.stderr);
    const entries = byGroup(run.json.groups);
    assert.deepEqual([...entries.keys()], groups);
    const wrong = groups.filter((g) => entries.get(g)!.totals.packets !== 3);
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} groups without exactly 3 packets`);
    assert.equal(run.json.totals.packets, 2048 * 3);
  },
  { timeoutMs: 180_000 },
);

labTest("bad group forms exit 2 naming the part that is wrong", async (lab) => {
  const ns = await lab.addNamespace("rx");
  const cases: Array<[string, string]> = [
    ["239.1.1.1+x", "+x"],
    ["239.255.255.255+1", "239.255.255.255+1"],
    // The last group of scope e (ff3e:ffff:…:ffff), then ff3f:: of scope f.
    ["ff3e:ffff:ffff:ffff:ffff:ffff:ffff:ffff+1", "ff3e:ffff:ffff:ffff:ffff:ffff:ffff:ffff+1"],
    ["ff3e::1+x", "+x"],
    ["239.1.1.1,ff3e::1", "ff3e::1"],
    ["239.1.1.1,239.1.1.2,239.1.1.1", "239.1.1.1 is given twice"],
    ["239.1.1.1,10.0.0.1", "10.0.0.1"],
    ["239.1.1.1,,239.1.1.2", "empty part"],
  ];
  for (const [form, part] of cases) {
    for (const tool of ["receive", "send"] as const) {
      const args = [form, "--interface", "lo", ...(tool === "send" ? ["--count", "1"] : [])];
      const run = tool === "send"
        ? await runSend(ns, args)
        : await runReceive(ns, [...args, "--duration", "0.2"]);
      const what = `mcast-${tool} ${form}`;
      assert.equal(run.code, 2, `${what}: ${run.stderr}`);
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `${what}: ${run.stderr}`);
      assert.ok(lines[0].startsWith(`mcast-${tool}: `), lines[0]);
      assert.ok(lines[0].includes(part), `${what}: ${JSON.stringify(part)} not in ${lines[0]}`);
      assert.equal(run.stdout, "", what);
    }
  }
}, { timeoutMs: 90_000 });
