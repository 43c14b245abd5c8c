// Unit tests of the routing-table readers (lib/proc_route.ts) on text captured from a namespace
// (Linux 6.x, little-endian): two veth ends dum0 (10.20.0.2/24, fd00:20::2/64, default route)
// and dum1 (10.30.0.2/24, fd00:30::2/64), with
//
//   ip route add default via 10.20.0.1 dev dum0 metric 100
//   ip route add 239.0.0.0/8 dev dum1 metric 50
//   ip route add 239.1.0.0/16 dev dum0 metric 20
//   ip route add 239.1.0.0/16 dev dum1 metric 10
//   ip route add unreachable 233.252.0.0/24
//   ip -6 route add default via fd00:20::1 dev dum0 metric 100
//   ip -6 route add ff3e::/16 dev dum1 metric 50
//   ip -6 route add ff3e:1::/32 dev dum0 metric 20
//   ip -6 route add ff3e:1::/32 dev dum1 metric 10
//   ip -6 route add unreachable ff3e:2::/32
//
// and a lab test that compares the IPv4 reader with the kernel's own choice (`ip route get`).

import assert from "node:assert/strict";
import { labTest } from "../lab/mod.ts";
import { parseAddress } from "../../lib/address.ts";
import {
  parseIpv6RouteTable,
  parseRouteTable,
  readRouteInterface,
  type RouteEntry,
  selectRoute,
} from "../../lib/proc_route.ts";

const ROUTE = Deno.readTextFileSync(new URL("../fixtures/proc_net_route.txt", import.meta.url));
const IPV6_ROUTE = Deno.readTextFileSync(
  new URL("../fixtures/proc_net_ipv6_route.txt", import.meta.url),
);
const PEER = new URL("./_route_peer.ts", import.meta.url).pathname;

function brief(routes: RouteEntry[]): string[] {
  return routes.map((r) => `${r.destination}/${r.prefixLength} ${r.interface} ${r.metric}`);
}

Deno.test("parseRouteTable reads the captured /proc/net/route", () => {
  const routes = parseRouteTable(ROUTE, { littleEndian: true });
  assert.deepEqual(brief(routes), [
    "0.0.0.0/0 dum0 100",
    "10.20.0.0/24 dum0 0",
    "10.30.0.0/24 dum1 0",
    "233.252.0.0/24 * 0",
    "239.0.0.0/8 dum1 50",
    "239.1.0.0/16 dum1 10",
    "239.1.0.0/16 dum0 20",
  ]);
  assert.ok(routes.every((r) => r.family === "IPv4"));
  assert.equal(routes[0].flags, 0x3, "up, gateway");
  assert.equal(routes[3].flags, 0x201, "up, reject");
});

Deno.test("parseRouteTable: the byte order of the writer decides the addresses", () => {
  const line = "eth0\tEF010000\t00000000\t0001\t0\t0\t5\tFFFF0000\t0\t0\t0\n";
  assert.deepEqual(brief(parseRouteTable(line, { littleEndian: false })), ["239.1.0.0/16 eth0 5"]);
  assert.deepEqual(brief(parseRouteTable(line, { littleEndian: true })), ["0.0.1.239/16 eth0 5"]);
});

Deno.test("parseIpv6RouteTable reads the captured /proc/net/ipv6_route", () => {
  const routes = parseIpv6RouteTable(IPV6_ROUTE);
  assert.equal(routes.length, 19);
  assert.ok(routes.every((r) => r.family === "IPv6"));
  assert.deepEqual(brief(routes.filter((r) => r.destination.startsWith("ff3e"))), [
    "ff3e:1::/32 dum1 10",
    "ff3e:1::/32 dum0 20",
    "ff3e:2::/32 lo 1024",
    "ff3e::/16 dum1 50",
  ]);
  const unreachable = routes.find((r) => r.destination === "ff3e:2::")!;
  assert.equal(unreachable.flags, 0x200200);
  assert.deepEqual(brief(routes.filter((r) => r.destination === "::")), [
    "::/0 dum0 100",
    "::/0 lo 4294967295",
  ]);
});

Deno.test("odd input is skipped, never thrown", () => {
  for (const text of ["", "\n\n", "Iface\tDestination\n", "dum0\t0000", "\u0000garbage \uFFFD"]) {
    assert.deepEqual(parseRouteTable(text), []);
    assert.deepEqual(parseIpv6RouteTable(text), []);
  }
  // A truncated last line: the complete ones stay.
  assert.equal(
    parseRouteTable(ROUTE.slice(0, ROUTE.lastIndexOf("\n", ROUTE.length - 2) + 40)).length,
    6,
  );
  assert.deepEqual(parseIpv6RouteTable("ff3e0000 10 0 00 0 32 1 0 1 dum1\n"), []);
  assert.deepEqual(parseRouteTable(null as unknown as string), []);
});

