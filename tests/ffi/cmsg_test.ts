// Tests of walking control messages (CMSG_FIRSTHDR / CMSG_NXTHDR) into ReceivedMetadata, on
// hand-built buffers.

import assert from "node:assert/strict";
import { PLATFORM } from "../../ffi/constants.ts";
import { ControlLayoutMemo, parseControlMessages, ReceivedMetadata } from "../../ffi/cmsg.ts";

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

// One slot's control messages, Linux-shaped (64-bit cmsg_len, CMSG_ALIGN 8), from a list of kinds.
type Kind = "ttl" | "tos" | "pkt" | "ts" | "hop" | "tclass" | "pkt6" | "bad";
function writeSlot(control: Uint8Array, start: number, kinds: Kind[], seed: number): number {
  const view = new DataView(control.buffer);
  control.fill(0xee, start, start + 256);
  let o = start;
  const put = (level: number, type: number, dataLength: number, fill: (data: number) => void) => {
    cmsgHeader(view, o, 16 + dataLength, level, type);
    fill(o + 16);
    o += (16 + dataLength + 7) & ~7;
  };
  for (const kind of kinds) {
    const v = seed++;
    if (kind === "ttl") {
      put(PLATFORM.IPPROTO_IP, PLATFORM.IP_TTL, 4, (d) => view.setInt32(d, v % 256, true));
    }
    if (kind === "tos") {
      put(PLATFORM.IPPROTO_IP, PLATFORM.IP_TOS, 1, (d) => control[d] = (v * 7) % 256);
    }
    if (kind === "pkt") {
      put(PLATFORM.IPPROTO_IP, PLATFORM.IP_PKTINFO, 12, (d) => {
        view.setInt32(d + PLATFORM.layout.inPktinfo.ifindex, v, true);
        control.set([239, v % 256, 2, 3], d + PLATFORM.layout.inPktinfo.addr);
      });
    }
    if (kind === "ts") {
      put(PLATFORM.SOL_SOCKET, PLATFORM.SCM_TIMESTAMPNS, 16, (d) => {
        view.setBigInt64(d, BigInt(2 ** 33 + v), true);
        view.setBigInt64(d + 8, BigInt((v * 104_729) % 1_000_000_000), true);
      });
    }
    if (kind === "hop") {
      put(PLATFORM.IPPROTO_IPV6, PLATFORM.IPV6_HOPLIMIT, 4, (d) => view.setInt32(d, v % 256, true));
    }
    if (kind === "tclass") {
      put(PLATFORM.IPPROTO_IPV6, PLATFORM.IPV6_TCLASS, 4, (d) => view.setInt32(d, v % 256, true));
    }
    if (kind === "pkt6") {
      put(PLATFORM.IPPROTO_IPV6, PLATFORM.IPV6_PKTINFO, 20, (d) => {
        for (let b = 0; b < 16; b++) {
          control[d + PLATFORM.layout.in6Pktinfo.addr + b] = (v + b * 13) % 256;
        }
        view.setUint32(d + PLATFORM.layout.in6Pktinfo.ifindex, 0x8000_0000 + v, true);
      });
    }
    if (kind === "bad") {
      cmsgHeader(view, o, 4096, PLATFORM.IPPROTO_IP, PLATFORM.IP_TTL);
      o += 16;
    }
  }
  return o - start;
}

Deno.test("ControlLayoutMemo reads exactly what the walk reads, also when the layout changes mid-batch", () => {
  const linux = PLATFORM.layout.cmsgHeaderSize === 16 && PLATFORM.layout.cmsgAlign === 8;
  if (!linux) return;
  const v4: Kind[] = ["ttl", "tos", "pkt", "ts"];
  const v6: Kind[] = ["hop", "tclass", "pkt6", "ts"];
  const slots: { kinds: Kind[]; cut?: number }[] = [
    { kinds: v4 },
    { kinds: v4 },
    { kinds: v4 }, // the memo is made, then hit
    { kinds: ["ttl", "tos", "pkt"] }, // no timestamp
    { kinds: v4 },
    { kinds: v6 },
    { kinds: v6 }, // IPv6, hit again
    { kinds: v4, cut: 8 }, // msg_controllen shorter than the messages: the last one dropped
    { kinds: v4, cut: 8 },
    { kinds: ["ts", "pkt", "tos", "ttl"] },
    { kinds: ["ts", "pkt", "tos", "ttl"] }, // other order
    { kinds: ["ttl", "ttl", "ts"] },
    { kinds: ["ttl", "ttl", "ts"] }, // a value set twice
    { kinds: ["ttl", "bad", "ts"] },
    { kinds: ["ttl", "bad", "ts"] }, // a bad length ends the walk
    { kinds: ["pkt6", "pkt", "ts"] },
    { kinds: ["pkt6", "pkt", "ts"] }, // both packet infos
    { kinds: ["ttl", "tos", "ts", "pkt"] }, // same length, other layout than v4
    { kinds: v4 },
    { kinds: [] },
    { kinds: v4 },
    { kinds: ["ttl", "ttl", "ttl", "ttl", "ttl", "ttl", "ttl", "ttl", "ttl", "ts"] }, // > 8 headers
  ];
  const control = new Uint8Array(slots.length * 256);
  const lengths = slots.map((slot, i) =>
    writeSlot(control, i * 256, slot.kinds, i * 31 + 3) - (slot.cut ?? 0)
  );
  const memo = new ControlLayoutMemo(control, 256);
  const fast = new ReceivedMetadata();
  const walked = new ReceivedMetadata();
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < slots.length; i++) {
      memo.read(i * 256, lengths[i], fast);
      parseControlMessages(control, i * 256, lengths[i], walked);
      assert.deepEqual({ ...fast, destination: [...fast.destination] }, {
        ...walked,
        destination: [...walked.destination],
      }, `slot ${i} (${slots[i].kinds.join(",")}), round ${round}`);
    }
  }
  // A few values, to show the comparison compares something.
  memo.read(5 * 256, lengths[5], fast);
  assert.equal(fast.destinationFamily, "IPv6");
  assert.equal(fast.interfaceIndex, 0x8000_0000 + 5 * 31 + 3 + 2);
  memo.read(3 * 256, lengths[3], fast);
  assert.equal(fast.hasTimestamp, false);
  assert.equal(fast.ttl, (3 * 31 + 3) % 256);
});
