// Tests of the socket seam, UdpSocket, on loopback (unicast on 127.0.0.1 / ::1, and multicast
// joins on `lo` only), plus one lab test where a send buffer really fills
// (../lib/_lab_peers.ts `blockedEgress`), for WOULD_BLOCK and POLLOUT.

import assert from "node:assert/strict";
import { formatAddress } from "../../lib/address.ts";
import { ClosedError, InvalidValueError, SocketError } from "../../lib/errors.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { ipMreqn } from "../../ffi/group_req.ts";
import { libc } from "../../ffi/libc.ts";
import { MessageBatch } from "../../ffi/msghdr.ts";
import { ReceivedBatch } from "../../ffi/received_batch.ts";
import { UdpSocket, WOULD_BLOCK } from "../../ffi/socket.ts";
import { labTest } from "../lab/mod.ts";
import { blockedEgress, peerSteps, unblockEgress } from "../lib/_lab_peers.ts";
import { fdIsOpen, freshGroup, freshPort, LO } from "../lib/_loopback.ts";
import {
  bindTo,
  connectTo,
  localAddress,
  openMulticastSender,
  rawAddress,
  rawEndpoint,
} from "./_sockets.ts";

const BLOCKED_PEER = new URL("./_blocked_socket.ts", import.meta.url).pathname;
const F_GETFD = 1; // Linux <fcntl.h>; not in the platform table (nothing else needs it)
const FD_CLOEXEC = 1;
const AF_UNIX = 1; // Linux <sys/socket.h>; only this test makes one

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
  fn: (sockets: UdpSocket[]) => void | Promise<void>,
): Promise<void> {
  const sockets = Array.from({ length: count }, () => UdpSocket.open(family));
  try {
    await fn(sockets);
  } finally {
    for (const socket of sockets) socket.close();
  }
}

/** A receiver bound to 127.0.0.1 on a free port and a sender connected to it. */
function loopbackPair(sockets: UdpSocket[]): { rx: UdpSocket; tx: UdpSocket; port: number } {
  const [rx, tx] = sockets;
  bindTo(rx, "127.0.0.1", 0);
  const { port } = rx.localEndpoint();
  connectTo(tx, "127.0.0.1", port);
  return { rx, tx, port };
}

/** Gives the kernel a moment, then receives everything queued; returns the sources, sorted. */
async function sourcesQueued(socket: UdpSocket, settleMs = 100): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const batch = new ReceivedBatch(16, 64, { formatAddress });
  const sources: string[] = [];
  while (socket.receiveBatch(batch) > 0) {
    for (let i = 0; i < batch.length; i++) sources.push(batch.sourceAddress(i));
  }
  return sources.sort();
}

Deno.test("UdpSocket.open is non-blocking and close-on-exec unless asked to block", () => {
  for (const family of ["IPv4", "IPv6"] as const) {
    const socket = UdpSocket.open(family);
    const blocking = UdpSocket.open(family, { nonBlocking: false });
    try {
      assert.ok(socket.fd >= 0);
      assert.equal(socket.family, family);
      assert.equal(socket.label, `fd ${socket.fd}`);
      assert.equal(socket.closed, false);
      assert.ok(socket.isNonBlocking());
      assert.equal(libc().fcntl(socket.fd, F_GETFD, 0) & FD_CLOEXEC, FD_CLOEXEC);
      assert.equal(libc().fcntl(blocking.fd, F_GETFD, 0) & FD_CLOEXEC, FD_CLOEXEC);
      assert.ok(!blocking.isNonBlocking());
      blocking.setNonBlocking();
      assert.ok(blocking.isNonBlocking());
      blocking.setNonBlocking();
      assert.ok(blocking.isNonBlocking(), "setting it twice is harmless");
      assert.deepEqual(socket.localEndpoint(), {
        family,
        bytes: new Uint8Array(family === "IPv4" ? 4 : 16),
        port: 0,
        scopeId: 0,
      });
    } finally {
      socket.close();
      blocking.close();
    }
  }
  const closed = UdpSocket.open("IPv4");
  const label = closed.label;
  closed.close();
  // A closed socket never reaches the kernel with fd -1: every call names the socket instead.
  for (
    const call of [
      () => closed.isNonBlocking(),
      () => closed.setInt(P.IPPROTO_IP, P.IP_MULTICAST_TTL, 2, "IP_MULTICAST_TTL"),
      () => closed.send(new Uint8Array(3)),
      () => closed.localEndpoint(),
      () => closed.wait(P.POLLIN, 10),
    ]
  ) {
    assert.throws(call, (error: unknown) => {
      assert.ok(error instanceof ClosedError, String(error));
      assert.equal(error.message, `Already closed: socket ${label}`);
      return true;
    });
  }
  using labelled = UdpSocket.open("IPv6", { label: "the v6 one" });
  assert.equal(labelled.label, "the v6 one");
});

