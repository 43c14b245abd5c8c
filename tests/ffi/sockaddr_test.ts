import assert from "node:assert/strict";
import { decodeSockaddr, encodeSockaddr, sockaddrFamily, sockaddrFor } from "../../ffi/sockaddr.ts";
import { InvalidValueError } from "../../lib/errors.ts";

Deno.test("sockaddr_in is family, big-endian port, address, zero padding", () => {
  const bytes = sockaddrFor({ address: "239.1.2.3", port: 5000 });
  assert.deepEqual(
    [...bytes],
    [2, 0, 0x13, 0x88, 239, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0],
  );
});

Deno.test("sockaddr_in6 carries flowinfo 0, address and host-order scope id", () => {
  const bytes = sockaddrFor({ address: "ff32::8000:1", port: 19779, scopeId: 0x01020304 });
  assert.equal(bytes.length, 28);
  assert.deepEqual([...bytes.subarray(0, 8)], [10, 0, 0x4d, 0x43, 0, 0, 0, 0]);
  assert.deepEqual(
    [...bytes.subarray(8, 24)],
    [0xff, 0x32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 1],
  );
  assert.deepEqual([...bytes.subarray(24, 28)], [4, 3, 2, 1]);
});

Deno.test("encodeSockaddr writes at an offset and clears stale bytes", () => {
  const target = new Uint8Array(64).fill(0xee);
  const length = encodeSockaddr(target, { address: "10.0.0.1", port: 1 }, 8);
  assert.equal(length, 16);
  assert.deepEqual([...target.subarray(0, 8)], new Array(8).fill(0xee));
  assert.deepEqual([...target.subarray(8, 24)], [2, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(target[24], 0xee);
});

Deno.test("decodeSockaddr round-trips both families", () => {
  for (
    const endpoint of [
      { address: "127.0.0.1", port: 0, scopeId: 0 },
      { address: "232.255.0.1", port: 65535, scopeId: 0 },
      { address: "fe80::1", port: 9, scopeId: 7 },
      { address: "ff3e::1234", port: 19779, scopeId: 0 },
    ]
  ) {
    const decoded = decodeSockaddr(sockaddrFor(endpoint));
    assert.deepEqual(decoded, {
      family: endpoint.address.includes(":") ? "IPv6" : "IPv4",
      ...endpoint,
    });
  }
});

Deno.test("sockaddrFamily reports null for other families and decode refuses them", () => {
  const unix = new Uint8Array(16);
  unix[0] = 1; // AF_UNIX
  assert.equal(sockaddrFamily(unix), null);
  assert.throws(() => decodeSockaddr(unix), InvalidValueError);
});

Deno.test("encodeSockaddr refuses bad ports and addresses, naming the value", () => {
  assert.throws(() => sockaddrFor({ address: "1.2.3.4", port: 70000 }), /70000/);
  assert.throws(() => sockaddrFor({ address: "1.2.3.4", port: -1 }), InvalidValueError);
  assert.throws(() => sockaddrFor({ address: "1.2.3", port: 1 }), /1\.2\.3/);
});
