// Tests of finding interfaces by text: lo on this host (read only: nothing is sent), and a veth
// with two IPv4 addresses, a ULA and a link-local IPv6 address inside a lab namespace, where
// `_interfaces_peer.ts` reports what `listInterfaces` and `resolveInterface` see.

import assert from "node:assert/strict";
import { formatAddress, parseAddress } from "../../lib/address.ts";
import { InterfaceNotFoundError, MismatchError } from "../../lib/errors.ts";
import {
  findInterfaceByAddress,
  type InterfaceAddress,
  interfaceForGroup,
  interfaceIndex,
  interfaceName,
  listInterfaces,
  type NetworkInterface,
  resolveInterface,
} from "../../lib/interfaces.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { readInterfaces } from "../../ffi/interfaces.ts";
import { labTest } from "../lab/mod.ts";
import { unusedIndex, vethWithAddresses } from "../ffi/_interfaces_fixture.ts";
import { peerSteps } from "./_lab_peers.ts";
import type { ErrorDescription } from "./_peer_report.ts";

const PEER = new URL("./_interfaces_peer.ts", import.meta.url).pathname;

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
  assert.equal(lo.flags & (P.IFF_UP | P.IFF_LOOPBACK), P.IFF_UP | P.IFF_LOOPBACK);
  assert.deepEqual(
    lo.addresses.filter((a) => a.address === "127.0.0.1" || a.address === "::1"),
    [
      { family: "IPv4", address: "127.0.0.1", scopeId: 0 },
      { family: "IPv6", address: "::1", scopeId: 0 },
    ],
  );
  assert.equal(interfaceIndex("lo"), 1, "the C library's lookups, re-exported");
  assert.equal(interfaceName(1), "lo");
});

Deno.test("listInterfaces is readInterfaces with the addresses as canonical text", () => {
  assert.deepEqual(
    listInterfaces(),
    readInterfaces().map((raw) => ({
      ...raw,
      addresses: raw.addresses.map((a) => ({
        family: a.family,
        address: formatAddress(a.bytes),
        scopeId: a.scopeId,
      })),
    })),
  );
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

Deno.test("interfaceForGroup: the spec, the group's zone, both agreeing, or neither", () => {
  const group = (text: string) => parseAddress(text);
  assert.deepEqual(interfaceForGroup(group("239.1.2.3"), undefined), { index: 0, name: null });
  for (const none of [0, "0", ""]) {
    assert.deepEqual(interfaceForGroup(group("239.1.2.3"), none), { index: 0, name: null });
  }
  assert.deepEqual(interfaceForGroup(group("239.1.2.3"), "lo"), { index: 1, name: "lo" });
  assert.deepEqual(interfaceForGroup(group("239.1.2.3"), "127.0.0.1"), { index: 1, name: "lo" });
  assert.deepEqual(interfaceForGroup(group("ff02::1234%lo"), undefined), { index: 1, name: "lo" });
  assert.deepEqual(interfaceForGroup(group("ff02::1234%1"), "lo"), { index: 1, name: "lo" });
  assert.throws(
    () => interfaceForGroup(group("ff02::1234%nosuchif0"), undefined),
    (error: unknown) => error instanceof InterfaceNotFoundError && error.value === "nosuchif0",
  );
  assert.throws(
    () => interfaceForGroup(group("239.1.2.3"), "nosuchif0"),
    (error: unknown) => error instanceof InterfaceNotFoundError && error.value === "nosuchif0",
  );
  const other = readInterfaces().find((i) => i.index !== 1);
  if (other === undefined) return; // a host with lo only cannot disagree with lo
  assert.throws(() => interfaceForGroup(group("ff02::1234%lo"), other.name), (error: unknown) => {
    assert.ok(error instanceof MismatchError, String(error));
    assert.equal(
      error.message,
      `Mismatched interface of group ff02::1234: expected lo, got ${other.name}`,
    );
    return true;
  });
});

labTest(
  "a veth with two IPv4, a ULA and a link-local address is listed and resolved",
  async (lab) => {
    const { ns, link, iface, index, second, local } = await vethWithAddresses(lab);
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
    const peer = ns.spawnDeno(PEER, { args: specs });
    const { interfaces: step } = await peerSteps(peer);
    const interfaces = step.interfaces as NetworkInterface[];
    assert.deepEqual(interfaces.map((i) => i.name), ["lo", iface], "only lo and the veth");
    const veth = interfaces[1];
    assert.equal(veth.index, index);
    assert.equal(veth.flags & P.IFF_UP, P.IFF_UP);
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
    const resolved = step.resolved as Record<string, string | ErrorDescription>;
    for (const spec of specs.slice(0, 7)) assert.equal(resolved[spec], iface, spec);
    assert.equal(resolved.lo, "lo");
    const refused = resolved[link.b.ipv4!] as ErrorDescription;
    assert.equal(refused.kind, "InterfaceNotFoundError");
    assert.match(refused.message, new RegExp(`^Invalid interface: "${link.b.ipv4!}"`));
  },
);
