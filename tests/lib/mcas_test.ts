import assert from "node:assert/strict";
import { InvalidValueError } from "../../lib/errors.ts";
import {
  classifyDatagram,
  createMcasHeader,
  decodeMcas,
  encodeMcasInto,
  formatSenderId,
  MCAS_HEADER_SIZE,
  MCAS_MAGIC,
  MCAS_PADDING_BYTE,
  MCAS_VERSION,
  McasEncoder,
  type McasHeader,
  parseSenderId,
  randomSenderId,
} from "../../lib/mcas.ts";

const U64_MAX = 2n ** 64n - 1n;

// ttl 64, dscp 46, sequence 0x0102030405060708, timestamp 0x1112131415161718,
// sender id 0xa1a2a3a4a5a6a7a8.
// deno-fmt-ignore
const KNOWN_HEADER = new Uint8Array([
  0x4d, 0x43, 0x41, 0x53, // magic "MCAS"
  0x01, // version
  0x00, // flags
  0x40, // ttl 64
  0x2e, // dscp 46
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // sequence
  0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, // timestamp ns
  0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, // sender id
]);

const KNOWN_FIELDS: McasHeader = {
  flags: 0,
  ttl: 64,
  dscp: 46,
  sequence: 0x0102030405060708n,
  timestampNs: 0x1112131415161718n,
  senderId: 0xa1a2a3a4a5a6a7a8n,
};

Deno.test("constants match the contract", () => {
  assert.equal(MCAS_HEADER_SIZE, 32);
  assert.equal(MCAS_MAGIC, 0x4d434153);
  assert.equal(MCAS_VERSION, 1);
  assert.equal(MCAS_PADDING_BYTE, 0xa5);
});

Deno.test("McasEncoder writes every field at its byte offset", () => {
  const encoder = new McasEncoder(32, { ttl: 64, dscp: 46, senderId: KNOWN_FIELDS.senderId });
  const datagram = encoder.encode(KNOWN_FIELDS.sequence, KNOWN_FIELDS.timestampNs);
  assert.deepEqual(datagram, KNOWN_HEADER);
});

Deno.test("encodeMcasInto() writes the known header and the padding", () => {
  const datagram = new Uint8Array(100);
  assert.equal(encodeMcasInto(datagram, KNOWN_FIELDS), datagram);
  assert.deepEqual(datagram.subarray(0, 32), KNOWN_HEADER);
  assert.ok(datagram.subarray(32).every((byte) => byte === 0xa5));
  const unpadded = new Uint8Array(40);
  encodeMcasInto(unpadded, KNOWN_FIELDS, { fillPadding: false });
  assert.deepEqual(unpadded.subarray(0, 32), KNOWN_HEADER);
  assert.ok(unpadded.subarray(32).every((byte) => byte === 0));
});

Deno.test("encodeMcasInto() writes into a view at an offset", () => {
  const backing = new Uint8Array(80).fill(0x11);
  const view = backing.subarray(8, 72);
  encodeMcasInto(view, KNOWN_FIELDS);
  assert.deepEqual(backing.subarray(8, 40), KNOWN_HEADER);
  assert.ok(backing.subarray(40, 72).every((byte) => byte === 0xa5));
  assert.ok(backing.subarray(0, 8).every((byte) => byte === 0x11));
  assert.ok(backing.subarray(72).every((byte) => byte === 0x11));
});

Deno.test("McasEncoder pads with 0xA5 and reuses one buffer", () => {
  const encoder = new McasEncoder(1500, { ttl: 5, dscp: 0, senderId: 9n });
  const first = encoder.encode(0n, 1n);
  assert.equal(first.length, 1500);
  assert.equal(encoder.size, 1500);
  assert.ok(first.subarray(32).every((byte) => byte === 0xa5));
  const second = encoder.encode(1n, 2n);
  assert.equal(second, first);
  assert.equal(encoder.datagram, first);
  assert.ok(second.subarray(32).every((byte) => byte === 0xa5));
  const header = createMcasHeader();
  assert.equal(decodeMcas(second, header), "ok");
  assert.deepEqual(header, {
    flags: 0,
    ttl: 5,
    dscp: 0,
    sequence: 1n,
    timestampNs: 2n,
    senderId: 9n,
  });
  assert.equal(encoder.ttl, 5);
  assert.equal(encoder.dscp, 0);
  assert.equal(encoder.senderId, 9n);
});

