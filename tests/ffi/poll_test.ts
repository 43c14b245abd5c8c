// Tests of waiting with poll off the JS thread: one descriptor (waitForFd) and a fixed set of
// them (PollSet), on unicast loopback sockets (127.0.0.1 only).

import assert from "node:assert/strict";
import { InvalidValueError } from "../../lib/errors.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { libc } from "../../ffi/libc.ts";
import { PollSet, waitForFd } from "../../ffi/poll.ts";
import { UdpSocket } from "../../ffi/socket.ts";
import { bindTo, connectTo } from "./_sockets.ts";

/** A receiver bound to 127.0.0.1 on a free port. */
function boundReceiver(): UdpSocket {
  const socket = UdpSocket.open("IPv4");
  bindTo(socket, "127.0.0.1", 0);
  return socket;
}

/** A sender connected to `receiver`. */
function senderTo(receiver: UdpSocket): UdpSocket {
  const socket = UdpSocket.open("IPv4");
  connectTo(socket, "127.0.0.1", receiver.localEndpoint().port);
  return socket;
}

Deno.test("waitForFd reports the ready events, 0 on timeout, POLLNVAL for a closed fd", async () => {
  using rx = boundReceiver();
  using tx = senderTo(rx);
  assert.equal(await waitForFd(rx.fd, P.POLLIN, 20), 0);
  assert.equal(await waitForFd(tx.fd, P.POLLOUT, 1_000), P.POLLOUT);
  assert.equal(tx.send(Uint8Array.of(1)), 1);
  assert.equal(await waitForFd(rx.fd, P.POLLIN, 2_000), P.POLLIN);
  const closed = UdpSocket.open("IPv4");
  const fd = closed.fd;
  closed.close();
  const POLLNVAL = 0x20; // Linux <poll.h>
  assert.equal(await waitForFd(fd, P.POLLIN, 20), POLLNVAL);
});

Deno.test("PollSet over two sockets reports the one that is readable", async () => {
  using quiet = boundReceiver();
  using busy = boundReceiver();
  using tx = senderTo(busy);
  const set = new PollSet([quiet.fd, busy.fd], P.POLLIN);
  assert.equal(set.size, 2);
  assert.equal(await set.wait(20), 0, "nothing to read: times out");
  assert.equal(set.ready(0), false);
  assert.equal(set.ready(1), false);
  assert.equal(tx.send(Uint8Array.of(1, 2, 3)), 3);
  assert.equal(await set.wait(2_000), 1, "one descriptor is ready");
  assert.equal(set.ready(0), false);
  assert.equal(set.ready(1), true);
  assert.equal(set.revents(0), 0);
  assert.equal(set.revents(1), P.POLLIN);
  assert.equal(await set.wait(0), 1, "still queued: still ready");
  assert.equal(set.revents(1), P.POLLIN);
  const buffer = new Uint8Array(8);
  assert.equal(Number(libc().read(busy.fd, buffer, 8n)), 3);
  assert.equal(await set.wait(20), 0, "drained: times out again");
  assert.equal(set.ready(1), false, "the last wait's events, cleared");
});

Deno.test("PollSet refuses an empty set and a second wait while one runs", async () => {
  assert.throws(() => new PollSet([], P.POLLIN), (error: unknown) => {
    assert.ok(error instanceof InvalidValueError);
    assert.equal(error.message, 'Invalid poll set: "[]" (expected at least one fd)');
    return true;
  });
  using rx = boundReceiver();
  const set = new PollSet([rx.fd], P.POLLIN);
  const first = set.wait(100);
  await assert.rejects(set.wait(100), (error: unknown) => {
    assert.ok(error instanceof InvalidValueError);
    assert.equal(error.message, 'Invalid poll set: "busy" (expected one wait at a time)');
    return true;
  });
  assert.equal(await first, 0);
  assert.equal(await set.wait(0), 0, "free again once the first wait is done");
});
