// Unit tests of the request checks and the small pure parts of the diagnosis: the request
// (lib/diagnosis/reception.ts), findings (finding.ts), the SSM range (ssm_check.ts), and the
// findings made from what a wire watch saw (wire_tap.ts `wireFindings`, on IPv6 so that no
// reverse-path filter of this host is consulted).

import assert from "node:assert/strict";
import { InvalidValueError } from "../../../lib/errors.ts";
import { receptionReady, topFinding, uniqueFindings } from "../../../lib/diagnosis/finding.ts";
import {
  describeJoin,
  receiveCommand,
  resolveReception,
} from "../../../lib/diagnosis/reception.ts";
import { checkSsmRange, ssmCounterpart } from "../../../lib/diagnosis/ssm_check.ts";
import { wireFindings } from "../../../lib/diagnosis/wire_tap.ts";

Deno.test("resolveReception checks group, sources, port and interface before anything is read", () => {
  const r = resolveReception({ group: "FF3E::0:1", sources: ["fd00::1", "FD00::1"], port: 5000 });
  assert.deepEqual([r.group, r.family, r.sources, r.port, r.interface], [
    "ff3e::1",
    "IPv6",
    ["fd00::1"],
    5000,
    null,
  ]);
  for (
    const bad of [
      { group: "10.0.0.1" },
      { group: "239.1.1.1", port: 0 },
      { group: "239.1.1.1", port: 70000 },
      { group: "239.1.1.1", sources: ["fd00::1"] },
      { group: "239.1.1.1", sources: ["10.0.0.1"], exclude: ["10.0.0.2"] },
      { group: "239.1.1.1", interface: "no-such-if0" },
      { group: "not an address" },
    ]
  ) {
    assert.throws(() => resolveReception(bad), InvalidValueError, JSON.stringify(bad));
  }
  assert.equal(resolveReception({ group: "239.1.1.1", interface: "lo" }).interface?.name, "lo");
});

Deno.test("describeJoin and receiveCommand", () => {
  const base = { group: "239.1.1.1", sources: [], exclude: [], port: 19779 };
  assert.equal(describeJoin(base), "239.1.1.1");
  assert.equal(describeJoin({ ...base, exclude: ["10.0.0.9"] }), "(* except 10.0.0.9, 239.1.1.1)");
  assert.equal(receiveCommand(base, null), "mcast-receive 239.1.1.1");
  assert.equal(
    receiveCommand({ ...base, sources: ["10.0.0.1", "10.0.0.2"], port: 5000 }, "eth1"),
    "mcast-receive 239.1.1.1 10.0.0.1,10.0.0.2 --port 5000 -i eth1",
  );
  assert.equal(
    receiveCommand({ ...base, exclude: ["10.0.0.9"] }, null),
    "mcast-receive 239.1.1.1 --exclude 10.0.0.9",
  );
});

Deno.test("receptionReady, topFinding, uniqueFindings", () => {
  const warning = { id: "no-querier", severity: "warning", message: "w", fix: "f" } as const;
  const error = { id: "firewall", severity: "error", message: "e", fix: "f" } as const;
  assert.equal(receptionReady([]), true);
  assert.equal(receptionReady([warning]), true);
  assert.equal(receptionReady([warning, error]), false);
  assert.equal(topFinding([warning, error]), error);
  assert.equal(topFinding([warning]), warning);
  assert.equal(topFinding([]), null);
  assert.deepEqual(uniqueFindings([warning, { ...warning }, error]), [warning, error]);
});

Deno.test("checkSsmRange: any-source or EXCLUDE inside the range, source joins outside", () => {
  assert.deepEqual(checkSsmRange(resolveReception({ group: "232.1.1.1" })).map((f) => f.fix), [
    "mcast-receive 232.1.1.1 SOURCE",
  ]);
  assert.match(
    checkSsmRange(resolveReception({ group: "232.1.1.1", exclude: ["10.0.0.9"] }))[0].message,
    /an EXCLUDE-mode join inside the SSM range 232\.0\.0\.0\/8/,
  );
  const outside = checkSsmRange(resolveReception({ group: "239.1.2.3", sources: ["10.0.0.1"] }));
  assert.equal(outside[0].fix, "mcast-receive 232.1.2.3 10.0.0.1");
  assert.deepEqual(checkSsmRange(resolveReception({ group: "ff3e::1", sources: ["fd00::1"] })), []);
  assert.deepEqual(checkSsmRange(resolveReception({ group: "239.1.1.1" })), []);
  assert.equal(
    ssmCounterpart(Uint8Array.from([0xff, 0x1e, ...new Array(13).fill(0), 7])),
    "ff3e::7",
  );
});

Deno.test("wireFindings: another port, another source, none on the wanted port or source", async () => {
  const iface = { name: "veth0", index: 2, flags: 0, addresses: [] };
  // What the tap saw, as "source port count" words, judged for the join.
  const judge = (join: Parameters<typeof resolveReception>[0], ...seen: string[]) => {
    const senders = seen.map((s) => s.split(" ")).map(([source, port, datagrams]) => ({
      source,
      port: Number(port),
      datagrams: Number(datagrams),
    }));
    const datagrams = senders.reduce((n, s) => n + s.datagrams, 0);
    return wireFindings(resolveReception(join), iface, {
      interface: "veth0",
      durationS: 2,
      datagrams,
      senders,
      reversePathDrops: null,
    });
  };
  const asm = { group: "ff3e::1" };
  assert.deepEqual(await judge(asm, "fd00::1 5001 40"), [{
    id: "other-port",
    severity: "error",
    message: "40 datagrams for ff3e::1 reached veth0 in 2 s: 40 for port 5001 (from fd00::1), " +
      "none for port 19779",
    fix: "mcast-receive ff3e::1 --port 5001 -i veth0",
  }]);
  const both = await judge(asm, "fd00::1 19779 10", "fd00::1 5001 5");
  assert.deepEqual(both.map((f) => `${f.severity} ${f.id}`), ["warning other-port"]);

  const ssm = { group: "ff3e::1", sources: ["fd00::1"] };
  assert.deepEqual(await judge(ssm, "fd00::9 19779 7"), [{
    id: "other-source",
    severity: "error",
    message: "7 datagrams for ff3e::1 reached veth0 in 2 s: 7 on port 19779 from fd00::9, which " +
      "the join does not accept (it takes only fd00::1)",
    fix: "mcast-receive ff3e::1 fd00::1,fd00::9 -i veth0",
  }]);
  const [blocked] = await judge({ group: "ff3e::1", exclude: ["fd00::9"] }, "fd00::9 19779 3");
  assert.equal(blocked.fix, "mcast-receive ff3e::1 -i veth0");
  assert.deepEqual(await judge(ssm, "fd00::1 19779 9"), []);
});
