// Issue 11 ("Done when"), source lists and EXCLUDE, on a bridged LAN that floods (snooping off,
// so every sender's datagrams reach the receiver's interface, as the capture shows): an INCLUDE
// list of 2 of 3 senders counts exactly those 2; `--exclude S2` counts only S1, and the IGMPv3 /
// MLDv2 reports on the wire carry an EXCLUDE record naming S2 (decoded from the bytes, checked
// against tshark); mcast-status shows the mode and the sources meanwhile.

import assert from "node:assert/strict";
import { type Lab, type LabInterface, labTest, type Namespace } from "../lab/mod.ts";
import {
  endReceive,
  flattenReports,
  freshGroup,
  joinOne,
  membershipReports,
  pick,
  RECORD,
  recordsFor,
  runStatus,
  sendPlan,
  sleep,
  tsharkReportLines,
} from "./_receive_lab.ts";

interface Member {
  ns: Namespace;
  iface: LabInterface;
}

/** A flooding LAN of `senders` sender namespaces and one receiver. */
async function floodedLan(lab: Lab, senders: number) {
  const hosts: Namespace[] = [];
  for (let i = 1; i <= senders; i++) hosts.push(await lab.addNamespace(`s${i}`));
  const rx = await lab.addNamespace("rx");
  const lan = await lab.addLan("lan", [...hosts, rx], { snooping: false });
  const members: Member[] = hosts.map((ns, i) => ({ ns, iface: lan.members[i] }));
  return { members, rx, iface: lan.members[senders].name };
}

/** Sends `count` datagrams of sender id `id` from a member, from its address of `family`. */
function sendFrom(member: Member, group: string, id: string, count: number, family: 4 | 6) {
  const source = family === 4 ? member.iface.ipv4! : member.iface.ipv6!;
  return sendPlan(member.ns, group, [
    "--interface",
    member.iface.name,
    "--source",
    source,
    "--plan",
    `id=${id}:0-${count - 1}`,
  ]);
}

/** The (source → packets) a receiver counted, and the sources of `group` a capture saw. */
function bySource(senders: { source: string; packets: number }[]): Record<string, number> {
  return Object.fromEntries(senders.map((s) => [s.source, s.packets]));
}

/** The group's state in `mcast-status --json -i iface`. */
async function statusOf(ns: Namespace, iface: string, group: string) {
  const status = await runStatus(ns, ["--json", "-i", iface]);
  assert.equal(status.code, 0, status.stderr);
  return status.json.interfaces[0].groups.find((g: { group: string }) => g.group === group);
}

labTest(
  "an INCLUDE list of 2 of 3 LAN senders counts exactly those 2; mcast-status shows INCLUDE and them",
  async (lab) => {
    const { members, rx, iface } = await floodedLan(lab, 3);
    const [s1, s2, s3] = members;
    const group = freshGroup(232);
    const capture = await rx.capture(iface, { filter: "udp or igmp" });
    const list = `${s1.iface.ipv4},${s3.iface.ipv4}`;
    const receiver = await joinOne(rx, iface, [group, list, "--json"]);
    assert.deepEqual(await statusOf(rx, iface, group), {
      group,
      family: "IPv4",
      users: 1,
      mode: "INCLUDE",
      sources: [s1.iface.ipv4, s3.iface.ipv4],
    });
    await sendFrom(s1, group, "51", 11, 4);
    await sendFrom(s2, group, "52", 12, 4);
    await sendFrom(s3, group, "53", 13, 4);
    await sleep(300);
    const run = await endReceive(receiver);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.json.source, [s1.iface.ipv4, s3.iface.ipv4]);
    assert.deepEqual(run.json.exclude, []);
    assert.deepEqual(bySource(run.json.senders), { [s1.iface.ipv4!]: 11, [s3.iface.ipv4!]: 13 });
    assert.equal(run.json.totals.packets, 24);

    const packets = await capture.packets();
    const wire: Record<string, number> = {};
    for (const p of packets.filter((p) => p.dst === group && p.dstPort === 19779)) {
      wire[p.src] = (wire[p.src] ?? 0) + 1;
    }
    assert.deepEqual(wire, { [s1.iface.ipv4!]: 11, [s2.iface.ipv4!]: 12, [s3.iface.ipv4!]: 13 });
    // The join on the wire: INCLUDE-mode records naming exactly S1 and S3.
    const records = recordsFor(membershipReports(packets), "IGMPv3", group);
    const included = records.filter((r) =>
      r.type === RECORD.MODE_IS_INCLUDE || r.type === RECORD.CHANGE_TO_INCLUDE ||
      r.type === RECORD.ALLOW_NEW_SOURCES
    );
    assert.ok(included.length >= 1, JSON.stringify(records));
    assert.deepEqual(
      [...new Set(included.flatMap((r) => r.sources))].sort(),
      [s1.iface.ipv4, s3.iface.ipv4].sort(),
    );
  },
  { requires: ["tcpdump"], timeoutMs: 90_000 },
);

for (const family of [4, 6] as const) {
  const protocol = family === 4 ? "IGMPv3" : "MLDv2";
  labTest(
    `--exclude S2 with two senders counts only S1; the ${protocol} report has an EXCLUDE record naming S2`,
    async (lab) => {
      const { members, rx, iface } = await floodedLan(lab, 2);
      const [s1, s2] = members;
      const address = (m: Member) => family === 4 ? m.iface.ipv4! : m.iface.ipv6!;
      const group = family === 4 ? freshGroup() : `ff15::77:${pick(1, 0xfff).toString(16)}`;
      // Not "icmp6" for IPv6: MLD reports carry a hop-by-hop options header first.
      const capture = await rx.capture(iface, { filter: family === 4 ? "igmp or udp" : "ip6" });
      const receiver = await joinOne(rx, iface, [group, "--exclude", address(s2), "--json"]);
      assert.deepEqual(await statusOf(rx, iface, group), {
        group,
        family: `IPv${family}`,
        users: 1,
        mode: "EXCLUDE",
        sources: [address(s2)],
      });
      await sendFrom(s1, group, "61", 9, family);
      await sendFrom(s2, group, "62", 14, family);
      await sleep(300);
      const run = await endReceive(receiver);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.json.source, null);
      assert.deepEqual(run.json.exclude, [address(s2)]);
      assert.deepEqual(bySource(run.json.senders), { [address(s1)]: 9 });
      assert.equal(run.json.totals.packets, 9);

      const path = await capture.stop();
      const packets = await capture.packets();
      const wire = packets.filter((p) => p.dst === group && p.dstPort === 19779);
      assert.equal(wire.filter((p) => p.src === address(s2)).length, 14, "S2's datagrams arrived");
      const reports = membershipReports(packets);
      const records = recordsFor(reports, protocol, group);
      const exclude = records.filter((r) =>
        r.type === RECORD.MODE_IS_EXCLUDE || r.type === RECORD.CHANGE_TO_EXCLUDE
      );
      assert.ok(
        exclude.some((r) => r.sources.length === 1 && r.sources[0] === address(s2)),
        `no EXCLUDE record naming ${address(s2)} in ${JSON.stringify(records)}`,
      );
      const tshark = await tsharkReportLines(path);
      if (tshark === null) console.warn("SKIP tshark cross-check: tshark is not installed");
      else assert.deepEqual(tshark, flattenReports(reports), "tshark reads the reports alike");
    },
    { requires: ["tcpdump"], timeoutMs: 90_000 },
  );
}
