// Tests of the C library's interface lists: lo on this host (read only: nothing is sent), and a
// veth with two IPv4 addresses, a ULA and a link-local IPv6 address inside a lab namespace,
// where `_interfaces_peer.ts` reports what `readInterfaces` sees. Finding an interface by text
// is lib/interfaces.ts's business (../lib/interfaces_test.ts).

import assert from "node:assert/strict";
import { PLATFORM as P } from "../../ffi/constants.ts";
import {
  interfaceIndex,
  interfaceName,
  type RawInterface,
  type RawInterfaceAddress,
  readInterfaces,
} from "../../ffi/interfaces.ts";
import { labTest } from "../lab/mod.ts";
import { peerSteps } from "../lib/_lab_peers.ts";
import { unusedIndex, vethWithAddresses } from "./_interfaces_fixture.ts";
import { rawAddress } from "./_sockets.ts";

const PEER = new URL("./_interfaces_peer.ts", import.meta.url).pathname;

/** An address as `readInterfaces` reports it, from text. */
function expectedAddress(text: string, scopeId = 0): RawInterfaceAddress {
  return { ...rawAddress(text), scopeId };
}

Deno.test("readInterfaces: lo has index 1, the loopback flags and 127.0.0.1 and ::1 in bytes", () => {
  const interfaces = readInterfaces();
  const lo = interfaces.find((i) => i.name === "lo")!;
  assert.ok(lo, "no lo");
  assert.equal(lo.index, 1);
  assert.equal(lo.flags & (P.IFF_UP | P.IFF_LOOPBACK), P.IFF_UP | P.IFF_LOOPBACK);
  const loopback = (a: RawInterfaceAddress) =>
    a.bytes.every((b, i) => b === (a.family === "IPv4" ? [127, 0, 0, 1][i] : i === 15 ? 1 : 0));
  assert.deepEqual(lo.addresses.filter(loopback), [
    expectedAddress("127.0.0.1"),
    expectedAddress("::1"),
  ]);
  for (const item of interfaces) {
    for (const address of item.addresses) {
      assert.equal(address.bytes.length, address.family === "IPv4" ? 4 : 16, item.name);
    }
  }
  const indexes = interfaces.map((i) => i.index);
  assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b), "in index order");
  assert.equal(new Set(interfaces.map((i) => i.name)).size, interfaces.length, "one per name");
  for (const item of interfaces) {
    assert.equal(interfaceIndex(item.name), item.index);
    assert.equal(interfaceName(item.index), item.name);
  }
});

Deno.test("interfaceIndex and interfaceName: known, unknown and impossible values", () => {
  assert.equal(interfaceIndex("lo"), 1);
  assert.equal(interfaceName(1), "lo");
  assert.equal(interfaceIndex("nosuchif0"), 0);
  assert.equal(interfaceIndex(""), 0);
  assert.equal(interfaceIndex("x".repeat(16)), 0, "longer than IFNAMSIZ - 1");
  assert.equal(interfaceName(0), null);
  assert.equal(interfaceName(-1), null);
  assert.equal(interfaceName(1.5), null);
  assert.equal(interfaceName(2 ** 32), null);
  assert.equal(interfaceName(unusedIndex()), null);
});

labTest(
  "readInterfaces lists a veth with two IPv4, a ULA and a link-local address in bytes",
  async (lab) => {
    const { ns, link, iface, index, second, local } = await vethWithAddresses(lab);
    const { interfaces: step } = await peerSteps(ns.spawnDeno(PEER));
    const interfaces = (step.interfaces as RawInterface[]).map((i) => ({
      ...i,
      addresses: i.addresses.map((a) => ({ ...a, bytes: Uint8Array.from(a.bytes) })),
    }));
    assert.deepEqual(interfaces.map((i) => i.name), ["lo", iface], "only lo and the veth");
    const veth = interfaces[1];
    assert.equal(veth.index, index);
    assert.equal(veth.flags & P.IFF_UP, P.IFF_UP);
    assert.equal(veth.flags & P.IFF_MULTICAST, P.IFF_MULTICAST);
    const sorted = (list: RawInterfaceAddress[]) =>
      [...list].sort((x, y) => x.bytes.join(".").localeCompare(y.bytes.join(".")));
    assert.deepEqual(
      sorted(veth.addresses),
      sorted([
        expectedAddress(link.a.ipv4!),
        expectedAddress(second),
        expectedAddress(link.a.ipv6!),
        expectedAddress(local, index),
      ]),
    );
    assert.deepEqual(step.names, { lo: "lo", [iface]: iface });
    assert.deepEqual(step.indexes, { lo: 1, [iface]: index });
  },
);