Deno.test("close closes, is safe twice, and names the fd it could not close", () => {
  const socket = UdpSocket.open("IPv4");
  const fd = socket.fd;
  assert.ok(fdIsOpen(fd));
  socket.close();
  assert.ok(!fdIsOpen(fd));
  assert.equal(socket.closed, true);
  assert.equal(socket.fd, -1);
  socket.close(); // the second call does nothing
  socket[Symbol.dispose]();
  assert.equal(socket.closed, true);

  const robbed = UdpSocket.open("IPv4");
  const robbedFd = robbed.fd;
  assert.equal(libc().close(robbedFd), 0); // closed behind the socket's back
  assertSocketError(
    () => robbed.close(),
    "close",
    "EBADF",
    `Failed to close: EBADF (errno 9): ${robbedFd}`,
  );
  assert.equal(robbed.closed, true, "the descriptor is gone either way");
  robbed.close(); // and the next close does nothing
});

Deno.test("release hands the open fd to the caller; close afterwards does nothing", () => {
  const socket = UdpSocket.open("IPv4", { label: "moved out" });
  const fd = socket.fd;
  const released = socket.release();
  assert.equal(released, fd);
  assert.equal(socket.closed, true);
  assert.equal(socket.fd, -1);
  socket.close();
  assert.ok(fdIsOpen(fd), "close after release leaves the fd open");
  const closed = UdpSocket.open("IPv4", { label: "closed one" });
  closed.close();
  for (const [gone, label] of [[socket, "moved out"], [closed, "closed one"]] as const) {
    assertSocketError(
      () => gone.release(),
      "release",
      "EBADF",
      `Failed to release: EBADF (errno 9): ${label}`,
    );
  }
  const owner = UdpSocket.adopt(released);
  assert.equal(owner.family, "IPv4");
  assert.ok(owner.isNonBlocking(), "still the socket it was");
  owner.close();
  assert.ok(!fdIsOpen(fd));
});

Deno.test("adopt takes a socket made elsewhere, reading its family", () => {
  for (const [domain, family] of [[P.AF_INET, "IPv4"], [P.AF_INET6, "IPv6"]] as const) {
    const fd = libc().socket(domain, P.SOCK_DGRAM, 0);
    assert.ok(fd >= 0);
    const socket = UdpSocket.adopt(fd);
    assert.equal(socket.fd, fd);
    assert.equal(socket.family, family);
    assert.equal(socket.label, `fd ${fd}`);
    assert.ok(!socket.isNonBlocking(), "adopt does not change the blocking mode");
    bindTo(socket, family === "IPv4" ? "127.0.0.1" : "::1", 0);
    assert.equal(localAddress(socket), family === "IPv4" ? "127.0.0.1" : "::1");
    socket.close();
    assert.ok(!fdIsOpen(fd), "the adopter closes it");
  }
  const labelled = UdpSocket.open("IPv4");
  const fd = labelled.release();
  const named = UdpSocket.adopt(fd, "the caller's socket");
  assert.equal(named.label, "the caller's socket");
  named.close();

  assertSocketError(
    () => UdpSocket.adopt(-1),
    "getsockname",
    "EBADF",
    "Failed to getsockname: EBADF (errno 9): -1",
  );
  const fileFd = libc().open(new TextEncoder().encode(`${Deno.execPath()}\0`), 0);
  assert.ok(fileFd >= 0);
  try {
    assertSocketError(
      () => UdpSocket.adopt(fileFd),
      "getsockname",
      "ENOTSOCK",
      `Failed to getsockname: ENOTSOCK (errno 88): ${fileFd}`,
    );
  } finally {
    libc().close(fileFd);
  }
  const unix = libc().socket(AF_UNIX, P.SOCK_DGRAM, 0);
  try {
    assert.throws(() => UdpSocket.adopt(unix), (error: unknown) => {
      assert.ok(error instanceof InvalidValueError, String(error));
      assert.equal(error.message, `Invalid socket fd: ${unix} (expected an IPv4 or IPv6 socket)`);
      assert.equal(
        (error.cause as Error).message,
        "Invalid sockaddr family: 1 (expected AF_INET or AF_INET6)",
      );
      return true;
    });
    assert.ok(fdIsOpen(unix), "a refused fd stays the caller's");
  } finally {
    libc().close(unix);
  }
});

