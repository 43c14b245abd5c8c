import assert from "node:assert/strict";
import { InvalidValueError, MismatchError } from "../../lib/errors.ts";
import { destinationScopeId, PublicationConfig } from "../../lib/publication_config.ts";

const v4 = () => new PublicationConfig("239.1.2.3", 5000);
const v6 = () => new PublicationConfig("ff3e::8000:1234", 5000);

Deno.test("PublicationConfig has mctx-core defaults", () => {
  const config = v4();
  assert.equal(config.ttl, 1);
  assert.equal(config.loopback, true);
  assert.equal(config.sourceAddr, undefined);
  assert.equal(config.outgoingInterface, undefined);
  assert.equal(config.family, "IPv4");
  config.validate();
});

Deno.test("PublicationConfig is immutable: with* returns a new config", () => {
  const base = v4();
  const changed = base.withTtl(9).withSourceAddr("10.0.0.1").withLoopback(false).withDscp("ef");
  assert.notEqual(changed, base);
  assert.equal(base.ttl, 1);
  assert.equal(base.sourceAddr, undefined);
  assert.equal(base.loopback, true);
  assert.equal(changed.ttl, 9);
  assert.equal(changed.sourceAddr, "10.0.0.1");
  assert.equal(changed.dscpValue, 46);
  assert.ok(Object.isFrozen(base));
  assert.throws(() => {
    (base as unknown as { ttl: number }).ttl = 5;
  }, TypeError);
  assert.ok(Object.isFrozen(changed.withOutgoingInterface("10.0.0.1").outgoingInterface));
});

Deno.test("withOutgoingInterface and the interface index setters share one slot", () => {
  const a = v6().withOutgoingInterface("fd00::1").withIpv6InterfaceIndex(3);
  assert.deepEqual(a.outgoingInterface, { kind: "index", index: 3 });
  const b = v6().withIpv6InterfaceIndex(3).withOutgoingInterface("fd00::1");
  assert.deepEqual(b.outgoingInterface, { kind: "address", address: "fd00::1" });
  const c = v4().withOutgoingInterface("10.0.0.1").withIpv4InterfaceIndex(3);
  assert.deepEqual(c.outgoingInterface, { kind: "ipv4-index", index: 3 });
  const d = v4().withIpv4InterfaceIndex(3).withOutgoingInterface("10.0.0.1");
  assert.deepEqual(d.outgoingInterface, { kind: "address", address: "10.0.0.1" });
});

Deno.test("withBindAddr sets source and port, and a numeric zone selects the interface", () => {
  const a = v4().withBindAddr("10.1.2.3", 5001);
  assert.equal(a.sourceAddr, "10.1.2.3");
  assert.equal(a.sourcePort, 5001);
  const b = new PublicationConfig("ff32::8000:1234", 5000).withBindAddr("fe80::1234%7", 5001);
  assert.deepEqual(b.outgoingInterface, { kind: "index", index: 7 });
  b.validate();
});

interface Row {
  name: string;
  config: () => PublicationConfig;
  error: typeof InvalidValueError;
  what: string;
  value: unknown;
}