Deno.test("McasEncoder defaults and limits", () => {
  const encoder = new McasEncoder(32);
  assert.equal(encoder.ttl, 100);
  assert.equal(encoder.dscp, 0);
  assert.equal(typeof encoder.senderId, "bigint");
  assert.equal(new McasEncoder(65507, { senderId: 1n }).datagram.length, 65507);
  for (const size of [31, 65508, 0, -1, 100.5, NaN]) {
    assert.throws(() => new McasEncoder(size), InvalidValueError, String(size));
  }
  assert.throws(() => new McasEncoder(32, { ttl: 256 }), InvalidValueError);
  assert.throws(() => new McasEncoder(32, { dscp: 64 }), InvalidValueError);
  assert.throws(() => new McasEncoder(32, { senderId: -1n }), InvalidValueError);
  assert.throws(() => new McasEncoder(32, { senderId: 2n ** 64n }), InvalidValueError);
  assert.throws(() => encoder.encode(-1n, 0n), InvalidValueError);
  assert.throws(() => encoder.encode(0n, 2n ** 64n), InvalidValueError);
});

Deno.test("u64 fields round-trip exactly at the extremes", () => {
  const values = [0n, 1n, 2n ** 53n + 1n, 2n ** 63n, U64_MAX];
  const header = createMcasHeader();
  for (const value of values) {
    const datagram = new McasEncoder(32, { senderId: value }).encode(value, value);
    assert.equal(decodeMcas(datagram, header), "ok");
    assert.equal(header.sequence, value);
    assert.equal(header.timestampNs, value);
    assert.equal(header.senderId, value);
  }
  const max = new McasEncoder(32, { senderId: U64_MAX }).encode(U64_MAX, U64_MAX);
  assert.ok(max.subarray(8).every((byte) => byte === 0xff));
  const exact = new McasEncoder(32, { senderId: 0n }).encode(2n ** 53n + 1n, 0n);
  assert.deepEqual(exact.subarray(8, 16), new Uint8Array([0, 0x20, 0, 0, 0, 0, 0, 1]));
});

Deno.test("decodeMcas() reads the known header without touching the input", () => {
  const datagram = new Uint8Array(64).fill(0xa5);
  datagram.set(KNOWN_HEADER);
  const before = datagram.slice();
  const header = createMcasHeader();
  assert.equal(decodeMcas(datagram, header), "ok");
  assert.deepEqual(header, KNOWN_FIELDS);
  assert.deepEqual(datagram, before);
});

Deno.test("decodeMcas() reports foreign datagrams and leaves the header alone", () => {
  const table: [Uint8Array, string][] = [
    [new Uint8Array(0), "short"],
    [KNOWN_HEADER.slice(0, 31), "short"],
    [new TextEncoder().encode("MCAS"), "short"],
    [new Uint8Array(32), "bad-magic"],
    [Uint8Array.from(KNOWN_HEADER, (byte, i) => i === 0 ? 0x6d : byte), "bad-magic"],
    [Uint8Array.from(KNOWN_HEADER, (byte, i) => i === 3 ? 0x54 : byte), "bad-magic"],
    [Uint8Array.from(KNOWN_HEADER, (byte, i) => i === 4 ? 0 : byte), "bad-version"],
    [Uint8Array.from(KNOWN_HEADER, (byte, i) => i === 4 ? 2 : byte), "bad-version"],
    [Uint8Array.from(KNOWN_HEADER, (byte, i) => i === 4 ? 0xff : byte), "bad-version"],
  ];
  for (const [datagram, status] of table) {
    const header = createMcasHeader();
    const before = datagram.slice();
    assert.equal(decodeMcas(datagram, header), status);
    assert.deepEqual(header, createMcasHeader());
    assert.deepEqual(datagram, before);
    assert.equal(classifyDatagram(datagram), "foreign");
  }
});