Deno.test("int options round-trip; Linux doubles buffer sizes; bad values name the option", () =>
  withSockets(1, "IPv4", ([socket]) => {
    const get = (level: number, name: number) => socket.getInt(level, name, "test");
    assert.equal(get(P.IPPROTO_IP, P.IP_MULTICAST_TTL), 1, "the default multicast TTL");
    socket.setInt(P.IPPROTO_IP, P.IP_MULTICAST_TTL, 7, "IP_MULTICAST_TTL");
    assert.equal(get(P.IPPROTO_IP, P.IP_MULTICAST_TTL), 7);
    socket.setInt(P.IPPROTO_IP, P.IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
    assert.equal(get(P.IPPROTO_IP, P.IP_MULTICAST_LOOP), 0);
    socket.setInt(P.IPPROTO_IP, P.IP_TOS, 0x88, "IP_TOS");
    assert.equal(get(P.IPPROTO_IP, P.IP_TOS), 0x88);
    socket.setInt(P.SOL_SOCKET, P.SO_RCVBUF, 65536, "SO_RCVBUF");
    assert.equal(get(P.SOL_SOCKET, P.SO_RCVBUF), 131072);
    socket.setInt(P.SOL_SOCKET, P.SO_SNDBUF, 8192, "SO_SNDBUF");
    assert.equal(get(P.SOL_SOCKET, P.SO_SNDBUF), 16384);
    assertSocketError(
      () => socket.setInt(P.IPPROTO_IP, P.IP_MULTICAST_TTL, 300, "IP_MULTICAST_TTL"),
      "setsockopt(IP_MULTICAST_TTL)",
      "EINVAL",
      "Failed to setsockopt(IP_MULTICAST_TTL): EINVAL (errno 22): 300",
    );
    assert.equal(get(P.IPPROTO_IP, P.IP_MULTICAST_TTL), 7, "a refused value changes nothing");
    assertSocketError(
      () => socket.getInt(P.IPPROTO_IP, 9999, "BOGUS"),
      "getsockopt(BOGUS)",
      "ENOPROTOOPT",
      "Failed to getsockopt(BOGUS): ENOPROTOOPT (errno 92)",
    );
  }));

Deno.test("IPv6 int options round-trip", () =>
  withSockets(1, "IPv6", ([socket]) => {
    socket.setInt(P.IPPROTO_IPV6, P.IPV6_MULTICAST_HOPS, 9, "IPV6_MULTICAST_HOPS");
    assert.equal(socket.getInt(P.IPPROTO_IPV6, P.IPV6_MULTICAST_HOPS, "hops"), 9);
    socket.setInt(P.IPPROTO_IPV6, P.IPV6_V6ONLY, 1, "IPV6_V6ONLY");
    assert.equal(socket.getInt(P.IPPROTO_IPV6, P.IPV6_V6ONLY, "v6only"), 1);
  }));

Deno.test("setStruct sets a structure option and names the value it was refused", () =>
  withSockets(1, "IPv4", ([socket]) => {
    const loopback = ipMreqn(null, Uint8Array.of(127, 0, 0, 1), 0);
    socket.setStruct(P.IPPROTO_IP, P.IP_MULTICAST_IF, loopback, {
      label: "IP_MULTICAST_IF",
      value: "127.0.0.1",
    });
    const missing = ipMreqn(null, Uint8Array.of(10, 255, 255, 1), 0);
    assertSocketError(
      () =>
        socket.setStruct(P.IPPROTO_IP, P.IP_MULTICAST_IF, missing, {
          label: "IP_MULTICAST_IF",
          value: "10.255.255.1",
        }),
      "setsockopt(IP_MULTICAST_IF)",
      "EADDRNOTAVAIL",
      "Failed to setsockopt(IP_MULTICAST_IF): EADDRNOTAVAIL (errno 99): 10.255.255.1",
    );
  }));

Deno.test("bind and localEndpoint on 127.0.0.1 and ::1", async () => {
  await withSockets(2, "IPv4", ([a, b]) => {
    bindTo(a, "127.0.0.1", 0);
    const bound = a.localEndpoint();
    assert.equal(bound.family, "IPv4");
    assert.deepEqual(bound.bytes, Uint8Array.of(127, 0, 0, 1));
    assert.ok(bound.port > 0 && bound.port < 65536);
    assertSocketError(
      () => bindTo(b, "127.0.0.1", bound.port),
      "bind",
      "EADDRINUSE",
      `Failed to bind: EADDRINUSE (errno 98): 127.0.0.1:${bound.port}`,
    );
    // Without a description, the socket names itself by its label.
    assertSocketError(
      () => b.bind(rawEndpoint("127.0.0.1", bound.port)),
      "bind",
      "EADDRINUSE",
      `Failed to bind: EADDRINUSE (errno 98): fd ${b.fd}`,
    );
    b.label = "the second receiver";
    assertSocketError(
      () => b.bind(rawEndpoint("127.0.0.1", bound.port)),
      "bind",
      "EADDRINUSE",
      "Failed to bind: EADDRINUSE (errno 98): the second receiver",
    );
  });
  await withSockets(1, "IPv6", ([socket]) => {
    bindTo(socket, "::1", 0);
    const bound = socket.localEndpoint();
    assert.equal(bound.family, "IPv6");
    assert.equal(formatAddress(bound.bytes), "::1");
    assert.ok(bound.port > 0);
  });
});

Deno.test("binding an address this host does not have is EADDRNOTAVAIL naming the address", async () => {
  await withSockets(1, "IPv4", ([socket]) =>
    assertSocketError(
      () => bindTo(socket, "10.255.255.1", 5000),
      "bind",
      "EADDRNOTAVAIL",
      "Failed to bind: EADDRNOTAVAIL (errno 99): 10.255.255.1:5000",
    ));
  await withSockets(1, "IPv6", ([socket]) => {
    assertSocketError(
      () => bindTo(socket, "fd00:dead:beef::1", 5000),
      "bind",
      "EADDRNOTAVAIL",
      "Failed to bind: EADDRNOTAVAIL (errno 99): [fd00:dead:beef::1]:5000",
    );
    assertSocketError(
      () => bindTo(socket, "fe80::dead", 5000, 1),
      "bind",
      "EADDRNOTAVAIL",
      "Failed to bind: EADDRNOTAVAIL (errno 99): [fe80::dead%1]:5000",
    );
  });
});

Deno.test("connect fixes the peer; send returns the bytes sent; wait sees them", () =>
  withSockets(2, "IPv4", async (sockets) => {
    const { rx, tx, port } = loopbackPair(sockets);
    const local = tx.localEndpoint();
    assert.equal(formatAddress(local.bytes), "127.0.0.1", "connect picked the source address");
    assert.ok(local.port > 0 && local.port !== port);
    assert.equal(await rx.wait(P.POLLIN, 20), 0, "nothing to read yet");
    assert.equal((await tx.wait(P.POLLOUT, 1_000)) & P.POLLOUT, P.POLLOUT);
    const payload = new TextEncoder().encode("hello loopback");
    assert.equal(tx.send(payload), payload.length);
    assert.equal((await rx.wait(P.POLLIN, 2_000)) & P.POLLIN, P.POLLIN);
    const buffer = new Uint8Array(64);
    const n = Number(libc().read(rx.fd, buffer, 64n));
    assert.equal(new TextDecoder().decode(buffer.subarray(0, n)), "hello loopback");
    assert.equal(await rx.wait(P.POLLIN, 20), 0, "drained: times out with 0");
    assert.equal(tx.send(new Uint8Array(0)), 0, "an empty datagram is a datagram");
    assert.equal((await rx.wait(P.POLLIN, 2_000)) & P.POLLIN, P.POLLIN);
    assert.equal(Number(libc().read(rx.fd, buffer, 64n)), 0);
    for (const size of [3, 3, 5, 3]) assert.equal(tx.send(new Uint8Array(size)), size);
  }));

Deno.test("one batch received by recvmsg, then by recvmmsg, reports each call's lengths", () =>
  withSockets(2, "IPv4", async (sockets) => {
    const { rx, tx } = loopbackPair(sockets);
    const batch = new ReceivedBatch(4, 512, { formatAddress });
    tx.send(new Uint8Array(10));
    assert.equal((await rx.wait(P.POLLIN, 2_000)) & P.POLLIN, P.POLLIN);
    assert.equal(rx.receiveBatch(batch, { singleMessages: true }), 1);
    assert.equal(batch.datagramLength(0), 10);
    tx.send(new Uint8Array(300));
    tx.send(new Uint8Array(7));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(rx.receiveBatch(batch), 2);
    assert.deepEqual([batch.datagramLength(0), batch.datagramLength(1)], [300, 7]);
  }));

Deno.test("sendMessages refuses slots outside the batch before calling the kernel", () =>
  withSockets(2, "IPv4", (sockets) => {
    const { tx } = loopbackPair(sockets);
    const batch = new MessageBatch(2, 64);
    for (const [from, count] of [[0, 5], [2, 1], [-1, 1], [0, 0], [1.5, 1]]) {
      assert.throws(() => tx.sendMessages(batch, from, count), (error: unknown) => {
        assert.ok(error instanceof InvalidValueError, String(error));
        assert.equal(
          error.message,
          `Invalid batch slots: "${count} from slot ${from}" (expected at least one slot, all ` +
            "within the batch's 2)",
        );
        return true;
      });
    }
    batch.setLength(0, 64);
    batch.setLength(1, 64);
    assert.equal(tx.sendMessages(batch, 0, 2), 2);
    assert.deepEqual([batch.receivedLength(0), batch.receivedLength(1)], [64, 64]);
  }));

Deno.test("send and connect failures name the value", () =>
  withSockets(2, "IPv4", async ([unconnected, socket]) => {
    assertSocketError(
      () => unconnected.send(new Uint8Array(3)),
      "send",
      "EDESTADDRREQ",
      `Failed to send: EDESTADDRREQ (errno 89): 3 bytes to fd ${unconnected.fd}`,
    );
    assertSocketError(
      () => connectTo(unconnected, "::1", 9),
      "connect",
      "EAFNOSUPPORT",
      "Failed to connect: EAFNOSUPPORT (errno 97): [::1]:9",
    );
    assertSocketError(
      () => unconnected.connect(rawEndpoint("::1", 9)),
      "connect",
      "EAFNOSUPPORT",
      `Failed to connect: EAFNOSUPPORT (errno 97): fd ${unconnected.fd}`,
    );
    // A port nobody listens on: the ICMP port unreachable comes back as ECONNREFUSED.
    const probe = UdpSocket.open("IPv4");
    bindTo(probe, "127.0.0.1", 0);
    const { port } = probe.localEndpoint();
    probe.close();
    connectTo(socket, "127.0.0.1", port);
    assertSocketError(
      () => socket.send(new Uint8Array(70_000)),
      "send",
      "EMSGSIZE",
      `Failed to send: EMSGSIZE (errno 90): 70000 bytes to fd ${socket.fd}`,
    );
    assert.equal(socket.send(new Uint8Array(1)), 1);
    assert.equal((await socket.wait(0, 2_000)) & P.POLLERR, P.POLLERR, "error queued");
    socket.label = `127.0.0.1:${port}`;
    assertSocketError(
      () => socket.send(new Uint8Array(2)),
      "send",
      "ECONNREFUSED",
      `Failed to send: ECONNREFUSED (errno 111): 2 bytes to 127.0.0.1:${port}`,
    );
  }));

Deno.test("joinGroup, joinSource, blockSource and Membership.leave on lo", async () => {
  const group = freshGroup();
  const port = freshPort();
  const groupBytes = rawAddress(group);
  using rx = UdpSocket.open("IPv4", { label: `receiver of ${group}` });
  bindTo(rx, group, port);
  rx.setInt(P.IPPROTO_IP, P.IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL");
  const senders = ["127.0.0.1", "127.0.0.2"].map((source) =>
    openMulticastSender({ group, port, source, ifindex: LO, ttl: 1 })
  );
  const sendFromBoth = () => {
    for (const sender of senders) assert.equal(sender.send(Uint8Array.of(1, 2)), 2);
  };
  try {
    assert.deepEqual(await sourcesQueued(rx, 0), []);
    const joined = rx.joinGroup(LO, groupBytes, `(*, ${group})`);
    assert.equal(joined.active, true);
    sendFromBoth();
    assert.deepEqual(await sourcesQueued(rx), ["127.0.0.1", "127.0.0.2"]);

    const blocked = rx.blockSource(LO, groupBytes, rawAddress("127.0.0.2"), "127.0.0.2 blocked");
    assert.equal(blocked.active, true);
    sendFromBoth();
    assert.deepEqual(await sourcesQueued(rx), ["127.0.0.1"], "the blocked source is filtered");
    blocked.leave();
    assert.equal(blocked.active, false);
    blocked.leave(); // a second leave does nothing
    sendFromBoth();
    assert.deepEqual(await sourcesQueued(rx), ["127.0.0.1", "127.0.0.2"], "unblocked again");

    joined.leave();
    assert.equal(joined.active, false);
    joined.leave();
    sendFromBoth();
    assert.deepEqual(await sourcesQueued(rx), [], "left: nothing arrives");
    assertSocketError(
      () => rx.blockSource(LO, groupBytes, rawAddress("127.0.0.2"), "no join to block in"),
      "setsockopt(MCAST_BLOCK_SOURCE)",
      "EINVAL",
      "Failed to setsockopt(MCAST_BLOCK_SOURCE): EINVAL (errno 22): no join to block in",
    );

    const source = rx.joinSource(LO, groupBytes, rawAddress("127.0.0.2"), `(127.0.0.2, ${group})`);
    sendFromBoth();
    assert.deepEqual(await sourcesQueued(rx), ["127.0.0.2"], "(S,G): only S");
    source.leave();
    assert.equal(source.active, false);
    sendFromBoth();
    assert.deepEqual(await sourcesQueued(rx), []);

    const again = rx.joinGroup(LO, groupBytes, `(*, ${group})`);
    assertSocketError(
      () => rx.joinGroup(LO, groupBytes, `(*, ${group}) twice`),
      "setsockopt(MCAST_JOIN_GROUP)",
      "EADDRINUSE",
      `Failed to setsockopt(MCAST_JOIN_GROUP): EADDRINUSE (errno 98): (*, ${group}) twice`,
    );
    rx.close();
    assert.equal(again.active, false, "closing the socket ends its memberships");
    again.leave(); // does nothing on a closed socket
  } finally {
    for (const sender of senders) sender.close();
  }
});

labTest(
  "send returns WOULD_BLOCK on EAGAIN and wait reports no room until the queue is freed",
  async (lab) => {
    assert.equal(WOULD_BLOCK, -1);
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
