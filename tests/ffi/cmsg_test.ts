// Tests of walking control messages (CMSG_FIRSTHDR / CMSG_NXTHDR) into ReceivedMetadata, on
// hand-built buffers.

import assert from "node:assert/strict";
import { PLATFORM } from "../../ffi/constants.ts";
import { parseControlMessages, ReceivedMetadata } from "../../ffi/cmsg.ts";

/** Writes a 16-byte cmsghdr (64-bit cmsg_len, level, type) at `offset`. */
function cmsgHeader(view: DataView, offset: number, length: number, level: number, type: number) {
  view.setBigUint64(offset, BigInt(length), true);
  view.setInt32(offset + 8, level, true);
  view.setInt32(offset + 12, type, true);
}

Deno.test("parseControlMessages decodes hand-built cmsgs and stops on bad lengths", () => {
  // Two cmsgs: IP_TTL (int 64) and IP_TOS (u8 0x88), each CMSG_SPACE-aligned to 8.
  const control = new Uint8Array(64);
  const view = new DataView(control.buffer);
  cmsgHeader(view, 0, 20, PLATFORM.IPPROTO_IP, PLATFORM.IP_TTL);
  view.setInt32(16, 64, true);
  cmsgHeader(view, 24, 17, PLATFORM.IPPROTO_IP, PLATFORM.IP_TOS);
  control[40] = 0x88;
  const out = new ReceivedMetadata();
  parseControlMessages(control, 0, 41, out);
  assert.equal(out.ttl, 64);
  assert.equal(out.tos, 0x88);
  view.setBigUint64(24, 4096n, true); // cmsg_len beyond the buffer: the walk must stop there
  parseControlMessages(control, 0, 64, out);
  assert.equal(out.ttl, 64);
  assert.equal(out.tos, -1);
  view.setBigUint64(0, 3n, true); // shorter than a header
  parseControlMessages(control, 0, 64, out);
  assert.equal(out.ttl, -1);
});

Deno.test("parseControlMessages reads SCM_TIMESTAMPNS exactly, also within one second", () => {
  const control = new Uint8Array(64);
  const view = new DataView(control.buffer);
  const timestamp = (seconds: number, nanoseconds: number) => {
    cmsgHeader(view, 0, 32, PLATFORM.SOL_SOCKET, PLATFORM.SCM_TIMESTAMPNS); // + struct timespec
    view.setBigInt64(16, BigInt(seconds), true);
    view.setBigInt64(24, BigInt(nanoseconds), true);
  };
  const out = new ReceivedMetadata();
  timestamp(1_795_462_333, 385_993_228);
  parseControlMessages(control, 0, 32, out);
  assert.equal(out.timestampNs, 1_795_462_333_385_993_228n);
  timestamp(1_795_462_333, 999_999_999);
  parseControlMessages(control, 0, 32, out);
  assert.equal(out.timestampNs, 1_795_462_333_999_999_999n);
  timestamp(1_795_462_334, 0);
  parseControlMessages(control, 0, 32, out);
  assert.equal(out.timestampNs, 1_795_462_334_000_000_000n);
  timestamp(2 ** 33 + 5, 7); // past 2038 and past 32 bits of seconds
  parseControlMessages(control, 0, 32, out);
  assert.equal(out.timestampNs, (2n ** 33n + 5n) * 1_000_000_000n + 7n);
  view.setUint32(4, 1, true); // cmsg_len of 2^32 + 32: beyond the data, so the walk stops
  parseControlMessages(control, 0, 32, out);
  assert.equal(out.timestampNs, -1n);
});

Deno.test("parseControlMessages reads packet info and clears what the next datagram lacks", () => {
  // IP_PKTINFO: struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }.
  const control = new Uint8Array(64);
  const view = new DataView(control.buffer);
  cmsgHeader(view, 0, 28, PLATFORM.IPPROTO_IP, PLATFORM.IP_PKTINFO);
  view.setInt32(16, 3, true);
  control.set([239, 1, 2, 3], 16 + PLATFORM.layout.inPktinfo.addr);
  const out = new ReceivedMetadata();
  parseControlMessages(control, 0, 28, out);
  assert.equal(out.interfaceIndex, 3);
  assert.equal(out.destinationFamily, "IPv4");
  assert.deepEqual([...out.destination.subarray(0, 4)], [239, 1, 2, 3]);
  parseControlMessages(control, 0, 0, out);
  assert.equal(out.interfaceIndex, 0);
  assert.equal(out.destinationFamily, null);
  assert.equal(out.ttl, -1);
  assert.equal(out.tos, -1);
  assert.equal(out.timestampNs, -1n);
});

Deno.test("parseControlMessages: the aligned word walk equals the byte walk, value for value", () => {
  // One buffer laid out as a Linux IPv4 receive delivers it (timestamp, packet info, TTL, TOS),
  // and the same bytes again at an odd offset, where the walk reads through a DataView.
  const build = (control: Uint8Array, at: number) => {
    const view = new DataView(control.buffer, control.byteOffset);
    cmsgHeader(view, at, 32, PLATFORM.SOL_SOCKET, PLATFORM.SCM_TIMESTAMPNS);
    view.setBigInt64(at + 16, 2n ** 33n + 5n, true);
    view.setBigInt64(at + 24, 999_999_999n, true);
    cmsgHeader(view, at + 32, 28, PLATFORM.IPPROTO_IP, PLATFORM.IP_PKTINFO);
    view.setInt32(at + 48, 7, true);
    control.set([239, 1, 2, 3], at + 56);
    cmsgHeader(view, at + 64, 20, PLATFORM.IPPROTO_IP, PLATFORM.IP_TTL);
    view.setInt32(at + 80, 255, true);
    cmsgHeader(view, at + 88, 17, PLATFORM.IPPROTO_IP, PLATFORM.IP_TOS);
    control[at + 104] = 0xb8;
    return 105;
  };
  const aligned = new Uint8Array(256);
  const length = build(aligned, 8);
  const odd = new Uint8Array(new ArrayBuffer(257), 1); // byteOffset 1: not 4-byte aligned
  build(odd, 8);
  const fromWords = new ReceivedMetadata();
  const fromBytes = new ReceivedMetadata();
  parseControlMessages(aligned, 8, length, fromWords);
  parseControlMessages(odd, 8, length, fromBytes);
  assert.deepEqual(fromWords, fromBytes);
  assert.equal(fromWords.timestampNs, (2n ** 33n + 5n) * 1_000_000_000n + 999_999_999n);
  assert.deepEqual(
    [fromWords.ttl, fromWords.tos, fromWords.interfaceIndex, fromWords.destinationFamily],
    [255, 0xb8, 7, "IPv4"],
  );
  assert.deepEqual([...fromWords.destination.subarray(0, 4)], [239, 1, 2, 3]);
});
