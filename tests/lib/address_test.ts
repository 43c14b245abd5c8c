import assert from "node:assert/strict";
import {
  canonicalAddress,
  familyOf,
  formatAddress,
  formatIpv4,
  formatIpv6,
  ipv6MulticastScope,
  ipv6MulticastScopeName,
  isKernelDefaultGroup,
  isLinkLocalUnicast,
  isMulticast,
  isSsmGroup,
  parseAddress,
  parseIpv4,
  parseIpv6,
  scopeIdKept,
} from "../../lib/address.ts";
import { InvalidValueError } from "../../lib/errors.ts";

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

function assertInvalid(fn: () => unknown, value: unknown): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidValueError, `not an InvalidValueError: ${error}`);
    assert.equal(error.value, value);
    return true;
  });
}

Deno.test("parseIpv4() reads dotted quads", () => {
  assert.deepEqual(parseIpv4("239.1.2.3"), bytes(239, 1, 2, 3));
  assert.deepEqual(parseIpv4("0.0.0.0"), bytes(0, 0, 0, 0));
  assert.deepEqual(parseIpv4("255.255.255.255"), bytes(255, 255, 255, 255));
  assert.deepEqual(parseIpv4("10.0.100.9"), bytes(10, 0, 100, 9));
});

Deno.test("parseIpv4() refuses everything else", () => {
  const invalid = [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "1.2.3.-4",
    "01.2.3.4",
    "1.2.3.4 ",
    " 1.2.3.4",
    "1..3.4",
    "0x1.2.3.4",
    "1.2.3.4/32",
    "a.b.c.d",
    "::1",
    "1.2.3.1000",
    "1e2.0.0.1",
  ];
  for (const text of invalid) assertInvalid(() => parseIpv4(text), text);
});

Deno.test("parseIpv4() names the value in the error", () => {
  assert.throws(() => parseIpv4("300.1.1.1", { what: "group" }), {
    message: 'Invalid group: "300.1.1.1" (expected an IPv4 address in dotted-quad form)',
  });
});

