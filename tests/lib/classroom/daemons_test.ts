// The texts the classroom lab hands to other programs: smcroute's configuration, the nft policy,
// the tool wrappers, and the status JSON shape.
import assert from "node:assert/strict";
import { nftPolicyScript } from "../../../lib/classroom/nft_policy.ts";
import { smcrouteConfig, smcrouteFiles } from "../../../lib/classroom/smcroute.ts";
import { wrapperScript } from "../../../lib/classroom/tool_wrappers.ts";
import { statusJson } from "../../../lib/classroom/status.ts";
import { classroomOptions } from "../../../lib/classroom/options.ts";
import { planLab } from "../../../lib/classroom/topology.ts";
import type { LabRecord } from "../../../lib/classroom/record.ts";

Deno.test("smcroute: every interface forwards both families to every other one", () => {
  const lines = smcrouteConfig(["eth0", "eth1", "eth2"]).trim().split("\n").slice(1);
  assert.deepEqual(lines, [
    "phyint eth0 enable",
    "phyint eth1 enable",
    "phyint eth2 enable",
    "mroute from eth0 group 224.0.0.0/4 to eth1 eth2",
    "mroute from eth1 group 224.0.0.0/4 to eth0 eth2",
    "mroute from eth2 group 224.0.0.0/4 to eth0 eth1",
    "mroute from eth0 group ff00::/8 to eth1 eth2",
    "mroute from eth1 group ff00::/8 to eth0 eth2",
    "mroute from eth2 group ff00::/8 to eth0 eth1",
  ]);
  assert.deepEqual(smcrouteFiles("/d", "rt1"), {
    config: "/d/smcroute-rt1.conf",
    socket: "/d/smcroute-rt1.sock",
    pidFile: "/d/smcroute-rt1.pid",
  });
});

Deno.test("nft policy: drop before remark, UDP multicast only, both families", () => {
  const script = nftPolicyScript({ host: "rt1", family: "inet", remark: 10, dropPercent: 12.5 });
  assert.equal(
    script,
    [
      "table inet mcast_lab {",
      "  chain forward {",
      "    type filter hook forward priority mangle; policy accept;",
      "    ip daddr 224.0.0.0/4 meta l4proto udp numgen random mod 10000 < 1250 drop",
      "    ip6 daddr ff00::/8 meta l4proto udp numgen random mod 10000 < 1250 drop",
      "    ip daddr 224.0.0.0/4 meta l4proto udp ip dscp set 10",
      "    ip6 daddr ff00::/8 meta l4proto udp ip6 dscp set 10",
      "  }",
      "}",
      "",
    ].join("\n"),
  );
  const bridge = nftPolicyScript({ host: "sw", family: "bridge", remark: null, dropPercent: 0 });
  assert.match(bridge, /^table bridge mcast_lab \{/);
  assert.doesNotMatch(bridge, /drop|dscp/);
});

Deno.test("tool wrappers: quoted command line, arguments appended, a message when missing", () => {
  const script = wrapperScript({
    name: "mcast-send",
    argv: ["/opt/deno dir/deno", "run", "--allow-read=/proc,/sys", "/src/cli/mcast_send.ts"],
  });
  assert.equal(
    script,
    [
      "#!/bin/sh",
      "# mcast-send inside an mcast-lab lab",
      `[ -x '/opt/deno dir/deno' ] || { echo "mcast-send: not found: "'/opt/deno dir/deno' >&2; exit 127; }`,
      `exec '/opt/deno dir/deno' run --allow-read=/proc,/sys /src/cli/mcast_send.ts "$@"`,
      "",
    ].join("\n"),
  );
});

Deno.test("status --json: exactly the contract's keys, addresses without prefix length", () => {
  const plan = planLab("lan", classroomOptions({}));
  const record = { name: "lab", topology: "lan", plan } as LabRecord;
  const json = statusJson([{ name: "lab", state: "up", record, missing: [], problem: null }]);
  assert.deepEqual(Object.keys(json.labs[0]), ["name", "topology", "hosts"]);
  const sw = json.labs[0].hosts.find((h) => h.name === "sw")!;
  assert.deepEqual(Object.keys(sw), ["name", "role", "interfaces"]);
  assert.deepEqual(sw.interfaces.slice(0, 2), [
    { name: "br0", ipv4: "10.0.1.2", ipv6: "fd00:0:0:1::2" },
    { name: "p-sender", ipv4: null, ipv6: null },
  ]);
  assert.deepEqual(statusJson([]), { labs: [] });
  const damaged = statusJson([{
    name: "x",
    state: "damaged",
    record: null,
    missing: [],
    problem: "?",
  }]);
  assert.deepEqual(damaged, { labs: [{ name: "x", topology: null, hosts: [] }] });
});
