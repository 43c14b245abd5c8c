// lib/proc_igmp.ts, the filter mode of a shared group (issue 9, item 4): /proc/net/mcfilter only
// counts, per source, the sockets including and excluding it. Each case below is a set of
// sockets with the kernel's resulting mode; the mode is stated only where every set of sockets
// that leaves the same lines gives the same mode and sources, else AMBIGUOUS with the counts.

import assert from "node:assert/strict";
import { parseAddress } from "../../lib/address.ts";
import { buildMulticastState, type GroupState } from "../../lib/multicast_state.ts";

/** A socket: INCLUDE of these sources, EXCLUDE of these (ASM is EXCLUDE of none). */
type Socket = { include: string[] } | { exclude: string[] };

const GROUP = "239.4.5.6";
const GROUP6 = "ff3e::4:5";

/** The hex digits of an address's bytes, as mcfilter and igmp6 print them. */
function hex(address: string): string {
  return [...parseAddress(address).bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The four /proc texts the kernel writes for `sockets` joined to one group on eth1 (index 2). */
function procTexts(group: string, sockets: Socket[]) {
  const counts = new Map<string, [number, number]>();
  for (const socket of sockets) {
    const [list, at] = "include" in socket ? [socket.include, 0] : [socket.exclude, 1];
    for (const source of list) {
      const c = counts.get(source) ?? [0, 0];
      c[at]++;
      counts.set(source, c);
    }
  }
  const v6 = group.includes(":");
  // /proc/net/igmp prints the group as the host-order word: the bytes reversed on x86.
  const hostHex = hex(group).match(/../g)!.reverse().join("").toUpperCase();
  const lines = [...counts].map(([source, [inc, exc]]) =>
    v6
      ? `  2   eth1 ${hex(group)} ${hex(source)}      ${inc}      ${exc}\n`
      : `  2   eth1 0x${hex(group)} 0x${hex(source)}      ${inc}      ${exc}\n`
  );
  return {
    igmp: v6 ? "" : "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n" +
      `2\teth1      :     1      V3\n\t\t\t\t${hostHex}     ${sockets.length} 0:00000000\t\t0\n`,
    igmp6: v6 ? `2    eth1            ${hex(group)}     ${sockets.length} 00000004 0\n` : "",
    mcfilter: v6 ? "" : `Idx Device        MCA        SRC    INC    EXC\n${lines.join("")}`,
    mcfilter6: v6 ? lines.join("") : "",
  };
}

function stateOf(group: string, sockets: Socket[]): GroupState {
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  assert.ok(little, "these texts are written as a little-endian kernel writes them");
  const state = buildMulticastState(procTexts(group, sockets), () => ({ igmp: 0, mld: 0 }));
  const [iface] = state.interfaces;
  assert.equal(iface.name, "eth1");
  assert.equal(iface.groups.length, 1);
  return iface.groups[0];
}

const S1 = "10.0.0.1";
const S2 = "10.0.0.2";
const S3 = "10.0.0.3";
const ASM: Socket = { exclude: [] };

Deno.test("INCLUDE {S1,S2} + ASM, and INCLUDE {S1} + INCLUDE {S2}, leave the same lines: AMBIGUOUS", () => {
  const want = {
    group: GROUP,
    family: "IPv4",
    users: 2,
    mode: "AMBIGUOUS",
    sources: [S1, S2],
    source_filters: [
      { source: S1, include: 1, exclude: 0 },
      { source: S2, include: 1, exclude: 0 },
    ],
  };
  assert.deepEqual(stateOf(GROUP, [{ include: [S1, S2] }, ASM]), want);
  assert.deepEqual(stateOf(GROUP, [{ include: [S1] }, { include: [S2] }]), want);
});

Deno.test("three sockets that could hold EXCLUDE {} or EXCLUDE {S3}: AMBIGUOUS with EXC counts", () => {
  // INCLUDE {S1,S2} + ASM + EXCLUDE {S3} (kernel: EXCLUDE {}) and INCLUDE {S1} + INCLUDE {S2} +
  // EXCLUDE {S3} (kernel: EXCLUDE {S3}) leave the same lines.
  const sockets = [{ include: [S1, S2] }, ASM, { exclude: [S3] }];
  const state = stateOf(GROUP, sockets);
  assert.equal(state.mode, "AMBIGUOUS");
  assert.deepEqual(state.source_filters, [
    { source: S1, include: 1, exclude: 0 },
    { source: S2, include: 1, exclude: 0 },
    { source: S3, include: 0, exclude: 1 },
  ]);
  assert.deepEqual(
    stateOf(GROUP, [{ include: [S1] }, { include: [S2] }, { exclude: [S3] }]),
    state,
  );
});

Deno.test("the cases /proc does tell: the kernel's mode and sources, no source_filters", () => {
  const cases: Array<[Socket[], string, string[]]> = [
    [[{ include: [S1] }, ASM], "EXCLUDE", []],
    [[{ exclude: [S2] }], "EXCLUDE", [S2]],
    [[{ exclude: [S2] }, { exclude: [S2] }], "EXCLUDE", [S2]],
    // The kernel excludes the intersection of the EXCLUDE lists, minus what any INCLUDE lists.
    [[{ exclude: [S2] }, ASM], "EXCLUDE", []],
    [[{ exclude: [S1, S2] }, { exclude: [S2] }], "EXCLUDE", [S2]],
    [[{ exclude: [S2] }, { include: [S1] }], "EXCLUDE", [S2]],
    [[{ exclude: [S1] }, { include: [S1] }], "EXCLUDE", []],
    [[{ include: [S1, S2] }], "INCLUDE", [S1, S2]],
    [[{ include: [S1] }, { include: [S1] }], "INCLUDE", [S1]],
    [[{ include: [S1, S2] }, { include: [S1, S2] }], "INCLUDE", [S1, S2]],
    [[ASM, ASM], "EXCLUDE", []],
  ];
  for (const [sockets, mode, sources] of cases) {
    const what = JSON.stringify(sockets);
    const state = stateOf(GROUP, sockets);
    assert.equal(state.mode, mode, what);
    assert.deepEqual(state.sources, sources, what);
    assert.equal(state.users, sockets.length, what);
    assert.equal("source_filters" in state, false, what);
  }
});

Deno.test("IPv6 (mcfilter6) follows the same rules", () => {
  const s1 = "fd00::1";
  const s2 = "fd00::2";
  const ambiguous = stateOf(GROUP6, [{ include: [s1, s2] }, ASM]);
  assert.equal(ambiguous.family, "IPv6");
  assert.equal(ambiguous.mode, "AMBIGUOUS");
  assert.deepEqual(ambiguous.source_filters, [
    { source: s1, include: 1, exclude: 0 },
    { source: s2, include: 1, exclude: 0 },
  ]);
  assert.deepEqual(stateOf(GROUP6, [{ include: [s1] }, ASM]).mode, "EXCLUDE");
  const excluded = stateOf(GROUP6, [{ exclude: [s2] }]);
  assert.deepEqual([excluded.mode, excluded.sources], ["EXCLUDE", [s2]]);
});
