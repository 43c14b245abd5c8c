// Tests of interface lookup: lo on this host (read only: nothing is sent), and a veth with two
// IPv4 addresses, a ULA and a link-local IPv6 address inside a lab namespace, where
// `_interfaces_peer.ts` reports what the wrappers see.

import assert from "node:assert/strict";
import { InterfaceNotFoundError } from "../../lib/errors.ts";
import {
  findInterfaceByAddress,
  type InterfaceAddress,
  interfaceIndex,
  interfaceName,
  listInterfaces,
  type NetworkInterface,
  resolveInterface,
} from "../../ffi/interfaces.ts";
import { labTest } from "../lab/mod.ts";
import { ifindex, linkLocal, peerSteps } from "../lib/_lab_peers.ts";
import type { ErrorDescription } from "../lib/_peer_report.ts";

const PEER = new URL("./_interfaces_peer.ts", import.meta.url).pathname;
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;

/** An index no interface of this host has. */
function unusedIndex(): number {
  const used = new Set(listInterfaces().map((i) => i.index));
  let index = 100_000;
  while (used.has(index)) index++;
  return index;
}

function assertNotFound(spec: string | number, printed: string): void {
  assert.throws(() => resolveInterface(spec), (error: unknown) => {
    assert.ok(error instanceof InterfaceNotFoundError, String(error));
    assert.equal(error.value, spec);
    assert.equal(
      error.message,
      `Invalid interface: ${printed} (expected the name, index or local address of an interface on this host)`,
    );
    return true;
  });
}

Deno.test("lo has index 1, the loopback flags and 127.0.0.1 and ::1", () => {
  const interfaces = listInterfaces();
  const lo = interfaces.find((i) => i.name === "lo")!;
  assert.ok(lo, "no lo");
  assert.equal(lo.index, 1);
  assert.equal(lo.flags & (IFF_UP | IFF_LOOPBACK), IFF_UP | IFF_LOOPBACK);
  assert.deepEqual(
    lo.addresses.filter((a) => a.address === "127.0.0.1" || a.address === "::1"),
    [
      { family: "IPv4", address: "127.0.0.1", scopeId: 0 },
      { family: "IPv6", address: "::1", scopeId: 0 },
    ],
  );
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

Deno.test("resolveInterface finds lo by name, index, index text and address", () => {
  for (const spec of ["lo", 1, "1", " 1 ", "127.0.0.1", "::1", "0:0:0:0:0:0:0:1"]) {
    const found = resolveInterface(spec);
    assert.equal(found.name, "lo", `resolveInterface(${JSON.stringify(spec)})`);
    assert.equal(found.index, 1);
  }
  assert.equal(findInterfaceByAddress("::1")?.name, "lo");
  assert.equal(findInterfaceByAddress("10.255.255.1"), null);
  assert.equal(findInterfaceByAddress("127.0.0.1", []), null, "searches only what it is given");
});

Deno.test("resolveInterface: an unknown name, index or address names the value", () => {
  const index = unusedIndex();
  assertNotFound("nosuchif0", '"nosuchif0"');
  assertNotFound(index, String(index));
  assertNotFound(String(index), `"${index}"`);
  assertNotFound("10.255.255.1", '"10.255.255.1"');
  assertNotFound("fd00:dead:beef::1", '"fd00:dead:beef::1"');
  assertNotFound("", '""');
});

labTest(
  "a veth with two IPv4, a ULA and a link-local address is listed and resolved",
  async (lab) => {
    const a = await lab.addNamespace("a");
    const b = await lab.addNamespace("b");
    const link = await lab.link(a, b);
    const iface = link.a.name;
    const second = link.a.ipv4!.replace(/\.1$/, ".11");
    await a.addAddress(iface, `${second}/24`);
    const index = await ifindex(a, iface);
    const local = await linkLocal(a, iface);
    const specs = [
      iface,
      String(index),
      link.a.ipv4!,
      second,
      link.a.ipv6!,
      local,
      `${local}%${iface}`,
      "lo",
      link.b.ipv4!, // the peer's address is not local
    ];
    const peer = a.spawnDeno(PEER, { args: specs });
    const { interfaces: step } = await peerSteps(peer);
    const interfaces = step.interfaces as NetworkInterface[];
    assert.deepEqual(interfaces.map((i) => i.name), ["lo", iface], "only lo and the veth");
    const veth = interfaces[1];
    assert.equal(veth.index, index);
    assert.equal(veth.flags & IFF_UP, IFF_UP);
    const sorted = (list: InterfaceAddress[]) =>
      [...list].sort((x, y) => x.address.localeCompare(y.address));
    assert.deepEqual(
      sorted(veth.addresses),
      sorted([
        { family: "IPv4", address: link.a.ipv4!, scopeId: 0 },
        { family: "IPv4", address: second, scopeId: 0 },
        { family: "IPv6", address: link.a.ipv6!, scopeId: 0 },
        { family: "IPv6", address: local, scopeId: index },
      ]),
    );
    assert.deepEqual(step.names, { lo: "lo", [iface]: iface });
    assert.deepEqual(step.indexes, { lo: 1, [iface]: index });
    const resolved = step.resolved as Record<string, string | ErrorDescription>;
    for (const spec of specs.slice(0, 7)) assert.equal(resolved[spec], iface, spec);
    assert.equal(resolved.lo, "lo");
    const refused = resolved[link.b.ipv4!] as ErrorDescription;
    assert.equal(refused.kind, "InterfaceNotFoundError");
    assert.match(refused.message, new RegExp(`^Invalid interface: "${link.b.ipv4!}"`));
  },
);
