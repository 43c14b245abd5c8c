import assert from "node:assert/strict";
import {
  addressLength,
  checkAddress,
  decodeSockaddr,
  encodeSockaddr,
  sockaddrAddressOffset,
  sockaddrFamily,
  sockaddrFor,
  sockaddrLength,
  sockaddrPort,
} from "../../ffi/sockaddr.ts";
import { InvalidValueError } from "../../lib/errors.ts";
import { rawEndpoint } from "./_sockets.ts";

/** Asserts that `fn` throws an InvalidValueError with exactly this message. */
function assertInvalid(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidValueError, String(error));
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("sockaddr_in is family, big-endian port, address, zero padding", () => {
  const bytes = sockaddrFor({ family: "IPv4", bytes: Uint8Array.of(239, 1, 2, 3), port: 5000 });
  assert.deepEqual(
    [...bytes],
    [2, 0, 0x13, 0x88, 239, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0],
  );
  assert.equal(bytes.length, sockaddrLength("IPv4"));
});

Deno.test("sockaddr_in6 carries flowinfo 0, address and host-order scope id", () => {
  const bytes = sockaddrFor(rawEndpoint("ff32::8000:1", 19779, 0x01020304));
  assert.equal(bytes.length, 28);
  assert.equal(sockaddrLength("IPv6"), 28);
  assert.deepEqual([...bytes.subarray(0, 8)], [10, 0, 0x4d, 0x43, 0, 0, 0, 0]);
  assert.deepEqual(
    [...bytes.subarray(8, 24)],
    [0xff, 0x32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 1],
  );
  assert.deepEqual([...bytes.subarray(24, 28)], [4, 3, 2, 1]);
});

Deno.test("encodeSockaddr writes at an offset and clears stale bytes", () => {
  const target = new Uint8Array(64).fill(0xee);
  const length = encodeSockaddr(target, rawEndpoint("10.0.0.1", 1), 8);
  assert.equal(length, 16);
  assert.deepEqual([...target.subarray(0, 8)], new Array(8).fill(0xee));
  assert.deepEqual([...target.subarray(8, 24)], [2, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(target[24], 0xee);
});

Deno.test("decodeSockaddr round-trips both families, bytes and all", () => {
  for (
    const [text, port, scopeId] of [
      ["127.0.0.1", 0, 0],
      ["232.255.0.1", 65535, 0],
      ["fe80::1", 9, 7],
      ["ff3e::1234", 19779, 0],
      ["::", 1, 0xffffffff],
    ] as const
  ) {
    const endpoint = rawEndpoint(text, port, scopeId);
    const encoded = sockaddrFor(endpoint);
    const decoded = decodeSockaddr(encoded);
    assert.deepEqual(decoded, endpoint, text);
    assert.equal(sockaddrFamily(encoded), endpoint.family);
    assert.equal(sockaddrPort(encoded), port);
    const offset = sockaddrAddressOffset(endpoint.family);
    assert.deepEqual(
      encoded.subarray(offset, offset + addressLength(endpoint.family)),
      endpoint.bytes,
    );
    encoded.fill(0, offset, offset + addressLength(endpoint.family));
    assert.deepEqual(decoded.bytes, endpoint.bytes, "the decoded bytes are a copy");
  }
  const within = new Uint8Array(64);
  encodeSockaddr(within, rawEndpoint("fd00::7", 40512, 3), 20);
  assert.deepEqual(decodeSockaddr(within, 20), rawEndpoint("fd00::7", 40512, 3), "at an offset");
  assert.deepEqual(
    decodeSockaddr(sockaddrFor({ family: "IPv4", bytes: Uint8Array.of(1, 2, 3, 4), port: 5 })),
    { family: "IPv4", bytes: Uint8Array.of(1, 2, 3, 4), port: 5, scopeId: 0 },
    "an absent scope id decodes as 0",
  );
  assert.deepEqual([addressLength("IPv4"), addressLength("IPv6")], [4, 16]);
  assert.deepEqual([sockaddrAddressOffset("IPv4"), sockaddrAddressOffset("IPv6")], [4, 8]);
});

Deno.test("sockaddrFamily reports null for other families and decode refuses them", () => {
  const unix = new Uint8Array(16);
  unix[0] = 1; // AF_UNIX
  assert.equal(sockaddrFamily(unix), null);
  assertInvalid(
    () => decodeSockaddr(unix),
    "Invalid sockaddr family: 1 (expected AF_INET or AF_INET6)",
  );
});

Deno.test("encodeSockaddr refuses bad ports and address bytes, naming the value", () => {
  const v4 = { family: "IPv4", bytes: Uint8Array.of(1, 2, 3, 4) } as const;
  assertInvalid(
    () => sockaddrFor({ ...v4, port: 70000 }),
    "Invalid port: 70000 (expected an integer from 0 to 65535)",
  );
  assertInvalid(
    () => sockaddrFor({ ...v4, port: -1 }),
    "Invalid port: -1 (expected an integer from 0 to 65535)",
  );
  assertInvalid(
    () => sockaddrFor({ ...v4, port: 1.5 }),
    "Invalid port: 1.5 (expected an integer from 0 to 65535)",
  );
  assertInvalid(
    () => sockaddrFor({ family: "IPv4", bytes: Uint8Array.of(1, 2, 3), port: 1 }),
    "Invalid IPv4 address bytes: 3 bytes (expected 4 bytes)",
  );
  assertInvalid(
    () => sockaddrFor({ family: "IPv6", bytes: Uint8Array.of(1, 2, 3, 4), port: 1 }),
    "Invalid IPv6 address bytes: 4 bytes (expected 16 bytes)",
  );
  assertInvalid(
    () => checkAddress({ family: "IPv5" as "IPv4", bytes: new Uint8Array(4) }),
    'Invalid address family: "IPv5" (expected IPv4 or IPv6)',
  );
  checkAddress(v4);
});
