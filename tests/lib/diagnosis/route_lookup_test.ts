// Unit tests of the `ip -j route get` parser (lib/diagnosis/route_lookup.ts) on answers captured
// in a namespace (iproute2 6.x): a multicast route, a unicast route through a gateway, a local
// address, IPv6 multicast in the local table.

import assert from "node:assert/strict";
import { isNoRoute, parseRouteGet } from "../../../lib/diagnosis/route_lookup.ts";

const ANSWERS: [string, { type: string; interface: string; gateway: string | null }][] = [
  [
    '[{"type":"multicast","dst":"232.1.1.1","dev":"veth0","prefsrc":"10.7.0.2","flags":' +
    '["rt_offload_failed"],"uid":0,"cache":["mc"]}]',
    { type: "multicast", interface: "veth0", gateway: null },
  ],
  [
    '[{"dst":"10.20.1.1","gateway":"10.7.0.1","dev":"veth0","prefsrc":"10.7.0.2","flags":[],' +
    '"uid":0,"cache":[]}]',
    { type: "unicast", interface: "veth0", gateway: "10.7.0.1" },
  ],
  [
    '[{"type":"local","dst":"10.7.0.2","dev":"lo","prefsrc":"10.7.0.2","flags":[],"uid":0,' +
    '"cache":["local"]}]',
    { type: "local", interface: "lo", gateway: null },
  ],
  [
    '[{"type":"multicast","dst":"ff3e::1","from":"::","dev":"veth0","table":"local",' +
    '"protocol":"kernel","prefsrc":"fd00:7::2","metric":256,"flags":[],"pref":"medium"}]',
    { type: "multicast", interface: "veth0", gateway: null },
  ],
];

Deno.test("parseRouteGet reads the kernel's answers", () => {
  for (const [json, route] of ANSWERS) assert.deepEqual(parseRouteGet(json), route, json);
  for (const junk of ["", "[]", '{"dev":"x"}']) assert.equal(parseRouteGet(junk), null, junk);
});

Deno.test("isNoRoute tells the three results apart", () => {
  assert.equal(isNoRoute({ noRoute: "Network is unreachable" }), true);
  assert.equal(isNoRoute({ type: "unicast", interface: "eth0", gateway: null }), false);
  assert.equal(isNoRoute({ failure: "missing", program: "ip" }), false);
});
