// lib/version_in_force.ts (issue 9, item 2): the IGMP / MLD version the kernel sends reports in,
// from conf/all, the interface's setting and the queriers heard (Linux's IGMP_V1_SEEN /
// IGMP_V2_SEEN and mld_in_v1_mode), and the refusal of a source join it cannot express.

import assert from "node:assert/strict";
import {
  sourceJoinRefusal,
  versionInForce,
  type VersionInputs,
} from "../../lib/version_in_force.ts";

const igmp = (all: number | null, iface: number | null, observed: number | null = 3) =>
  versionInForce({ protocol: "igmp", interface: "eth1", all, iface, observed });
const mld = (all: number | null, iface: number | null, observed: number | null = null) =>
  versionInForce({ protocol: "mld", interface: "eth1", all, iface, observed });

// [protocol, conf/all, the interface's value, the querier version observed] → version, reason
type Case = [["igmp" | "mld", number | null, number | null, number | null], number, string];
const CASES: Case[] = [
  // IGMP: v1 before v2 before v3, from all, the interface or a querier.
  [["igmp", 0, 0, 3], 3, "default"],
  [["igmp", null, null, null], 3, "default"],
  [["igmp", 0, 3, 3], 3, "default"],
  [["igmp", 2, 0, 3], 2, "forced-all"],
  // Forcing 3 on the interface does not undo conf/all = 2, nor an older querier.
  [["igmp", 2, 3, 2], 2, "forced-all"],
  [["igmp", 0, 2, 2], 2, "forced-interface"],
  [["igmp", 0, 3, 2], 2, "querier"],
  [["igmp", 0, 0, 1], 1, "querier"],
  [["igmp", 1, 2, 3], 1, "forced-all"],
  [["igmp", 2, 1, 3], 1, "forced-interface"],
  // v1 from a querier wins over v2 forced anywhere.
  [["igmp", 2, 0, 1], 1, "querier"],
  [["igmp", 0, 2, 1], 1, "querier"],
  // MLD: conf/all overrides the interface when not 0; 2 ignores an MLDv1 querier.
  [["mld", 0, 0, null], 2, "default"],
  [["mld", 1, 0, null], 1, "forced-all"],
  [["mld", 1, 2, null], 1, "forced-all"],
  [["mld", 2, 1, null], 2, "forced-all"],
  [["mld", 0, 1, null], 1, "forced-interface"],
  [["mld", 0, 2, 1], 2, "forced-interface"],
  [["mld", 0, 0, 1], 1, "querier"],
  [["mld", 0, 0, 2], 2, "default"],
];

Deno.test(`versionInForce: ${CASES.length} combinations of conf/all, the interface and a querier`, () => {
  for (const [[protocol, all, iface, observed], version, reason] of CASES) {
    const got = versionInForce({ protocol, interface: "eth1", all, iface, observed });
    const what = `${protocol} all=${all} iface=${iface} querier=${observed}`;
    assert.equal(got.version, version, what);
    assert.equal(got.reason, reason, what);
    assert.equal(got.all, all, what);
    assert.equal(got.iface, iface, what);
    // IGMP's querier state is always known (/proc/net/igmp); MLD's only when one was heard.
    assert.equal(got.querierKnown, protocol === "igmp" || observed !== null, what);
    if (protocol === "igmp") assert.equal(got.querier, reason === "querier" ? observed : null);
  }
});

Deno.test("a source join under IGMPv2 from conf/all is refused with the command that clears it", () => {
  const inForce = igmp(2, 0);
  const message = sourceJoinRefusal(
    { group: "232.1.1.1", sources: ["10.0.0.1"], exclude: [] },
    inForce,
  )!;
  assert.ok(message.startsWith("Cannot join (10.0.0.1, 232.1.1.1) on eth1: "), message);
  assert.ok(message.includes("net.ipv4.conf.all.force_igmp_version = 2"), message);
  assert.ok(message.endsWith("clear it with: sysctl -w net.ipv4.conf.all.force_igmp_version=0"));
  const exclude = sourceJoinRefusal(
    { group: "239.1.1.1", sources: [], exclude: ["10.0.0.2", "10.0.0.3"] },
    inForce,
  )!;
  assert.ok(exclude.startsWith("Cannot join (* except 10.0.0.2, 10.0.0.3, 239.1.1.1)"), exclude);
});

Deno.test("refusals name the interface setting, or the querier, or conf/all for MLD", () => {
  const iface = sourceJoinRefusal(
    { group: "232.1.1.1", sources: ["10.0.0.1", "10.0.0.9"], exclude: [] },
    igmp(0, 1),
  )!;
  assert.ok(iface.startsWith("Cannot join (10.0.0.1, 10.0.0.9, 232.1.1.1) on eth1"), iface);
  assert.ok(iface.includes("sysctl -w net.ipv4.conf.eth1.force_igmp_version=0"), iface);
  const querier = sourceJoinRefusal(
    { group: "232.1.1.1", sources: ["10.0.0.1"], exclude: [] },
    igmp(0, 0, 2),
  )!;
  assert.match(querier, /an IGMPv2 querier is active on eth1/);
  assert.match(querier, /mcast_igmp_version 3/);
  const v6 = sourceJoinRefusal(
    { group: "ff3e::1", sources: ["fd00::1"], exclude: [] },
    mld(1, 2),
  )!;
  assert.ok(v6.includes("net.ipv6.conf.all.force_mld_version = 1"), v6);
  assert.ok(v6.endsWith("sysctl -w net.ipv6.conf.all.force_mld_version=0"), v6);
  const v6Querier = sourceJoinRefusal(
    { group: "ff3e::1", sources: [], exclude: ["fd00::2"] },
    mld(0, 0, 1),
  )!;
  assert.match(v6Querier, /an MLDv1 querier is active on eth1.*mcast_mld_version 2/);
});

Deno.test("no refusal for an any-source join, or when IGMPv3 / MLDv2 is in force", () => {
  const asm = { group: "239.1.1.1", sources: [], exclude: [] };
  assert.equal(sourceJoinRefusal(asm, igmp(2, 0)), null);
  assert.equal(sourceJoinRefusal(asm, mld(1, 0)), null);
  const ssm = { group: "232.1.1.1", sources: ["10.0.0.1"], exclude: [] };
  assert.equal(sourceJoinRefusal(ssm, igmp(0, 3)), null);
  assert.equal(sourceJoinRefusal(ssm, igmp(null, null, null)), null);
  const inputs: VersionInputs = { protocol: "mld", interface: "eth1", all: 0, iface: 2 };
  assert.equal(
    sourceJoinRefusal(
      { group: "ff3e::1", sources: ["fd00::1"], exclude: [] },
      versionInForce(inputs),
    ),
    null,
  );
});
