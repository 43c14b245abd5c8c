// Tests of the datagram batches (MessageBatch, ReceivedBatch) on unicast loopback (127.0.0.1 and
// 127.0.0.2 only), with the FFI memory rule proven under forced GC. Control-message walking has
// its own file (cmsg_test.ts).

import assert from "node:assert/strict";
import { formatAddress } from "../../lib/address.ts";
import { InvalidValueError } from "../../lib/errors.ts";
import { PLATFORM } from "../../ffi/constants.ts";
import { check } from "../../ffi/errno.ts";
import { libc } from "../../ffi/libc.ts";
import { MessageBatch, ReceivedMetadata } from "../../ffi/msghdr.ts";
import { ReceivedBatch } from "../../ffi/received_batch.ts";
import { decodeSockaddr } from "../../ffi/sockaddr.ts";
import { UdpSocket } from "../../ffi/socket.ts";
import { bindTo, connectTo } from "./_sockets.ts";

const gc = (globalThis as { gc?: () => void }).gc;

/** A bound receiver (TTL, TOS and time asked for) on 127.0.0.1. */
function receiver(): UdpSocket {
  const rx = UdpSocket.open("IPv4");
  rx.setInt(PLATFORM.SOL_SOCKET, PLATFORM.SO_RCVBUF, 4 << 20, "SO_RCVBUF");
  bindTo(rx, "127.0.0.1", 0);
  rx.setInt(PLATFORM.IPPROTO_IP, PLATFORM.IP_RECVTTL, 1, "IP_RECVTTL");
  rx.setInt(PLATFORM.IPPROTO_IP, PLATFORM.IP_RECVTOS, 1, "IP_RECVTOS");
  rx.setInt(PLATFORM.SOL_SOCKET, PLATFORM.SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
  return rx;
}

/** A sender from `source` with TTL 7 and TOS 0xb8, connected to `rx`. */
function senderTo(rx: UdpSocket, source = "127.0.0.1"): UdpSocket {
  const tx = UdpSocket.open("IPv4");
  bindTo(tx, source, 0);
  tx.setInt(PLATFORM.IPPROTO_IP, PLATFORM.IP_TTL, 7, "IP_TTL");
  tx.setInt(PLATFORM.IPPROTO_IP, PLATFORM.IP_TOS, 0xb8, "IP_TOS");
  connectTo(tx, "127.0.0.1", rx.localEndpoint().port);
  return tx;
}

/** Allocates garbage so that a collection has something to move and free. */
function churn(): number {
  let sum = 0;
  for (let i = 0; i < 64; i++) sum += new Uint8Array(4096 + i).length;
  return sum;
}

// Proven able to fail: with the iovec array held only by a local during construction, the first
// sendmmsg after gc() fails (EINVAL / EMSGSIZE) — the bug the FFI memory rule is about. The
// receive side goes through a fresh ReceivedBatch per round, held by nothing but a local, whose
// MessageBatch (names, control room, iovecs, headers) is reachable only through its private field.
Deno.test("sendmmsg/recvmmsg keep every pointed-to buffer alive across forced GC", async () => {
  assert.ok(gc !== undefined, "run with --v8-flags=--expose-gc");
  using rx = receiver();
  using tx = senderTo(rx);
  const txLocal = tx.localEndpoint();
  const rounds = 300;
  const perRound = 16;
  for (let round = 0; round < rounds; round++) {
    // Fresh batches every round, with nothing but the batch objects holding their buffers.
    const send = new MessageBatch(perRound, 200 + (round % 7));
    const receive = new ReceivedBatch(perRound, 2048, { controlSize: 256, formatAddress });
    // Odd rounds take the recvmsg-per-datagram path, even rounds recvmmsg.
    const singleMessages = round % 2 === 1;
    for (let i = 0; i < perRound; i++) {
      const payload = send.payloads[i];
      payload.fill(i + round);
      new DataView(payload.buffer, payload.byteOffset).setUint32(0, round * perRound + i);
      send.setLength(i, payload.length);
    }
    churn();
    gc();
    assert.equal(tx.sendMessages(send, 0, perRound), perRound);
    for (let i = 0; i < perRound; i++) assert.equal(send.receivedLength(i), send.payloadSize);
    churn();
    gc();
    let got = 0;
    const meta = new ReceivedMetadata();
    while (got < perRound) {
      const n = rx.receiveBatch(receive, { singleMessages });
      if (n === 0) {
        assert.ok((await rx.wait(PLATFORM.POLLIN, 1000)) !== 0, "datagrams must arrive");
        continue;
      }
      for (let i = 0; i < n; i++) {
        const index = got + i;
        const length = receive.datagramLength(i);
        assert.equal(length, send.payloadSize, "EMSGSIZE-free, full length");
        const payload = receive.payload(i);
        assert.equal(payload.length, length);
        assert.equal(
          new DataView(payload.buffer, payload.byteOffset).getUint32(0),
          round * perRound + index,
        );
        for (let b = 4; b < length; b++) {
          if (payload[b] !== ((index + round) & 0xff)) assert.fail(`byte ${b} of ${index}`);
        }
        assert.equal(receive.sourcePort(i), txLocal.port);
        assert.equal(receive.sourceAddress(i), "127.0.0.1");
        receive.metadata(i, meta);
        assert.equal(meta.ttl, 7);
        assert.equal(meta.tos, 0xb8);
        assert.ok(meta.timestampNs > 0n);
      }
      got += n;
    }
  }
});

Deno.test("recvmsg reads one slot of a batch through its msghdr", async () => {
  using rx = receiver();
  using tx = senderTo(rx);
  const batch = new MessageBatch(2, 64, { controlSize: 128, withNames: true });
  assert.equal(tx.send(new Uint8Array([9, 8, 7])), 3);
  await rx.wait(PLATFORM.POLLIN, 1000);
  batch.resetSlot(1);
  const n = check(libc().recvmsg(rx.fd, batch.headersFrom(1), PLATFORM.MSG_DONTWAIT), "recvmsg");
  assert.equal(n, 3);
  assert.deepEqual([...batch.payloads[1].subarray(0, 3)], [9, 8, 7]);
  assert.equal(decodeSockaddr(batch.nameOf(1)!).port, tx.localEndpoint().port);
  const meta = new ReceivedMetadata();
  batch.readMetadata(1, meta);
  assert.equal(meta.ttl, 7);
});

Deno.test("ReceivedBatch formats each distinct source once, with the formatter it was given", async () => {
  using rx = receiver();
  using one = senderTo(rx, "127.0.0.1");
  using two = senderTo(rx, "127.0.0.2");
  const formatted: string[] = [];
  const batch = new ReceivedBatch(8, 16, {
    formatAddress: (bytes) => {
      const text = `host ${formatAddress(bytes)}`;
      formatted.push(text);
      return text;
    },
  });
  assert.equal(batch.capacity, 8);
  assert.equal(batch.length, 0);
  for (const [sender, size] of [[one, 3], [two, 40], [one, 5], [two, 1]] as const) {
    assert.equal(sender.send(new Uint8Array(size).fill(size)), size);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(rx.receiveBatch(batch), 4);
  assert.equal(batch.length, 4);
  const sources = [0, 1, 2, 3].map((i) => batch.sourceAddress(i));
  assert.deepEqual(sources, [
    "host 127.0.0.1",
    "host 127.0.0.2",
    "host 127.0.0.1",
    "host 127.0.0.2",
  ]);
  assert.deepEqual(formatted, ["host 127.0.0.1", "host 127.0.0.2"], "once per distinct source");
  assert.deepEqual(batch.sourceBytes(1), Uint8Array.of(127, 0, 0, 2));
  assert.equal(batch.sourcePort(0), one.localEndpoint().port);
  assert.equal(batch.sourcePort(1), two.localEndpoint().port);
  assert.deepEqual(batch.payload(0), new Uint8Array(3).fill(3));
  assert.equal(batch.truncated(1), true, "40 bytes into 16 of room");
  assert.equal(batch.datagramLength(1), 40);
  assert.equal(batch.payload(1).length, 16);
  assert.equal(batch.truncated(3), false);
  assert.equal(batch.controlTruncated(0), false);
  const meta = new ReceivedMetadata();
  batch.metadata(2, meta);
  assert.equal(meta.ttl, 7);
  assert.equal(meta.tos, 0xb8);
  assert.throws(() => batch.payload(4), (error: unknown) => {
    assert.ok(error instanceof InvalidValueError);
    assert.equal(error.message, "Invalid datagram index: 4 (expected 0 to 3)");
    return true;
  });
  assert.equal(rx.receiveBatch(batch), 0);
  assert.equal(batch.length, 0);
  assert.throws(
    () => batch.sourceAddress(0),
    /^InvalidValueError: Invalid datagram index: 0 \(expected no index: the batch is empty\)$/,
  );

  // Control room too small for TTL, TOS and the timestamp: the datagram says so.
  const cramped = new ReceivedBatch(1, 16, { controlSize: 16, formatAddress });
  assert.equal(one.send(Uint8Array.of(1)), 1);
  await rx.wait(PLATFORM.POLLIN, 1000);
  assert.equal(rx.receiveBatch(cramped), 1);
  assert.equal(cramped.controlTruncated(0), true);
  assert.equal(cramped.sourceAddress(0), "127.0.0.1");
});

Deno.test("MessageBatch refuses impossible sizes", () => {
  assert.throws(
    () => new MessageBatch(0, 10),
    /^InvalidValueError: Invalid batch count: 0 \(expected an integer from 1 to 1024\)$/,
  );
  assert.throws(
    () => new MessageBatch(4, 70000),
    /^InvalidValueError: Invalid payload size: 70000 \(expected an integer from 1 to 65535\)$/,
  );
  assert.throws(
    () => new ReceivedBatch(2000, 10, { formatAddress }),
    /^InvalidValueError: Invalid batch count: 2000/,
  );
});

Deno.test("MessageBatch.resetReceived restores exactly what a full reset restores after a receive", () => {
  const batch = new MessageBatch(4, 100, { controlSize: 64, withNames: true });
  const fresh = batch.headers.slice();
  const view = new DataView(batch.headers.buffer);
  const size = PLATFORM.layout.mmsghdrSize > 0
    ? PLATFORM.layout.mmsghdrSize
    : PLATFORM.layout.msghdrSize;
  const msg = PLATFORM.layout.msghdr;
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (let i = 0; i < 3; i++) { // what the kernel writes into the slots it fills
    view.setUint32(i * size + msg.namelen, 16, little);
    view.setUint32(i * size + msg.controllen, 40 + i, little);
    view.setInt32(i * size + msg.flags, PLATFORM.MSG_TRUNC | PLATFORM.MSG_CTRUNC, little);
  }
  assert.notDeepEqual(batch.headers, fresh);
  batch.resetReceived(3);
  assert.deepEqual(batch.headers, fresh);
  assert.equal(batch.messageFlags(0), 0);
  // After a length was set (a send), the full reset is taken: the payload room comes back too.
  batch.setLength(1, 7);
  view.setUint32(1 * size + msg.controllen, 9, little);
  batch.resetReceived(2);
  assert.deepEqual(batch.headers, fresh);
});
