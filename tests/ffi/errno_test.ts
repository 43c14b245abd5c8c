// Tests of errno handling: names from the OS table, the typed error of a number, and check()
// against real failing system calls (close(-1), a receive on an empty non-blocking socket).

import assert from "node:assert/strict";
import { SocketError, WouldBlockError } from "../../lib/errors.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { check, errnoName, lastErrno, socketError } from "../../ffi/errno.ts";
import { libc } from "../../ffi/libc.ts";
import { MessageBatch } from "../../ffi/msghdr.ts";
import { UdpSocket } from "../../ffi/socket.ts";
import { bindTo } from "./_sockets.ts";

Deno.test("errnoName names known numbers and spells out unknown ones", () => {
  assert.equal(errnoName(P.errno.EINVAL), "EINVAL");
  assert.equal(errnoName(P.errno.EBADF), "EBADF");
  assert.equal(errnoName(P.errno.EAGAIN), "EAGAIN");
  assert.equal(errnoName(P.errno.EADDRNOTAVAIL), "EADDRNOTAVAIL");
  assert.equal(errnoName(P.errno.ETIMEDOUT), "ETIMEDOUT");
  for (const [name, value] of Object.entries(P.errno)) assert.equal(errnoName(value), name);
  if (P.os === "linux") {
    assert.equal(errnoName(22), "EINVAL");
    assert.equal(errnoName(99), "EADDRNOTAVAIL");
  }
  assert.equal(errnoName(4242), "errno 4242");
  assert.equal(errnoName(0), "errno 0");
  assert.equal(errnoName(-1), "errno -1");
});

Deno.test("socketError makes a WouldBlockError for EAGAIN only", () => {
  const wouldBlock = socketError(P.errno.EAGAIN, "send", "64 bytes");
  assert.ok(wouldBlock instanceof WouldBlockError);
  assert.equal(wouldBlock.errnoName, "EAGAIN");
  assert.equal(wouldBlock.message, `Failed to send: EAGAIN (errno ${P.errno.EAGAIN}): 64 bytes`);
  const invalid = socketError(P.errno.EINVAL, "setsockopt(IP_MULTICAST_TTL)", 300);
  assert.ok(invalid instanceof SocketError && !(invalid instanceof WouldBlockError));
  assert.equal(invalid.syscall, "setsockopt(IP_MULTICAST_TTL)");
  assert.equal(invalid.errno, P.errno.EINVAL);
  assert.equal(invalid.value, 300);
  assert.equal(socketError(4242, "poll").errnoName, "errno 4242");
  assert.equal(socketError(4242, "poll").message, "Failed to poll: errno 4242");
});

Deno.test("check returns non-negative results as numbers", () => {
  assert.equal(check(0, "close"), 0);
  assert.equal(check(7, "socket"), 7);
  assert.equal(check(5n, "send"), 5);
  assert.equal(typeof check(5n, "send"), "number");
});

Deno.test("check throws the real errno of a failed call: close(-1) is EBADF", () => {
  assert.throws(() => check(libc().close(-1), "close", -1), (error: unknown) => {
    assert.ok(error instanceof SocketError);
    assert.ok(!(error instanceof WouldBlockError));
    assert.equal(error.syscall, "close");
    assert.equal(error.errno, P.errno.EBADF);
    assert.equal(error.errnoName, "EBADF");
    assert.equal(error.value, -1);
    assert.equal(error.message, `Failed to close: EBADF (errno ${P.errno.EBADF}): -1`);
    return true;
  });
  assert.equal(libc().close(-1), -1);
  assert.equal(lastErrno(), P.errno.EBADF);
});

Deno.test("check turns EAGAIN from a receive on an empty non-blocking socket into WouldBlockError", () => {
  using socket = UdpSocket.open("IPv4");
  const fd = socket.fd;
  const batch = new MessageBatch(1, 64);
  bindTo(socket, "127.0.0.1", 0);
  const result = libc().recvmmsg(fd, batch.headers, batch.count, 0, null);
  assert.equal(result, -1);
  assert.equal(lastErrno(), P.errno.EAGAIN);
  assert.throws(
    () => check(libc().recvmmsg(fd, batch.headers, batch.count, 0, null), "recvmmsg", fd),
    (error: unknown) => {
      assert.ok(error instanceof WouldBlockError);
      assert.equal(error.errnoName, "EAGAIN");
      assert.equal(error.errno, P.errno.EAGAIN);
      assert.equal(error.syscall, "recvmmsg");
      assert.equal(error.message, `Failed to recvmmsg: EAGAIN (errno ${P.errno.EAGAIN}): ${fd}`);
      return true;
    },
  );
});