Deno.test("classifyDatagram(): reserved flags and odd fields are still MCAS", () => {
  assert.equal(classifyDatagram(KNOWN_HEADER), "mcas");
  const odd = Uint8Array.from(KNOWN_HEADER, (byte, i) => i === 5 ? 0xff : i === 7 ? 0xff : byte);
  assert.equal(classifyDatagram(odd), "mcas");
  const header = createMcasHeader();
  assert.equal(decodeMcas(odd, header), "ok");
  assert.equal(header.flags, 0xff);
  assert.equal(header.dscp, 0xff); // reported raw, not masked
  const long = new Uint8Array(9000).fill(0);
  long.set(KNOWN_HEADER);
  assert.equal(classifyDatagram(long), "mcas"); // padding content is not checked
});

Deno.test("decodeMcas() survives random input", () => {
  const header = createMcasHeader();
  const datagram = new Uint8Array(48);
  for (let i = 0; i < 2000; i++) {
    crypto.getRandomValues(datagram);
    if (i % 2 === 0) datagram.set([0x4d, 0x43, 0x41, 0x53, 1]);
    const status = decodeMcas(datagram, header);
    assert.ok(["ok", "bad-magic", "bad-version"].includes(status));
    assert.ok(header.sequence >= 0n && header.sequence <= U64_MAX);
  }
});

Deno.test("encodeMcasInto() refuses bad fields and short targets", () => {
  const bad: Partial<McasHeader>[] = [
    { ttl: 256 },
    { ttl: -1 },
    { ttl: 1.5 },
    { dscp: 64 },
    { flags: 256 },
    { sequence: -1n },
    { timestampNs: 2n ** 64n },
    { senderId: 2n ** 64n },
  ];
  for (const change of bad) {
    assert.throws(
      () => encodeMcasInto(new Uint8Array(32), { ...KNOWN_FIELDS, ...change }),
      InvalidValueError,
      JSON.stringify(change, (_key, value) => typeof value === "bigint" ? `${value}n` : value),
    );
  }
  assert.throws(() => encodeMcasInto(new Uint8Array(31), KNOWN_FIELDS), InvalidValueError);
});

Deno.test("formatSenderId() writes 16 lowercase hex digits", () => {
  assert.equal(formatSenderId(0n), "0000000000000000");
  assert.equal(formatSenderId(0xabcn), "0000000000000abc");
  assert.equal(formatSenderId(0xa1a2a3a4a5a6a7a8n), "a1a2a3a4a5a6a7a8");
  assert.equal(formatSenderId(U64_MAX), "ffffffffffffffff");
  assert.throws(() => formatSenderId(-1n), InvalidValueError);
  assert.throws(() => formatSenderId(2n ** 64n), InvalidValueError);
  assert.equal(parseSenderId("a1a2a3a4a5a6a7a8"), 0xa1a2a3a4a5a6a7a8n);
  assert.equal(parseSenderId("FFFFFFFFFFFFFFFF"), U64_MAX);
  for (const text of ["", "g", "0x12", "12345678901234567", " 1"]) {
    assert.throws(() => parseSenderId(text), InvalidValueError, text);
  }
});

Deno.test("randomSenderId() gives distinct 64-bit ids", () => {
  const ids = new Set<bigint>();
  for (let i = 0; i < 100; i++) {
    const id = randomSenderId();
    assert.ok(id >= 0n && id <= U64_MAX);
    assert.equal(formatSenderId(id).length, 16);
    ids.add(id);
  }
  assert.equal(ids.size, 100);
});
