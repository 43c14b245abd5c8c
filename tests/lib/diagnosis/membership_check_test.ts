// Unit tests of the membership check (lib/diagnosis/membership_check.ts) against a stand-in
// procfs: nothing joined (a warning before the receiver starts, an error for a receiver that
// holds the join), joined elsewhere, and a source filter that refuses the join's source.

import assert from "node:assert/strict";
import type { NetworkInterface } from "../../../lib/interfaces.ts";
import { checkMembership } from "../../../lib/diagnosis/membership_check.ts";
import { resolveReception } from "../../../lib/diagnosis/reception.ts";

const iface = (name: string): NetworkInterface => ({ name, index: 3, flags: 0, addresses: [] });

function procfs(igmp: string, mcfilter = ""): string {
  const dir = Deno.makeTempDirSync();
  Deno.mkdirSync(`${dir}/net`);
  Deno.writeTextFileSync(
    `${dir}/net/igmp`,
    `Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n${igmp}`,
  );
  Deno.writeTextFileSync(
    `${dir}/net/mcfilter`,
    `Idx Device        MCA        SRC    INC    EXC\n${mcfilter}`,
  );
  return dir;
}

Deno.test("nothing joined: a warning for a check, an error for a receiver holding the join", async () => {
  const dir = procfs("3\teth1      :     1      V3\n\t\t\t\t010000E0     1 0:00000000\t\t0\n");
  try {
    const reception = resolveReception({ group: "239.1.1.1", port: 5000 });
    const [warning] = await checkMembership(reception, iface("eth1"), { procRoot: dir });
    assert.deepEqual(warning, {
      id: "not-joined",
      severity: "warning",
      message: "No socket on this host has joined 239.1.1.1 (yet: a receiver joins when it starts)",
      fix: "mcast-receive 239.1.1.1 --port 5000 -i eth1",
    });
    const [error] = await checkMembership(reception, iface("eth1"), {
      procRoot: dir,
      expectJoined: true,
    });
    assert.equal(error.severity, "error");
    assert.equal(error.message, "No socket on this host has joined 239.1.1.1");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("joined on another interface; joined with a filter that refuses the source", async () => {
  // 232.1.1.1 joined on eth2 (INCLUDE 10.0.0.9) and 239.1.1.1 on eth1.
  const dir = procfs(
    "3\teth1      :     2      V3\n\t\t\t\t010101EF     1 0:00000000\t\t0\n" +
      "\t\t\t\t010000E0     1 0:00000000\t\t0\n" +
      "4\teth2      :     2      V3\n\t\t\t\t010101E8     1 0:00000000\t\t0\n" +
      "\t\t\t\t010000E0     1 0:00000000\t\t0\n",
    "  4   eth2 0xe8010101 0x0a000009      1      0\n",
  );
  try {
    const ssm = resolveReception({ group: "232.1.1.1", sources: ["10.0.0.1"] });
    const [elsewhere] = await checkMembership(ssm, iface("eth1"), { procRoot: dir });
    assert.equal(
      elsewhere.message,
      "232.1.1.1 is joined on eth2, not on eth1: what arrives on eth1 is not delivered",
    );
    const [refused] = await checkMembership(ssm, iface("eth2"), { procRoot: dir });
    assert.equal(
      refused.message,
      "232.1.1.1 is joined on eth2 with the filter INCLUDE {10.0.0.9}, which does not accept " +
        "10.0.0.1: (10.0.0.1, 232.1.1.1) is not joined",
    );
    const accepted = resolveReception({ group: "232.1.1.1", sources: ["10.0.0.9"] });
    assert.deepEqual(await checkMembership(accepted, iface("eth2"), { procRoot: dir }), []);
    const asm = resolveReception({ group: "239.1.1.1" });
    assert.deepEqual(await checkMembership(asm, iface("eth1"), { procRoot: dir }), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
