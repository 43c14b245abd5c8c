// cli/_receive_summary.ts, the many-group `mcast-receive --json` (issue 11, CONTRACT
// "mcast-receive"): with several groups, `groups` holds each group's own figures and the
// top-level totals, senders and gaps are their sums; with one group the object is as before.
// Built from real ReceiverStats fed with known packets.

import assert from "node:assert/strict";
import {
  overallStatus,
  receiveSummary,
  type RunFacts,
  sumTotals,
} from "../../cli/_receive_summary.ts";
import { type McasFields, ReceiverStats } from "../../lib/receiver_stats.ts";
import { summarizeReceiver, type TotalsJson } from "../../lib/receiver_summary.ts";

const MS = 1_000_000n;

/** A group's statistics after `sequences` from sender `id` and `foreign` foreign datagrams. */
function groupStats(id: bigint, sequences: bigint[], foreign = 0): ReceiverStats {
  const stats = new ReceiverStats({ stallTimeoutS: 1 });
  for (const [i, sequence] of sequences.entries()) {
    const fields: McasFields = { senderId: id, sequence, timestampNs: 0n, ttl: 64, dscp: 46 };
    stats.record(fields, {
      source: "192.0.2.7",
      receivedTtl: 63,
      receivedDscp: 46,
      arrivalNs: BigInt(i) * 10n * MS,
      bytes: 200,
    });
  }
  for (let i = 0; i < foreign; i++) stats.recordForeign(40);
  return stats;
}

const FACTS: RunFacts = {
  version: "9.9.9",
  sources: [],
  exclude: [],
  port: 19779,
  interface: "eth1",
  protocol: "igmp",
  membershipVersion: 3,
  elapsedS: 12.34567,
  querier: null,
  diagnosis: [],
  expectations: null,
};

const GROUPS = () => [
  { group: "239.1.1.1", summary: summarizeReceiver(groupStats(1n, [0n, 1n, 2n, 3n, 4n])) },
  { group: "239.1.1.2", summary: summarizeReceiver(groupStats(2n, [0n, 1n, 3n, 3n], 1)) },
  { group: "239.1.1.3", summary: summarizeReceiver(groupStats(3n, [], 2)) },
];

Deno.test("several groups: `groups` per group, the top-level totals their sums", () => {
  const groups = GROUPS();
  const json = receiveSummary(FACTS, groups);
  const keys = "tool version group source exclude port interface igmp_version duration_s status " +
    "totals senders gaps groups querier diagnosis";
  assert.deepEqual(Object.keys(json), keys.split(" "));

  assert.equal(json.tool, "mcast-receive");
  assert.equal(json.group, "239.1.1.1");
  assert.equal(json.duration_s, 12.346);
  assert.equal(json.igmp_version, 3);
  assert.deepEqual(json.groups!.map((g) => g.group), ["239.1.1.1", "239.1.1.2", "239.1.1.3"]);
  for (const [i, entry] of json.groups!.entries()) {
    assert.deepEqual(Object.keys(entry), [
      "group",
      "source",
      "status",
      "totals",
      "senders",
      "gaps",
    ]);
    assert.equal(entry.source, null);
    assert.deepEqual(entry.totals, groups[i].summary.totals);
    assert.deepEqual(entry.senders, groups[i].summary.senders);
  }
  assert.deepEqual(json.groups!.map((g) => [g.totals.packets, g.totals.lost, g.totals.foreign]), [
    [5, 0, 0],
    [4, 1, 1],
    [0, 0, 2],
  ]);
  assert.deepEqual(json.totals, {
    packets: 9,
    bytes: 9 * 200,
    lost: 1,
    // lost / (lost + unique) over all groups: 1 / (1 + 8).
    loss_pct: 11.111,
    duplicates: 1,
    reordered: 0,
    restarts: 0,
    foreign: 3,
    stalls: 0,
    senders_evicted: 0,
  });
  assert.deepEqual(json.senders.map((s) => s.sender_id), [
    "0000000000000001",
    "0000000000000002",
  ]);
  assert.equal(json.status, "WAITING", "a group still WAITING");
  // Every numeric total is the sum of the groups' (loss_pct aside).
  for (const key of Object.keys(json.totals) as (keyof TotalsJson)[]) {
    if (key === "loss_pct") continue;
    const sum = json.groups!.reduce((n, g) => n + g.totals[key], 0);
    assert.equal(json.totals[key], sum, key);
  }
});

Deno.test("one group: no `groups`, its own figures at the top; sources as null, text or list", () => {
  const [first] = GROUPS();
  const one = receiveSummary(FACTS, [first]);
  assert.equal("groups" in one, false);
  assert.deepEqual(one.totals, first.summary.totals);
  assert.equal(one.status, first.summary.status);
  assert.equal(one.source, null);
  const ssm = receiveSummary({ ...FACTS, sources: ["10.0.0.1"] }, [first]);
  assert.equal(ssm.source, "10.0.0.1");
  const list = receiveSummary({ ...FACTS, sources: ["10.0.0.1", "10.0.0.2"] }, GROUPS());
  assert.deepEqual(list.source, ["10.0.0.1", "10.0.0.2"]);
  assert.deepEqual(list.groups!.map((g) => g.source), Array(3).fill(["10.0.0.1", "10.0.0.2"]));
  const excluded = receiveSummary({ ...FACTS, exclude: ["10.0.0.9"] }, [first]);
  assert.deepEqual(excluded.exclude, ["10.0.0.9"]);
  const v6 = receiveSummary({ ...FACTS, protocol: "mld", membershipVersion: 2 }, [first]);
  assert.equal(v6.mld_version, 2);
  assert.equal("igmp_version" in v6, false);
  const graded = receiveSummary(
    { ...FACTS, expectations: [{ name: "min-packets", ok: true, detail: "5 ≥ 1" }] },
    [first],
  );
  assert.deepEqual(graded.expectations, [{ name: "min-packets", ok: true, detail: "5 ≥ 1" }]);
  assert.equal("expectations" in one, false);
});

Deno.test("sumTotals: zero for nothing, loss percent over the unique datagrams of all groups", () => {
  const zero = sumTotals([]);
  assert.deepEqual(Object.values(zero), Array(10).fill(0));
  const t = (packets: number, lost: number, duplicates: number): TotalsJson => ({
    packets,
    bytes: packets * 100,
    lost,
    loss_pct: 0,
    duplicates,
    reordered: 0,
    restarts: 0,
    foreign: 0,
    stalls: 0,
    senders_evicted: 1,
  });
  const sum = sumTotals([t(2, 1, 0), t(3, 0, 1)]);
  assert.equal(sum.packets, 5);
  assert.equal(sum.senders_evicted, 2);
  assert.equal(sum.loss_pct, 20); // 1 / (1 + 4 unique)
});

Deno.test("overallStatus: STALLED before WAITING before RECEIVING", () => {
  assert.equal(overallStatus(["RECEIVING", "STALLED", "WAITING"]), "STALLED");
  assert.equal(overallStatus(["RECEIVING", "WAITING"]), "WAITING");
  assert.equal(overallStatus(["RECEIVING", "RECEIVING"]), "RECEIVING");
});
