// Issue 9, items 2 and 3, in lab namespaces: a host-wide forced IGMP / MLD version
// (conf/all, set only inside the test's namespace) is what mcast-receive and mcast-status report,
// an SSM join it cannot express is refused with the command that clears it, and the reports on
// the wire are the old version's; receivers forcing versions on one interface share the value
// (it stays forced while any of them runs, goes back to the original after the last one, also
// after one was SIGKILLed, whose dead record mcast-status shows and the next receiver prunes).

import assert from "node:assert/strict";
import { labTest } from "../lab/mod.ts";
import {
  endReceive,
  freshGroup,
  joinOne,
  linkedPair,
  membershipReports,
  pick,
  recordsFor,
  runReceive,
  runStatus,
  sendPlan,
  sleep,
} from "./_receive_lab.ts";

// Per family: the conf/all setting and value, a group of each kind, and what goes on the wire.
const HOST_WIDE = [
  {
    key: "net.ipv4.conf.all.force_igmp_version",
    value: 2,
    versionKey: "igmp_version",
    ssm: () => "232.1.1.1",
    asm: () => freshGroup(),
    filter: "igmp",
    old: "IGMPv2",
    newest: "IGMPv3",
  },
  {
    key: "net.ipv6.conf.all.force_mld_version",
    value: 1,
    versionKey: "mld_version",
    ssm: () => `ff3e::${pick(0x1000, 0xffff).toString(16)}`,
    asm: () => `ff3e::${pick(0x1000, 0xffff).toString(16)}:1`,
    // Not "icmp6": MLD reports carry a hop-by-hop options header first.
    filter: "ip6",
    old: "MLDv1",
    newest: "MLDv2",
  },
] as const;

for (const c of HOST_WIDE) {
  labTest(
    `${c.key}=${c.value}: SSM refused naming it, ASM runs as ${c.old} on the wire and in JSON`,
    async (lab) => {
      const { h1, h2, link } = await linkedPair(lab);
      const iface = link.b.name;
      const v6 = c.versionKey === "mld_version";
      await h2.sysctl(c.key, c.value);
      const ifaceKey = c.key.replace(".all.", `.${iface}.`);
      const ifaceBefore = await h2.readSysctl(ifaceKey);

      const source = v6 ? link.a.ipv6! : link.a.ipv4!;
      const ssm = await runReceive(h2, [c.ssm(), source, "-i", iface, "--json"]);
      assert.equal(ssm.code, 1, `SSM under ${c.key}=${c.value}: ${ssm.stderr}`);
      assert.equal(ssm.stdout, "", "no summary for a refused join");
      assert.ok(ssm.stderr.includes(c.key), ssm.stderr);
      assert.ok(ssm.stderr.includes(`sysctl -w ${c.key}=0`), ssm.stderr);
      assert.equal(await h2.readSysctl(c.key), String(c.value), "conf/all is never changed");
      assert.equal(await h2.readSysctl(ifaceKey), ifaceBefore, "the interface value is back");

      const group = c.asm();
      const capture = await h2.capture(iface, { filter: c.filter });
      const receiver = await joinOne(h2, iface, [group, "--json"]);
      const status = await runStatus(h2, ["--json", "-i", iface]);
      assert.equal(status.code, 0, status.stderr);
      assert.deepEqual(status.json.all, {
        force_igmp_version: v6 ? 0 : c.value,
        force_mld_version: v6 ? c.value : 0,
      });
      const [state] = status.json.interfaces;
      assert.equal(state.name, iface);
      assert.equal(state[`effective_${c.versionKey}`], c.value);
      assert.equal(state[c.versionKey], c.value);
      await sendPlan(h1, group, ["--interface", link.a.name, "--count", "12"]);
      await sleep(300);
      const run = await endReceive(receiver);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.json[c.versionKey], c.value);
      assert.equal(run.json.totals.packets, 12);
      const reports = membershipReports(await capture.packets());
      assert.ok(recordsFor(reports, c.old, group).length >= 1, JSON.stringify(reports));
      assert.deepEqual(recordsFor(reports, c.newest, group), [], `no ${c.newest} record`);
      assert.equal(await h2.readSysctl(c.key), String(c.value));
    },
    { requires: ["tcpdump"], timeoutMs: 90_000 },
  );
}

labTest(
  "receivers forcing one interface share it: kept while any runs, original after the last, SIGKILL pruned",
  async (lab) => {
    const { h1: rx, link } = await linkedPair(lab, ["rx", "peer"]);
    const iface = link.a.name;
    const key = `net.ipv4.conf.${iface}.force_igmp_version`;
    // An original that is neither 0 nor a value a receiver asks for: "restored" must mean it.
    await rx.sysctl(key, 3);
    const start = (version: number) => {
      return joinOne(rx, iface, [freshGroup(), "--igmp-version", String(version), "--json"]);
    };
    const holders = async () => {
      const status = await runStatus(rx, ["--json"]);
      assert.equal(status.code, 0, status.stderr);
      return status.json.force_holders;
    };

    const a = await start(2);
    assert.equal(await rx.readSysctl(key), "2");
    const b = await start(1);
    assert.equal(await rx.readSysctl(key), "2", "B keeps A's forced value");
    assert.deepEqual(
      (await holders()).map((r: { holders: { pid: number; alive: boolean }[] }) => ({
        ...r,
        holders: r.holders.map((h) => [h.pid, h.alive]),
      })),
      [{
        interface: iface,
        protocol: "igmp",
        original: 3,
        forced: 2,
        holders: [[a.pid, true], [b.pid, true]],
      }],
    );
    const first = await endReceive(a);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await rx.readSysctl(key), "2", "still forced while B runs");
    const second = await endReceive(b);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(await rx.readSysctl(key), "3", "the original after the last one");
    assert.deepEqual(await holders(), []);

    const killed = await start(2);
    assert.equal(await rx.readSysctl(key), "2");
    killed.kill("SIGKILL");
    await killed.wait();
    assert.equal(await rx.readSysctl(key), "2", "SIGKILL leaves the value");
    const [record] = await holders();
    assert.equal(record.original, 3);
    assert.equal(record.forced, 2);
    assert.deepEqual(
      record.holders.map((h: { pid: number; alive: boolean; requested: number }) => [
        h.pid,
        h.alive,
        h.requested,
      ]),
      [[killed.pid, false, 2]],
    );
    const text = await runStatus(rx, ["-i", iface]);
    assert.equal(text.code, 0, text.stderr);
    assert.ok(text.stdout.includes(`pid ${killed.pid} (dead`), text.stdout);

    const next = await start(1);
    assert.equal(await rx.readSysctl(key), "1");
    const last = await endReceive(next);
    assert.equal(last.code, 0, last.stderr);
    assert.ok(last.stderr.includes(`pruned pid ${killed.pid} `), last.stderr);
    assert.ok(last.stderr.includes(`restored ${key} to 3`), last.stderr);
    assert.equal(last.json.igmp_version, 1);
    assert.equal(await rx.readSysctl(key), "3");
    assert.deepEqual(await holders(), []);
    // Last: B held A's IGMPv2 for its whole run, and its summary must say so.
    assert.equal(second.json.igmp_version, 2, "B ran with the version in force");
  },
  { timeoutMs: 120_000 },
);