Deno.test("parseIpv6() reads every RFC 4291 text form", () => {
  const table: [string, number[]][] = [
    ["::", new Array(16).fill(0)],
    ["::1", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
    ["1::", [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ["ff02::1", [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
    ["FF3E::1234", [0xff, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34]],
    [
      "2001:db8:0:0:1:0:0:1",
      [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1],
    ],
    [
      "2001:0db8:0000:0000:0000:0000:0000:0001",
      [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    ],
    ["::ffff:1.2.3.4", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]],
    ["::1.2.3.4", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]],
    ["64:ff9b::192.0.2.33", [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 33]],
    ["1:2:3:4:5:6:7.8.9.10", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 7, 8, 9, 10]],
    ["1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
    ["1:2:3:4:5:6:7::", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]],
    ["::2:3:4:5:6:7:8", [0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
    ["fe80::1:2", [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]],
  ];
  for (const [text, expected] of table) {
    assert.deepEqual(parseIpv6(text), new Uint8Array(expected), text);
  }
});

Deno.test("parseIpv6() refuses everything else", () => {
  const invalid = [
    "",
    ":",
    ":::",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1::2::3",
    ":1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:",
    "12345::1",
    "g::1",
    "::1.2.3",
    "::1.2.3.4:5",
    "1.2.3.4::",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::ffff:256.1.1.1",
    "ff02::1%eth0",
    "[::1]",
    "1.2.3.4",
    " ::1",
    "1:2:3:4:5:6:7:8::",
  ];
  for (const text of invalid) assertInvalid(() => parseIpv6(text), text);
});

Deno.test("parseAddress() returns family, bytes and zone", () => {
  assert.deepEqual(parseAddress("239.1.2.3"), { family: "IPv4", bytes: bytes(239, 1, 2, 3) });
  assert.deepEqual(parseAddress("ff02::1%eth0"), {
    family: "IPv6",
    bytes: parseIpv6("ff02::1"),
    zone: "eth0",
  });
  assert.deepEqual(parseAddress("fe80::1%2").zone, "2");
  assert.equal(parseAddress("::1").zone, undefined);
  for (const text of ["", "ff02::1%", "ff02::1%a b", "ff02::1%a%b", "1.2.3.4%eth0", "x"]) {
    assertInvalid(() => parseAddress(text), text);
  }
});

Deno.test("formatIpv4() writes dotted quads and checks the length", () => {
  assert.equal(formatIpv4(bytes(232, 1, 1, 1)), "232.1.1.1");
  assert.equal(formatIpv4(bytes(0, 0, 0, 0)), "0.0.0.0");
  assert.throws(() => formatIpv4(bytes(1, 2, 3)), InvalidValueError);
  assert.throws(() => formatIpv6(bytes(1, 2, 3, 4)), InvalidValueError);
  assert.throws(() => formatAddress(bytes(1, 2, 3, 4, 5)), InvalidValueError);
});

Deno.test("formatIpv6() writes RFC 5952 canonical text", () => {
  const table: [string, string][] = [
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["ff3e:0:0:0:0:0:0:1234", "ff3e::1234"],
    ["::ffff:1.2.3.4", "::ffff:1.2.3.4"],
    ["::ffff:0102:0304", "::ffff:1.2.3.4"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero field is not compressed
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // the longest run wins
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // the first of equal runs wins
    ["FF02::1:FF00:ABCD", "ff02::1:ff00:abcd"],
    ["::1.2.3.4", "::102:304"], // IPv4-compatible is deprecated: plain hex
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["fe80:0000::0001", "fe80::1"],
    ["0:0:1:0:0:0:0:0", "0:0:1::"],
  ];
  for (const [input, expected] of table) {
    assert.equal(formatIpv6(parseIpv6(input)), expected, input);
  }
});

Deno.test("canonicalAddress() normalizes and keeps the zone", () => {
  assert.equal(canonicalAddress("FF3E:0:0:0:0:0:0:1234"), "ff3e::1234");
  assert.equal(canonicalAddress("fe80:0::1%eth0"), "fe80::1%eth0");
  assert.equal(canonicalAddress("239.1.2.3"), "239.1.2.3");
  assert.equal(formatAddress(parseIpv6("ff02::1")), "ff02::1");
  assertInvalid(() => canonicalAddress("not an address"), "not an address");
});

Deno.test("familyOf() answers for text and bytes, refuses garbage", () => {
  assert.equal(familyOf("239.1.2.3"), "IPv4");
  assert.equal(familyOf("ff3e::1234"), "IPv6");
  assert.equal(familyOf("fe80::1%eth0"), "IPv6");
  assert.equal(familyOf(bytes(1, 2, 3, 4)), "IPv4");
  assert.equal(familyOf(new Uint8Array(16)), "IPv6");
  for (const value of ["", "localhost", "239.1.2", "ff02::1::"]) {
    assertInvalid(() => familyOf(value), value);
  }
  assert.throws(() => familyOf(new Uint8Array(5)), InvalidValueError);
});

Deno.test("isMulticast() and isSsmGroup() classify groups", () => {
  const table: [string, boolean, boolean][] = [
    // address, multicast, SSM
    ["224.0.0.0", true, false],
    ["224.0.0.1", true, false],
    ["232.0.0.0", true, true],
    ["232.255.255.255", true, true],
    ["233.0.0.1", true, false],
    ["231.255.255.255", true, false],
    ["239.255.255.255", true, false],
    ["240.0.0.1", false, false],
    ["223.255.255.255", false, false],
    ["10.1.2.3", false, false],
    ["ff02::1", true, false],
    ["ff3e::1234", true, true],
    ["ff31::1", true, true],
    ["ff35::8000:1", true, true],
    ["ff3e:0:1::1", true, true],
    ["ff3e:1::1", true, false], // reserved/prefix-length bytes nonzero
    ["ff3e:40:2001:db8::1", true, false], // unicast-prefix based, not SSM
    ["ff2e::1", true, false],
    ["ff1e::1", true, false],
    ["fe80::1", false, false],
    ["::ffff:232.1.1.1", false, false],
    ["2001:db8::1", false, false],
  ];
  for (const [address, multicast, ssm] of table) {
    assert.equal(isMulticast(address), multicast, address);
    assert.equal(isSsmGroup(address), ssm, address);
  }
  assert.equal(isMulticast(bytes(239, 0, 0, 1)), true);
  assertInvalid(() => isMulticast("bogus"), "bogus");
  assertInvalid(() => isSsmGroup("232.1.1"), "232.1.1");
});

Deno.test("ipv6MulticastScope() reads the scope nibble", () => {
  const table: [string, number, string][] = [
    ["ff01::1", 1, "interface-local"],
    ["ff02::1", 2, "link-local"],
    ["ff03::1", 3, "realm-local"],
    ["ff04::1", 4, "admin-local"],
    ["ff05::2", 5, "site-local"],
    ["ff08::1", 8, "organization-local"],
    ["ff0e::1", 14, "global"],
    ["ff3e::1234", 14, "global"],
    ["ff32::1", 2, "link-local"],
    ["ff00::1", 0, "reserved"],
    ["ff0f::1", 15, "reserved"],
    ["ff06::1", 6, "unassigned"],
    ["ff1d::1", 13, "unassigned"],
  ];
  for (const [group, scope, name] of table) {
    assert.equal(ipv6MulticastScope(group), scope, group);
    assert.equal(ipv6MulticastScope(parseIpv6(group)), scope, group);
    assert.equal(ipv6MulticastScopeName(scope), name, group);
  }
  for (const value of ["239.1.2.3", "fe80::1", "2001:db8::1", "nope"]) {
    assertInvalid(() => ipv6MulticastScope(value), value);
  }
  for (const value of [-1, 16, 1.5, NaN]) {
    assertInvalid(() => ipv6MulticastScopeName(value), value);
  }
});

Deno.test("scopeIdKept() keeps it for interface- and link-local groups only", () => {
  const table: [string, boolean][] = [
    ["ff01::1", true],
    ["ff02::1", true],
    ["ff11::1", true],
    ["ff12::1234", true],
    ["ff31::1", true],
    ["ff32::1", true],
    ["ff02::1%eth0", true],
    ["ff00::1", false],
    ["ff03::1", false],
    ["ff05::2", false],
    ["ff08::1", false],
    ["ff0e::1", false],
    ["ff3e::1234", false],
    ["fe80::1", false],
    ["239.1.2.3", false],
    ["224.0.0.1", false],
  ];
  for (const [group, kept] of table) assert.equal(scopeIdKept(group), kept, group);
  assertInvalid(() => scopeIdKept("ff02::x"), "ff02::x");
});

Deno.test("isLinkLocalUnicast() matches fe80::/10 and 169.254.0.0/16", () => {
  const table: [string, boolean][] = [
    ["fe80::1", true],
    ["fe80::1%eth0", true],
    ["febf:ffff::1", true],
    ["fec0::1", false],
    ["fe7f::1", false],
    ["ff02::1", false],
    ["::1", false],
    ["169.254.0.1", true],
    ["169.253.0.1", false],
    ["10.0.0.1", false],
  ];
  for (const [address, expected] of table) {
    assert.equal(isLinkLocalUnicast(address), expected, address);
  }
  assertInvalid(() => isLinkLocalUnicast(""), "");
});

Deno.test("isKernelDefaultGroup() matches the groups the kernel joins itself", () => {
  const table: [string, boolean][] = [
    ["224.0.0.1", true],
    ["224.0.0.2", false],
    ["224.0.0.251", false],
    ["224.0.0.22", false],
    ["239.1.2.3", false],
    ["ff02::1", true],
    ["ff01::1", true],
    ["ff02::2", true],
    ["ff01::2", true],
    ["ff05::2", true],
    ["ff02::1:ff00:0", true],
    ["ff02::1:ff12:3456", true],
    ["ff02::1:ffab:cdef", true],
    ["ff05::1", false],
    ["ff0e::1", false],
    ["ff02::16", false],
    ["ff02::fb", false],
    ["ff02::3", false],
    ["ff02::2:ff12:3456", false],
    ["ff05::1:ff12:3456", false],
    ["ff02:0:0:1::1", false],
    ["ff3e::1234", false],
    ["fe80::1", false],
  ];
  for (const [group, expected] of table) {
    assert.equal(isKernelDefaultGroup(group), expected, group);
  }
  assertInvalid(() => isKernelDefaultGroup("224.0.0"), "224.0.0");
});
