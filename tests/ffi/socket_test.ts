// Tests of the socket wrappers on loopback (unicast on 127.0.0.1 / ::1 only), plus one lab test
// where a send buffer really fills (../lib/_lab_peers.ts `blockedEgress`), for EAGAIN and POLLOUT.

import assert from "node:assert/strict";
import { SocketError } from "../../lib/errors.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { libc } from "../../ffi/libc.ts";
import {
  bindTo,
  clockNs,
  closeFd,
  connectTo,
  getIntOption,
  isNonBlocking,
  localEndpoint,
  openUdpSocket,
  sendDatagram,
  setIntOption,
  setNonBlocking,
  sleepUntilMonotonic,
  waitForFd,
} from "../../ffi/socket.ts";
import { labTest } from "../lab/mod.ts";
import { blockedEgress, peerSteps, unblockEgress } from "../lib/_lab_peers.ts";
import { fdIsOpen } from "../lib/_loopback.ts";

const BLOCKED_PEER = new URL("./_blocked_socket.ts", import.meta.url).pathname;
const F_GETFD = 1; // Linux <fcntl.h>; not in the platform table (nothing else needs it)
const FD_CLOEXEC = 1;

/** Asserts that `fn` throws a SocketError with this call, errno name and message. */
function assertSocketError(fn: () => unknown, syscall: string, errnoName: string, message: string) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SocketError, String(error));
    assert.equal(error.syscall, syscall);
    assert.equal(error.errnoName, errnoName);
    assert.equal(error.errno, P.errno[errnoName]);
    assert.equal(error.message, message);
    return true;
  });
}

/** Opens sockets for the test body and closes them afterwards. */
async function withSockets(
  count: number,
  family: "IPv4" | "IPv6",
  fn: (fds: number[]) => void | Promise<void>,
): Promise<void> {
  const fds = Array.from({ length: count }, () => openUdpSocket(family));
  try {
    await fn(fds);
  } finally {
    for (const fd of fds) closeFd(fd);
  }
}

/** A receiver bound to 127.0.0.1 on a free port and a sender connected to it. */
function loopbackPair(fds: number[]): { rx: number; tx: number; port: number } {
  const [rx, tx] = fds;
  bindTo(rx, { address: "127.0.0.1", port: 0 });
  const { port } = localEndpoint(rx);
  connectTo(tx, { address: "127.0.0.1", port });
  return { rx, tx, port };
}

Deno.test("openUdpSocket is non-blocking and close-on-exec unless asked to block", () => {
  for (const family of ["IPv4", "IPv6"] as const) {
    const fd = openUdpSocket(family);
    const blocking = openUdpSocket(family, { nonBlocking: false });
    try {
      assert.ok(fd >= 0);
      assert.ok(isNonBlocking(fd));
      assert.equal(libc().fcntl(fd, F_GETFD, 0) & FD_CLOEXEC, FD_CLOEXEC);
      assert.equal(libc().fcntl(blocking, F_GETFD, 0) & FD_CLOEXEC, FD_CLOEXEC);
      assert.ok(!isNonBlocking(blocking));
      setNonBlocking(blocking);
      assert.ok(isNonBlocking(blocking));
      setNonBlocking(blocking);
      assert.ok(isNonBlocking(blocking), "setting it twice is harmless");
      assert.deepEqual(localEndpoint(fd), {
        family,
        address: family === "IPv4" ? "0.0.0.0" : "::",
        port: 0,
        scopeId: 0,
      });
    } finally {
      closeFd(fd);
      closeFd(blocking);
    }
  }
  assertSocketError(
    () => isNonBlocking(-1),
    "fcntl(F_GETFL)",
    "EBADF",
    "Failed to fcntl(F_GETFL): EBADF (errno 9): -1",
  );
});

Deno.test("closeFd closes, and names the fd it could not close", () => {
  const fd = openUdpSocket("IPv4");
  assert.ok(fdIsOpen(fd));
  closeFd(fd);
  assert.ok(!fdIsOpen(fd));
  assertSocketError(() => closeFd(-1), "close", "EBADF", "Failed to close: EBADF (errno 9): -1");
});

