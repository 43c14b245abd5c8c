import assert from "node:assert/strict";
import { PLATFORM } from "../../ffi/constants.ts";
import { check } from "../../ffi/errno.ts";
import { libc } from "../../ffi/libc.ts";
import { MessageBatch, parseControlMessages, ReceivedMetadata } from "../../ffi/msghdr.ts";
import { decodeSockaddr } from "../../ffi/sockaddr.ts";
import {
  bindTo,
  closeFd,
  connectTo,
  localEndpoint,
  setIntOption,
  waitForFd,
} from "../../ffi/socket.ts";

const gc = (globalThis as { gc?: () => void }).gc;

/** A bound receiver and a connected sender on 127.0.0.1 (unicast on loopback only). */
function loopbackPair(): { rx: number; tx: number; port: number } {
  const rx = check(
    libc().socket(PLATFORM.AF_INET, PLATFORM.SOCK_DGRAM | PLATFORM.SOCK_NONBLOCK, 0),
    "socket",
  );
  setIntOption(rx, PLATFORM.SOL_SOCKET, PLATFORM.SO_RCVBUF, 4 << 20, "SO_RCVBUF");
  bindTo(rx, { address: "127.0.0.1", port: 0 });
  setIntOption(rx, PLATFORM.IPPROTO_IP, PLATFORM.IP_RECVTTL, 1, "IP_RECVTTL");
  setIntOption(rx, PLATFORM.IPPROTO_IP, PLATFORM.IP_RECVTOS, 1, "IP_RECVTOS");
  setIntOption(rx, PLATFORM.SOL_SOCKET, PLATFORM.SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
  const port = localEndpoint(rx).port;
  const tx = check(
    libc().socket(PLATFORM.AF_INET, PLATFORM.SOCK_DGRAM | PLATFORM.SOCK_NONBLOCK, 0),
    "socket",
  );
  bindTo(tx, { address: "127.0.0.1", port: 0 });
  setIntOption(tx, PLATFORM.IPPROTO_IP, PLATFORM.IP_TTL, 7, "IP_TTL");
  setIntOption(tx, PLATFORM.IPPROTO_IP, PLATFORM.IP_TOS, 0xb8, "IP_TOS");
  connectTo(tx, { address: "127.0.0.1", port });
  return { rx, tx, port };
}

/** Allocates garbage so that a collection has something to move and free. */
function churn(): number {
  let sum = 0;
  for (let i = 0; i < 64; i++) sum += new Uint8Array(4096 + i).length;
  return sum;
}

// Proven able to fail: with the iovec array held only by a local during construction, the first
// sendmmsg after gc() fails (EINVAL / EMSGSIZE) — the bug the FFI memory rule is about.
Deno.test("sendmmsg/recvmmsg keep every pointed-to buffer alive across forced GC", async () => {
  assert.ok(gc !== undefined, "run with --v8-flags=--expose-gc");
  const { rx, tx } = loopbackPair();
  const txLocal = localEndpoint(tx);
  try {
    const rounds = 300;
    const perRound = 16;
    for (let round = 0; round < rounds; round++) {
      // A fresh batch every few rounds, with nothing but the batch object holding its buffers.
      const send = new MessageBatch(perRound, 200 + (round % 7));
      const receive = new MessageBatch(perRound, 2048, { controlSize: 256, withNames: true });
      for (let i = 0; i < perRound; i++) {
        const payload = send.payloads[i];
        payload.fill(i + round);
        new DataView(payload.buffer, payload.byteOffset).setUint32(0, round * perRound + i);
        send.setLength(i, payload.length);
      }
      churn();
      gc();
      const sent = check(libc().sendmmsg(tx, send.headers, perRound, 0), "sendmmsg");
      assert.equal(sent, perRound);
      for (let i = 0; i < perRound; i++) assert.equal(send.receivedLength(i), send.payloadSize);
      churn();
      gc();
      let got = 0;
      const meta = new ReceivedMetadata();
      while (got < perRound) {
        receive.resetForReceive();
        const n = Number(
          libc().recvmmsg(rx, receive.headers, perRound, PLATFORM.MSG_DONTWAIT, null),
        );
        if (n < 0) {
          assert.ok((await waitForFd(rx, PLATFORM.POLLIN, 1000)) !== 0, "datagrams must arrive");
          continue;
        }
        for (let i = 0; i < n; i++) {
          const index = got + i;
          const length = receive.receivedLength(i);
          assert.equal(length, send.payloadSize, "EMSGSIZE-free, full length");
          const payload = receive.payloads[i];
          assert.equal(
            new DataView(payload.buffer, payload.byteOffset).getUint32(0),
            round * perRound + index,
          );
          for (let b = 4; b < length; b++) {
            if (payload[b] !== ((index + round) & 0xff)) assert.fail(`byte ${b} of ${index}`);
          }
          assert.equal(decodeSockaddr(receive.nameOf(i)!).port, txLocal.port);
          receive.readMetadata(i, meta);
          assert.equal(meta.ttl, 7);
          assert.equal(meta.tos, 0xb8);
          assert.ok(meta.timestampNs > 0n);
        }
        got += n;
      }
    }
  } finally {
    closeFd(tx);
    closeFd(rx);
  }
});

Deno.test("recvmsg reads one slot of a batch through its msghdr", async () => {
  const { rx, tx } = loopbackPair();
  try {
    const batch = new MessageBatch(2, 64, { controlSize: 128, withNames: true });
    libc().send(tx, new Uint8Array([9, 8, 7]), 3n, 0);
    await waitForFd(rx, PLATFORM.POLLIN, 1000);
    batch.resetSlot(1);
    const n = check(libc().recvmsg(rx, batch.headersFrom(1), PLATFORM.MSG_DONTWAIT), "recvmsg");
    assert.equal(n, 3);
    assert.deepEqual([...batch.payloads[1].subarray(0, 3)], [9, 8, 7]);
    const meta = new ReceivedMetadata();
    batch.readMetadata(1, meta);
    assert.equal(meta.ttl, 7);
  } finally {
    closeFd(tx);
    closeFd(rx);
  }
});

Deno.test("parseControlMessages decodes hand-built cmsgs and stops on bad lengths", () => {
  // Two cmsgs: IP_TTL (int 64) and IP_TOS (u8 0x88), each CMSG_SPACE-aligned to 8.
  const control = new Uint8Array(64);
  const view = new DataView(control.buffer);
  view.setBigUint64(0, 20n, true);
  view.setInt32(8, PLATFORM.IPPROTO_IP, true);
  view.setInt32(12, PLATFORM.IP_TTL, true);
  view.setInt32(16, 64, true);
  view.setBigUint64(24, 17n, true);
  view.setInt32(32, PLATFORM.IPPROTO_IP, true);
  view.setInt32(36, PLATFORM.IP_TOS, true);
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

Deno.test("MessageBatch refuses impossible sizes", () => {
  assert.throws(() => new MessageBatch(0, 10), /batch count/);
  assert.throws(() => new MessageBatch(4, 70000), /payload size/);
});

Deno.test("parseControlMessages reads SCM_TIMESTAMPNS exactly, also within one second", () => {
  const control = new Uint8Array(64);
  const view = new DataView(control.buffer);
  const timestamp = (seconds: number, nanoseconds: number) => {
    view.setBigUint64(0, 32n, true); // 16-byte header + struct timespec
    view.setInt32(8, PLATFORM.SOL_SOCKET, true);
    view.setInt32(12, PLATFORM.SCM_TIMESTAMPNS, true);
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
