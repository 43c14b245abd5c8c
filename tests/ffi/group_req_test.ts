import assert from "node:assert/strict";
import { groupReq, groupSourceReq, ipMreqn, ipMreqSource, ipv6Mreq } from "../../ffi/group_req.ts";
import { InvalidValueError } from "../../lib/errors.ts";
import { rawAddress } from "./_sockets.ts";

/** The 4 or 16 bytes of an address. */
const bytes = (text: string) => rawAddress(text).bytes;

/** Asserts that `fn` throws an InvalidValueError with exactly this message. */
function assertInvalid(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidValueError, String(error));
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("ip_mreqn: group, local address, little-endian ifindex", () => {
  assert.deepEqual([...ipMreqn(bytes("239.1.2.3"), bytes("10.0.0.2"), 0x0102)], [
    239,
    1,
    2,
    3,
    10,
    0,
    0,
    2,
    0x02,
    0x01,
    0,
    0,
  ]);
});

Deno.test("ip_mreqn: null is the any address, for the group and the local address", () => {
  assert.deepEqual([...ipMreqn(null, null, 3)], [0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0]);
  assert.deepEqual([...ipMreqn(null, bytes("127.0.0.1"), 0)], [
    0,
    0,
    0,
    0,
    127,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
  ]);
  assert.deepEqual([...ipMreqn(bytes("239.1.2.3"), null, 0)], [
    239,
    1,
    2,
    3,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  const any = ipMreqn(null, null, 0);
  any.fill(9);
  assert.deepEqual([...ipMreqn(null, null, 0)], new Array(12).fill(0), "each call a new buffer");
});

Deno.test("ip_mreq_source: group, interface, source (Linux order)", () => {
  assert.deepEqual([...ipMreqSource(bytes("232.1.1.1"), bytes("10.0.0.2"), bytes("10.0.0.1"))], [
    232,
    1,
    1,
    1,
    10,
    0,
    0,
    2,
    10,
    0,
    0,
    1,
  ]);
  assert.deepEqual(
    [...ipMreqSource(bytes("232.1.1.1"), null, bytes("10.0.0.1"))].slice(4, 8),
    [0, 0, 0, 0],
  );
});

Deno.test("ipv6_mreq: group then ifindex", () => {
  const request = ipv6Mreq(bytes("ff3e::1"), 5);
  assert.equal(request.length, 20);
  assert.deepEqual([...request.subarray(0, 2)], [0xff, 0x3e]);
  assert.equal(request[15], 1);
  assert.deepEqual([...request.subarray(16)], [5, 0, 0, 0]);
});

Deno.test("group_req is 136 bytes: u32 interface, 4 bytes padding, sockaddr_storage", () => {
  const request = groupReq(3, rawAddress("239.1.2.3"));
  assert.equal(request.length, 136);
  assert.deepEqual([...request.subarray(0, 8)], [3, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...request.subarray(8, 16)], [2, 0, 0, 0, 239, 1, 2, 3]);
  assert.ok(request.subarray(16).every((b) => b === 0));
});

Deno.test("group_source_req is 264 bytes with the source at offset 136", () => {
  const request = groupSourceReq(4, rawAddress("232.1.1.1"), rawAddress("10.0.0.1"));
  assert.equal(request.length, 264);
  assert.deepEqual([...request.subarray(0, 4)], [4, 0, 0, 0]);
  assert.deepEqual([...request.subarray(8, 16)], [2, 0, 0, 0, 232, 1, 1, 1]);
  assert.deepEqual([...request.subarray(136, 144)], [2, 0, 0, 0, 10, 0, 0, 1]);
});

Deno.test("group_source_req for IPv6 holds two sockaddr_in6", () => {
  const request = groupSourceReq(2, rawAddress("ff3e::8000:1"), rawAddress("fd00::1"));
  assert.deepEqual([...request.subarray(8, 10)], [10, 0]);
  assert.deepEqual([...request.subarray(16, 18)], [0xff, 0x3e]);
  assert.deepEqual([...request.subarray(136, 138)], [10, 0]);
  assert.deepEqual([...request.subarray(144, 146)], [0xfd, 0x00]);
  assert.equal(request[159], 1);
});

Deno.test("group_source_req refuses a source of the other family", () => {
  assertInvalid(
    () => groupSourceReq(2, rawAddress("232.1.1.1"), rawAddress("fd00::1")),
    'Invalid source family: "IPv6" (expected IPv4, the group\'s)',
  );
  assertInvalid(
    () => groupSourceReq(2, rawAddress("ff3e::1"), rawAddress("10.0.0.1")),
    'Invalid source family: "IPv4" (expected IPv6, the group\'s)',
  );
});

Deno.test("membership structures refuse the wrong family, naming the value", () => {
  assertInvalid(
    () => ipMreqn(bytes("ff3e::1"), bytes("0.0.0.0"), 0),
    "Invalid group bytes: 16 bytes (expected 4 bytes (IPv4))",
  );
  assertInvalid(
    () => ipMreqn(null, bytes("fd00::1"), 0),
    "Invalid interface address bytes: 16 bytes (expected 4 bytes (IPv4))",
  );
  assertInvalid(
    () => ipMreqSource(bytes("232.1.1.1"), null, bytes("fd00::1")),
    "Invalid source bytes: 16 bytes (expected 4 bytes (IPv4))",
  );
  assertInvalid(
    () => ipv6Mreq(bytes("239.1.1.1"), 0),
    "Invalid IPv6 address bytes: 4 bytes (expected 16 bytes)",
  );
  assertInvalid(
    () => groupReq(1, { family: "IPv6", bytes: bytes("239.1.1.1") }),
    "Invalid IPv6 address bytes: 4 bytes (expected 16 bytes)",
  );
});
