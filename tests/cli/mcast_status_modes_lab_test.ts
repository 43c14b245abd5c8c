// Issue 9, item 4: mcast-status states a filter mode only where /proc/net/mcfilter can tell it.
// Sockets of an independent python3 joiner share groups in a fresh namespace; the ambiguous
// combinations are reported as AMBIGUOUS with the per-source counts, the others with the mode the
// kernel holds and the right sources.

import assert from "node:assert/strict";
import { labTest } from "../lab/mod.ts";
import { linkedPair, runStatus, spawnJoiner } from "./_receive_lab.ts";

const S1 = "10.9.0.1";
const S2 = "10.9.0.2";
const S1_6 = "fd00:9::1";
const S2_6 = "fd00:9::2";

labTest(
  "mcast-status: AMBIGUOUS where /proc cannot tell the mode, EXCLUDE and INCLUDE where it can",
  async (lab) => {
    const { h1: host, link } = await linkedPair(lab, ["host", "peer"]);
    const iface = link.a.name;
    const joiner = await spawnJoiner(host, iface, [
      // INCLUDE {S1, S2} + ASM: the kernel is in EXCLUDE {}, but the lines equal those of
      // INCLUDE {S1} + INCLUDE {S2}: ambiguous.
      `239.77.0.1/include/${S1},${S2}`,
      "239.77.0.1/asm",
      `239.77.0.2/include/${S1}`,
      `239.77.0.2/include/${S2}`,
      // INCLUDE {S1} + ASM: EXCLUDE {} for sure (users 2, one include line).
      `239.77.0.3/include/${S1}`,
      "239.77.0.3/asm",
      // One EXCLUDE {S2} socket.
      `239.77.0.4/exclude/${S2}`,
      // One INCLUDE {S1, S2} socket.
      `239.77.0.5/include/${S1},${S2}`,
      // The same for IPv6.
      `ff3e::77:1/include/${S1_6},${S2_6}`,
      "ff3e::77:1/asm",
      `ff3e::77:4/exclude/${S2_6}`,
    ]);
    const status = await runStatus(host, ["--json", "-i", iface]);
    assert.equal(status.code, 0, status.stderr);
    const groups = new Map(
      status.json.interfaces[0].groups.map((g: { group: string }) => [g.group, g]),
    );
    // [group, users, mode, sources, per-source (include, exclude) counts for AMBIGUOUS]
    type Row = [string, number, string, string[], [string, number, number][]?];
    const rows: Row[] = [
      ["239.77.0.1", 2, "AMBIGUOUS", [S1, S2], [[S1, 1, 0], [S2, 1, 0]]],
      ["239.77.0.2", 2, "AMBIGUOUS", [S1, S2], [[S1, 1, 0], [S2, 1, 0]]],
      ["239.77.0.3", 2, "EXCLUDE", []],
      ["239.77.0.4", 1, "EXCLUDE", [S2]],
      ["239.77.0.5", 1, "INCLUDE", [S1, S2]],
      ["ff3e::77:1", 2, "AMBIGUOUS", [S1_6, S2_6], [[S1_6, 1, 0], [S2_6, 1, 0]]],
      ["ff3e::77:4", 1, "EXCLUDE", [S2_6]],
    ];
    for (const [group, users, mode, sources, counts] of rows) {
      assert.deepEqual(groups.get(group), {
        group,
        family: group.includes(":") ? "IPv6" : "IPv4",
        users,
        mode,
        sources,
        ...(counts === undefined ? {} : {
          source_filters: counts.map(([source, include, exclude]) => ({
            source,
            include,
            exclude,
          })),
        }),
      });
    }
    assert.equal(groups.size, rows.length, JSON.stringify([...groups.keys()]));

    // The table says the same, and never guesses INCLUDE for the shared groups.
    const table = await runStatus(host, ["-i", iface]);
    assert.equal(table.code, 0, table.stderr);
    const row = (group: string) => table.stdout.split("\n").find((l) => l.includes(` ${group} `));
    assert.match(row("239.77.0.1") ?? "", /AMBIGUOUS/);
    assert.ok(
      row("239.77.0.1")!.includes(`${S1} (incl 1, excl 0), ${S2} (incl 1, excl 0)`),
      table.stdout,
    );
    assert.match(row("239.77.0.3") ?? "", /EXCLUDE.*any source/);
    assert.match(row("239.77.0.4") ?? "", new RegExp(`EXCLUDE.*all except ${S2}`));
    assert.match(row("239.77.0.5") ?? "", new RegExp(`INCLUDE.*${S1}, ${S2}`));
    await joiner.stop(500);
  },
  { requires: ["python3"], timeoutMs: 60_000 },
);