Deno.test("int options round-trip; Linux doubles buffer sizes; bad values name the option", () =>
  withSockets(1, "IPv4", ([fd]) => {
    const get = (level: number, name: number) => getIntOption(fd, level, name, "test");
    assert.equal(get(P.IPPROTO_IP, P.IP_MULTICAST_TTL), 1, "the default multicast TTL");
    setIntOption(fd, P.IPPROTO_IP, P.IP_MULTICAST_TTL, 7, "IP_MULTICAST_TTL");
    assert.equal(get(P.IPPROTO_IP, P.IP_MULTICAST_TTL), 7);
    setIntOption(fd, P.IPPROTO_IP, P.IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
    assert.equal(get(P.IPPROTO_IP, P.IP_MULTICAST_LOOP), 0);
    setIntOption(fd, P.IPPROTO_IP, P.IP_TOS, 0x88, "IP_TOS");
    assert.equal(get(P.IPPROTO_IP, P.IP_TOS), 0x88);
    setIntOption(fd, P.SOL_SOCKET, P.SO_RCVBUF, 65536, "SO_RCVBUF");
    assert.equal(get(P.SOL_SOCKET, P.SO_RCVBUF), 131072);
    setIntOption(fd, P.SOL_SOCKET, P.SO_SNDBUF, 8192, "SO_SNDBUF");
    assert.equal(get(P.SOL_SOCKET, P.SO_SNDBUF), 16384);
    assertSocketError(
      () => setIntOption(fd, P.IPPROTO_IP, P.IP_MULTICAST_TTL, 300, "IP_MULTICAST_TTL"),
      "setsockopt(IP_MULTICAST_TTL)",
      "EINVAL",
      "Failed to setsockopt(IP_MULTICAST_TTL): EINVAL (errno 22): 300",
    );
    assert.equal(get(P.IPPROTO_IP, P.IP_MULTICAST_TTL), 7, "a refused value changes nothing");
    assertSocketError(
      () => getIntOption(fd, P.IPPROTO_IP, 9999, "BOGUS"),
      "getsockopt(BOGUS)",
      "ENOPROTOOPT",
      "Failed to getsockopt(BOGUS): ENOPROTOOPT (errno 92)",
    );
  }));

Deno.test("IPv6 int options round-trip", () =>
  withSockets(1, "IPv6", ([fd]) => {
    setIntOption(fd, P.IPPROTO_IPV6, P.IPV6_MULTICAST_HOPS, 9, "IPV6_MULTICAST_HOPS");
    assert.equal(getIntOption(fd, P.IPPROTO_IPV6, P.IPV6_MULTICAST_HOPS, "hops"), 9);
    setIntOption(fd, P.IPPROTO_IPV6, P.IPV6_V6ONLY, 1, "IPV6_V6ONLY");
    assert.equal(getIntOption(fd, P.IPPROTO_IPV6, P.IPV6_V6ONLY, "v6only"), 1);
  }));

Deno.test("bindTo and localEndpoint on 127.0.0.1 and ::1", async () => {
  await withSockets(2, "IPv4", ([a, b]) => {
    bindTo(a, { address: "127.0.0.1", port: 0 });
    const bound = localEndpoint(a);
    assert.equal(bound.family, "IPv4");
    assert.equal(bound.address, "127.0.0.1");
    assert.ok(bound.port > 0 && bound.port < 65536);
    assertSocketError(
      () => bindTo(b, { address: "127.0.0.1", port: bound.port }),
      "bind",
      "EADDRINUSE",
      `Failed to bind: EADDRINUSE (errno 98): 127.0.0.1:${bound.port}`,
    );
  });
  await withSockets(1, "IPv6", ([fd]) => {
    bindTo(fd, { address: "::1", port: 0 });
    const bound = localEndpoint(fd);
    assert.equal(bound.family, "IPv6");
    assert.equal(bound.address, "::1");
    assert.ok(bound.port > 0);
  });
});

Deno.test("binding an address this host does not have is EADDRNOTAVAIL naming the address", async () => {
  await withSockets(1, "IPv4", ([fd]) =>
    assertSocketError(
      () => bindTo(fd, { address: "10.255.255.1", port: 5000 }),
      "bind",
      "EADDRNOTAVAIL",
      "Failed to bind: EADDRNOTAVAIL (errno 99): 10.255.255.1:5000",
    ));
  await withSockets(1, "IPv6", ([fd]) => {
    assertSocketError(
      () => bindTo(fd, { address: "fd00:dead:beef::1", port: 5000 }),
      "bind",
      "EADDRNOTAVAIL",
      "Failed to bind: EADDRNOTAVAIL (errno 99): [fd00:dead:beef::1]:5000",
    );
    assertSocketError(
      () => bindTo(fd, { address: "fe80::dead", port: 5000, scopeId: 1 }),
      "bind",
      "EADDRNOTAVAIL",
      "Failed to bind: EADDRNOTAVAIL (errno 99): [fe80::dead%1]:5000",
    );
  });
});

Deno.test("connectTo fixes the peer; sendDatagram returns the bytes sent; poll sees them", () =>
  withSockets(2, "IPv4", async (fds) => {
    const { rx, tx, port } = loopbackPair(fds);
    const local = localEndpoint(tx);
    assert.equal(local.address, "127.0.0.1", "connect picked the source address");
    assert.ok(local.port > 0 && local.port !== port);
    assert.equal(await waitForFd(rx, P.POLLIN, 20), 0, "nothing to read yet");
    assert.equal((await waitForFd(tx, P.POLLOUT, 1_000)) & P.POLLOUT, P.POLLOUT);
    const payload = new TextEncoder().encode("hello loopback");
    assert.equal(sendDatagram(tx, payload), payload.length);
    assert.equal((await waitForFd(rx, P.POLLIN, 2_000)) & P.POLLIN, P.POLLIN);
    const buffer = new Uint8Array(64);
    const n = Number(libc().read(rx, buffer, 64n));
    assert.equal(new TextDecoder().decode(buffer.subarray(0, n)), "hello loopback");
    assert.equal(await waitForFd(rx, P.POLLIN, 20), 0, "drained: times out with 0");
    assert.equal(sendDatagram(tx, new Uint8Array(0)), 0, "an empty datagram is a datagram");
    assert.equal((await waitForFd(rx, P.POLLIN, 2_000)) & P.POLLIN, P.POLLIN);
    assert.equal(Number(libc().read(rx, buffer, 64n)), 0);
  }));

Deno.test("send and connect failures name the value", () =>
  withSockets(2, "IPv4", async ([unconnected, fd]) => {
    assertSocketError(
      () => sendDatagram(unconnected, new Uint8Array(3)),
      "send",
      "EDESTADDRREQ",
      `Failed to send: EDESTADDRREQ (errno 89): 3 bytes on fd ${unconnected}`,
    );
    assertSocketError(
      () => connectTo(unconnected, { address: "::1", port: 9 }),
      "connect",
      "EAFNOSUPPORT",
      "Failed to connect: EAFNOSUPPORT (errno 97): [::1]:9",
    );
    // A port nobody listens on: the ICMP port unreachable comes back as ECONNREFUSED.
    const probe = openUdpSocket("IPv4");
    bindTo(probe, { address: "127.0.0.1", port: 0 });
    const { port } = localEndpoint(probe);
    closeFd(probe);
    connectTo(fd, { address: "127.0.0.1", port });
    assertSocketError(
      () => sendDatagram(fd, new Uint8Array(70_000)),
      "send",
      "EMSGSIZE",
      `Failed to send: EMSGSIZE (errno 90): 70000 bytes on fd ${fd}`,
    );
    assert.equal(sendDatagram(fd, new Uint8Array(1)), 1);
    assert.equal((await waitForFd(fd, 0, 2_000)) & P.POLLERR, P.POLLERR, "error queued");
    assertSocketError(
      () => sendDatagram(fd, new Uint8Array(2)),
      "send",
      "ECONNREFUSED",
      `Failed to send: ECONNREFUSED (errno 111): 2 bytes on fd ${fd}`,
    );
  }));

Deno.test("clockNs: monotonic never goes back; realtime is the wall clock", () => {
  let previous = clockNs(P.CLOCK_MONOTONIC);
  assert.equal(typeof previous, "bigint");
  assert.ok(previous > 0n);
  for (let i = 0; i < 10_000; i++) {
    const now = clockNs(P.CLOCK_MONOTONIC);
    assert.ok(now >= previous, `${now} < ${previous}`);
    previous = now;
  }
  const wallMs = Number(clockNs(P.CLOCK_REALTIME) / 1_000_000n);
  assert.ok(Math.abs(wallMs - Date.now()) < 60_000, `${wallMs} vs ${Date.now()}`);
  assertSocketError(
    () => clockNs(9999),
    "clock_gettime",
    "EINVAL",
    "Failed to clock_gettime: EINVAL (errno 22): 9999",
  );
});

Deno.test("sleepUntilMonotonic returns no earlier than the deadline", async () => {
  for (const delayNs of [0n, 1_000_000n, 25_000_000n]) {
    const deadline = clockNs(P.CLOCK_MONOTONIC) + delayNs;
    await sleepUntilMonotonic(deadline);
    const now = clockNs(P.CLOCK_MONOTONIC);
    assert.ok(now >= deadline, `woke ${deadline - now} ns early`);
  }
  const past = clockNs(P.CLOCK_MONOTONIC) - 1_000_000_000n;
  await sleepUntilMonotonic(past);
  assert.ok(clockNs(P.CLOCK_MONOTONIC) >= past);
});

labTest(
  "sendDatagram returns -1 on EAGAIN and poll reports no room until the queue is freed",
  async (lab) => {
    const blocked = await blockedEgress(lab);
    const peer = blocked.sender.spawnDeno(BLOCKED_PEER, { args: ["239.77.7.9", "7020"] });
    await peer.waitForOutput(/"step":"waiting"/, 30_000);
    await unblockEgress(blocked);
    const steps = await peerSteps(peer);
    const full = steps.full as {
      sent: number;
      last: number;
      results: number[];
      pollWhileFull: number;
      sendWhileFull: number;
    };
    assert.ok(full.sent >= 1 && full.sent < 10_000, `sent ${full.sent}`);
    assert.equal(full.last, -1);
    assert.deepEqual(full.results, [64, -1], "every send returned the bytes, then -1");
    assert.equal(full.pollWhileFull, 0, "no POLLOUT while the buffer is full");
    assert.equal(full.sendWhileFull, -1);
    const unblocked = steps.unblocked as { pollAfter: number; sendAfter: number; sndbuf: number };
    assert.equal(unblocked.pollAfter & P.POLLOUT, P.POLLOUT);
    assert.equal(unblocked.sendAfter, 64);
    assert.equal(unblocked.sndbuf, 8192);
  },
  { requires: ["tc"], timeoutMs: 60_000 },
);
