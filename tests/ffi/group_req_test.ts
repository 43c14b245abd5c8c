import assert from "node:assert/strict";
import { groupReq, groupSourceReq, ipMreqn, ipMreqSource, ipv6Mreq } from "../../ffi/group_req.ts";

Deno.test("ip_mreqn: group, local address, little-endian ifindex", () => {
  assert.deepEqual([...ipMreqn("239.1.2.3", "10.0.0.2", 0x0102)], [
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

Deno.test("ip_mreq_source: group, interface, source (Linux order)", () => {
  assert.deepEqual([...ipMreqSource("232.1.1.1", "10.0.0.2", "10.0.0.1")], [
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
});

Deno.test("ipv6_mreq: group then ifindex", () => {
  const bytes = ipv6Mreq("ff3e::1", 5);
  assert.equal(bytes.length, 20);
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0x3e]);
  assert.equal(bytes[15], 1);
  assert.deepEqual([...bytes.subarray(16)], [5, 0, 0, 0]);
});

Deno.test("group_req is 136 bytes: u32 interface, 4 bytes padding, sockaddr_storage", () => {
  const bytes = groupReq(3, "239.1.2.3");
  assert.equal(bytes.length, 136);
  assert.deepEqual([...bytes.subarray(0, 8)], [3, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...bytes.subarray(8, 16)], [2, 0, 0, 0, 239, 1, 2, 3]);
  assert.ok(bytes.subarray(16).every((b) => b === 0));
});

Deno.test("group_source_req is 264 bytes with the source at offset 136", () => {
  const bytes = groupSourceReq(4, "232.1.1.1", "10.0.0.1");
  assert.equal(bytes.length, 264);
  assert.deepEqual([...bytes.subarray(0, 4)], [4, 0, 0, 0]);
  assert.deepEqual([...bytes.subarray(8, 16)], [2, 0, 0, 0, 232, 1, 1, 1]);
  assert.deepEqual([...bytes.subarray(136, 144)], [2, 0, 0, 0, 10, 0, 0, 1]);
});

Deno.test("group_source_req for IPv6 holds two sockaddr_in6", () => {
  const bytes = groupSourceReq(2, "ff3e::8000:1", "fd00::1");
  assert.deepEqual([...bytes.subarray(8, 10)], [10, 0]);
  assert.deepEqual([...bytes.subarray(16, 18)], [0xff, 0x3e]);
  assert.deepEqual([...bytes.subarray(136, 138)], [10, 0]);
  assert.deepEqual([...bytes.subarray(144, 146)], [0xfd, 0x00]);
  assert.equal(bytes[159], 1);
});

Deno.test("membership structures refuse the wrong family, naming the value", () => {
  assert.throws(() => ipMreqn("ff3e::1", "0.0.0.0", 0), /ff3e::1/);
  assert.throws(() => ipv6Mreq("239.1.1.1", 0), /239\.1\.1\.1/);
});