const REFUSED: Row[] = [
  {
    name: "unicast group",
    config: () => new PublicationConfig("10.0.0.1", 5000),
    error: InvalidValueError,
    what: "group",
    value: "10.0.0.1",
  },
  {
    name: "malformed group",
    config: () => new PublicationConfig("239.1.2", 5000),
    error: InvalidValueError,
    what: "group",
    value: "239.1.2",
  },
  {
    name: "IPv6 unicast group",
    config: () => new PublicationConfig("fd00::1", 5000),
    error: InvalidValueError,
    what: "group",
    value: "fd00::1",
  },
  {
    name: "group with zone",
    config: () => new PublicationConfig("ff02::1%eth0", 5000),
    error: InvalidValueError,
    what: "group",
    value: "ff02::1%eth0",
  },
  {
    name: "port 0",
    config: () => new PublicationConfig("239.1.2.3", 0),
    error: InvalidValueError,
    what: "port",
    value: 0,
  },
  {
    name: "port 65536",
    config: () => new PublicationConfig("239.1.2.3", 65536),
    error: InvalidValueError,
    what: "port",
    value: 65536,
  },
  {
    name: "fractional port",
    config: () => new PublicationConfig("239.1.2.3", 50.5),
    error: InvalidValueError,
    what: "port",
    value: 50.5,
  },
  {
    name: "source port 0",
    config: () => v4().withSourcePort(0),
    error: InvalidValueError,
    what: "source port",
    value: 0,
  },
  {
    name: "source port 70000",
    config: () => v4().withSourcePort(70000),
    error: InvalidValueError,
    what: "source port",
    value: 70000,
  },
  { name: "ttl 0", config: () => v4().withTtl(0), error: InvalidValueError, what: "ttl", value: 0 },
  {
    name: "ttl 256",
    config: () => v4().withTtl(256),
    error: InvalidValueError,
    what: "ttl",
    value: 256,
  },
  {
    name: "ttl 1.5",
    config: () => v4().withTtl(1.5),
    error: InvalidValueError,
    what: "ttl",
    value: 1.5,
  },
  {
    name: "IPv6 source on IPv4 group",
    config: () => v4().withSourceAddr("fd00::1"),
    error: MismatchError,
    what: 'address family of source "fd00::1"',
    value: "IPv6",
  },
  {
    name: "IPv4 source on IPv6 group",
    config: () => v6().withSourceAddr("10.0.0.1"),
    error: MismatchError,
    what: 'address family of source "10.0.0.1"',
    value: "IPv4",
  },
  {
    name: "IPv6 interface on IPv4 group",
    config: () => v4().withOutgoingInterface("::1"),
    error: MismatchError,
    what: 'address family of outgoing interface "::1"',
    value: "IPv6",
  },
  {
    name: "IPv4 interface on IPv6 group",
    config: () => v6().withOutgoingInterface("10.0.0.1"),
    error: MismatchError,
    what: 'address family of outgoing interface "10.0.0.1"',
    value: "IPv4",
  },
  {
    name: "interface index on IPv4 group",
    config: () => v4().withIpv6InterfaceIndex(2),
    error: MismatchError,
    what: "address family of outgoing interface index 2",
    value: "IPv6",
  },
  {
    name: "IPv4 interface index on IPv6 group",
    config: () => v6().withIpv4InterfaceIndex(2),
    error: MismatchError,
    what: "address family of outgoing interface index 2",
    value: "IPv4",
  },
  {
    name: "IPv4 interface index 0",
    config: () => v4().withIpv4InterfaceIndex(0),
    error: InvalidValueError,
    what: "IPv4 interface index",
    value: 0,
  },
  {
    name: "interface index 0",
    config: () => v6().withIpv6InterfaceIndex(0),
    error: InvalidValueError,
    what: "IPv6 interface index",
    value: 0,
  },
  {
    name: "multicast source",
    config: () => v4().withSourceAddr("239.9.9.9"),
    error: InvalidValueError,
    what: "source",
    value: "239.9.9.9",
  },
  {
    name: "unspecified source",
    config: () => v4().withSourceAddr("0.0.0.0"),
    error: InvalidValueError,
    what: "source",
    value: "0.0.0.0",
  },
  {
    name: "unspecified IPv6 interface",
    config: () => v6().withOutgoingInterface("::"),
    error: InvalidValueError,
    what: "outgoing interface",
    value: "::",
  },
  {
    name: "malformed source",
    config: () => v4().withSourceAddr("10.0.0.300"),
    error: InvalidValueError,
    what: "source",
    value: "10.0.0.300",
  },
  {
    name: "dscp 64",
    config: () => v4().withDscp(64),
    error: InvalidValueError,
    what: "dscp",
    value: 64,
  },
  {
    name: "dscp name",
    config: () => v4().withDscp("gold"),
    error: InvalidValueError,
    what: "dscp",
    value: "gold",
  },
  {
    name: "link-local group without interface",
    config: () => new PublicationConfig("ff32::8000:1", 5000),
    error: InvalidValueError,
    what: "outgoing interface",
    value: null,
  },
  {
    name: "interface-local group without interface",
    config: () => new PublicationConfig("ff31::8000:1", 5000),
    error: InvalidValueError,
    what: "outgoing interface",
    value: null,
  },
];