Deno.test("selectRoute: longest prefix, then lowest metric, IPv4", () => {
  const routes = parseRouteTable(ROUTE, { littleEndian: true });
  const pick = (address: string) => selectRoute(address, routes)?.interface ?? null;
  assert.equal(pick("239.1.2.3"), "dum1", "/16 metric 10 beats /16 metric 20 and /8");
  assert.equal(pick("239.2.0.1"), "dum1", "/8 beats the default");
  assert.equal(pick("224.0.0.251"), "dum0", "only the default matches");
  assert.equal(pick("10.30.0.9"), "dum1");
  // A reject route is a route too: the kernel has no interface for it, and neither does "*".
  assert.equal(pick("233.252.0.1"), "*");
  assert.equal(selectRoute("239.1.2.3", routes.slice(2, 3)), null, "no match");
  assert.equal(selectRoute("ff3e:1::5", routes), null, "another family");
});

Deno.test("selectRoute: IPv6 leaves out reject routes and routes on lo", () => {
  const routes = parseIpv6RouteTable(IPV6_ROUTE);
  const pick = (address: string) => selectRoute(address, routes)?.interface ?? null;
  assert.equal(pick("ff3e:1::5"), "dum1", "/32 metric 10");
  assert.equal(pick("ff3e:7::1"), "dum1", "/16");
  assert.equal(pick("ff3e:2::1"), "dum1", "the unreachable /32 on lo does not count");
  assert.equal(pick("ff02::fb"), "dum0p", "ff00::/8: the first of equal metrics");
  assert.equal(pick("2001:db8::1"), "dum0", "the default, not the unreachable one on lo");
  assert.equal(
    pick("::1"),
    "dum0",
    "the local table's /128 on lo does not count: the default does",
  );
  assert.equal(selectRoute(parseAddress("fd00:30::7").bytes, routes)?.interface, "dum1");
});

Deno.test("readRouteInterface reads the table of the address's family", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/net`);
    await Deno.writeTextFile(`${root}/net/route`, ROUTE);
    await Deno.writeTextFile(`${root}/net/ipv6_route`, IPV6_ROUTE);
    const options = { procRoot: `${root}/`, littleEndian: true };
    assert.equal(readRouteInterface(parseAddress("239.1.2.3"), options), "dum1");
    assert.equal(readRouteInterface(parseAddress("224.0.0.1"), options), "dum0");
    assert.equal(readRouteInterface(parseAddress("ff3e:1::5"), options), "dum1");
    await Deno.writeTextFile(`${root}/net/route`, ROUTE.split("\n").slice(0, 3).join("\n"));
    assert.equal(readRouteInterface(parseAddress("239.1.2.3"), options), "dum0");
    await Deno.writeTextFile(`${root}/net/route`, "Iface\tDestination\n");
    assert.equal(readRouteInterface(parseAddress("239.1.2.3"), options), null, "no route");
    await Deno.remove(`${root}/net/ipv6_route`);
    assert.equal(readRouteInterface(parseAddress("ff3e:1::5"), options), null, "no table");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

labTest("readRouteInterface agrees with the kernel's IPv4 route lookup", async (lab) => {
  const ns = await lab.addNamespace("route");
  for (const name of ["dum0", "dum1"]) {
    await ns.ip(["link", "add", name, "type", "veth", "peer", "name", `${name}p`]);
    await ns.ip(["link", "set", name, "up"]);
    await ns.ip(["link", "set", `${name}p`, "up"]);
  }
  await ns.ip(["addr", "add", "10.20.0.2/24", "dev", "dum0"]);
  await ns.ip(["addr", "add", "10.30.0.2/24", "dev", "dum1"]);
  await ns.ip(["route", "add", "default", "via", "10.20.0.1", "dev", "dum0", "metric", "100"]);
  await ns.ip(["route", "add", "239.0.0.0/8", "dev", "dum1", "metric", "50"]);
  await ns.ip(["route", "add", "239.1.0.0/16", "dev", "dum0", "metric", "20"]);
  await ns.ip(["route", "add", "239.1.0.0/16", "dev", "dum1", "metric", "10"]);
  await ns.ip(["route", "add", "239.1.2.0/24", "dev", "dum0", "metric", "90"]);
  const groups = ["239.1.2.3", "239.1.3.3", "239.200.0.1", "224.0.0.251", "232.1.1.1"];
  const result = await ns.runDeno(PEER, { args: groups, check: true });
  const ours = JSON.parse(result.stdout) as Record<string, string | null>;
  for (const group of groups) {
    const kernel = /\bdev (\S+)/.exec(await ns.ip(["route", "get", group]))?.[1];
    assert.equal(ours[group], kernel, group);
  }
  assert.deepEqual(ours, {
    "239.1.2.3": "dum0",
    "239.1.3.3": "dum1",
    "239.200.0.1": "dum1",
    "224.0.0.251": "dum0",
    "232.1.1.1": "dum0",
  });
});