for (const row of REFUSED) {
  Deno.test(`validate refuses ${row.name}, naming the value`, () => {
    const config = row.config();
    assert.throws(() => config.validate(), (error: unknown) => {
      assert.ok(error instanceof row.error, `expected ${row.error.name}, got ${error}`);
      assert.equal(error.what, row.what);
      if (error instanceof MismatchError) assert.equal(error.actual, row.value);
      else assert.deepEqual(error.value, row.value);
      assert.match(error.message, /^(Invalid|Mismatched) /);
      assert.doesNotMatch(error.message, /\.$/);
      return true;
    });
  });
}

const ACCEPTED: [string, () => PublicationConfig][] = [
  [
    "IPv4 with everything",
    () =>
      v4().withBindAddr("10.0.0.1", 5001).withOutgoingInterface("10.0.0.1").withTtl(255).withDscp(0)
        .withLoopback(false),
  ],
  [
    "IPv6 SSM same host",
    () =>
      new PublicationConfig("ff31::8000:1234", 5000).withSourceAddr("::1").withOutgoingInterface(
        "::1",
      ).withTtl(4),
  ],
  [
    "IPv6 link-local group with index",
    () => new PublicationConfig("ff32::8000:1234", 5000).withIpv6InterfaceIndex(7),
  ],
  [
    "IPv6 link-local group with zoned source",
    () => new PublicationConfig("ff02::1:3", 5000).withSourceAddr("fe80::1%eth0"),
  ],
  ["IPv6 global with ULA source", () => v6().withSourceAddr("fd00::10").withDscp("AF41")],
  ["DSCP by decimal text", () => v4().withDscp("10")],
  ["IPv4 with an interface index", () => v4().withIpv4InterfaceIndex(3).withTtl(2)],
];

for (const [name, make] of ACCEPTED) {
  Deno.test(`validate accepts ${name}`, () => make().validate());
}

Deno.test("equals compares canonical addresses and every field", () => {
  assert.ok(
    new PublicationConfig("FF3E:0::1", 5000).equals(new PublicationConfig("ff3e::1", 5000)),
  );
  assert.ok(v4().withDscp("ef").equals(v4().withDscp(46)));
  assert.ok(!v4().equals(v4().withTtl(2)));
  assert.ok(!v4().equals(v4().withOutgoingInterface("10.0.0.1")));
  assert.ok(!v6().withIpv6InterfaceIndex(2).equals(v6().withIpv6InterfaceIndex(3)));
});

Deno.test("destination scope id is kept only for interface- and link-local groups", () => {
  for (
    const group of ["ff01::1", "ff02::1", "ff11::1", "ff12::1", "ff31::8000:1", "ff32::8000:1"]
  ) {
    assert.equal(destinationScopeId(group, 7), 7, group);
  }
  for (const group of ["ff05::2", "ff35::1", "ff38::1", "ff3e::8000:1234", "ff0e::1", "ff34::1"]) {
    assert.equal(destinationScopeId(group, 7), 0, group);
  }
  assert.equal(destinationScopeId("239.1.2.3", 7), 0);
  assert.equal(destinationScopeId("ff32::1", 0), 0);
});

Deno.test("toJSON lists only the fields that are set", () => {
  assert.deepEqual(v4().toJSON(), { group: "239.1.2.3", port: 5000, ttl: 1, loopback: true });
  assert.deepEqual(v6().withIpv6InterfaceIndex(4).withSourcePort(9).toJSON(), {
    group: "ff3e::8000:1234",
    port: 5000,
    ttl: 1,
    loopback: true,
    sourcePort: 9,
    outgoingInterface: { kind: "index", index: 4 },
  });
});
