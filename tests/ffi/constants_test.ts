// Tests of the per-OS constant tables: Linux values spot-checked against the kernel's numbers
// (uapi headers, glibc LP64 struct sizes), capabilities, errno tables, and the darwin table's
// shape against the linux one.

import assert from "node:assert/strict";
import { CAPABILITIES, PLATFORM, type PlatformTable } from "../../ffi/constants.ts";
import { DARWIN } from "../../ffi/_constants_darwin.ts";
import { LINUX } from "../../ffi/_constants_linux.ts";

const isLinux = Deno.build.os === "linux";

/** Dotted paths of every key of a table, nested objects included (errno values excluded). */
function keyPaths(value: object, prefix = ""): string[] {
  return Object.entries(value).flatMap(([key, inner]) =>
    typeof inner === "object" && inner !== null
      ? [`${prefix}${key}`, ...keyPaths(inner, `${prefix}${key}.`)]
      : [`${prefix}${key}`]
  ).sort();
}

function withoutErrno(table: PlatformTable): Omit<PlatformTable, "errno"> {
  const { errno: _, ...rest } = table;
  return rest;
}

Deno.test("the running OS's table is chosen", { ignore: !isLinux }, () => {
  assert.equal(PLATFORM.os, "linux");
  assert.deepEqual(PLATFORM, LINUX);
});

Deno.test("Linux socket constants are the kernel's numbers", () => {
  const expected: Partial<Record<keyof PlatformTable, number>> = {
    AF_INET: 2,
    AF_INET6: 10,
    SOCK_DGRAM: 2,
    SOCK_NONBLOCK: 0o4000,
    SOCK_CLOEXEC: 0o2000000,
    IPPROTO_IP: 0,
    IPPROTO_IPV6: 41,
    IPPROTO_UDP: 17,
    SOL_SOCKET: 1,
    SO_REUSEADDR: 2,
    SO_REUSEPORT: 15,
    SO_SNDBUF: 7,
    SO_RCVBUF: 8,
    SO_RCVBUFFORCE: 33,
    SO_TIMESTAMPNS: 35,
    IP_TOS: 1,
    IP_MULTICAST_IF: 32,
    IP_MULTICAST_TTL: 33,
    IP_MULTICAST_LOOP: 34,
    IP_ADD_MEMBERSHIP: 35,
    IP_ADD_SOURCE_MEMBERSHIP: 39,
    IP_MULTICAST_ALL: 49,
    MCAST_JOIN_GROUP: 42,
    MCAST_LEAVE_GROUP: 45,
    MCAST_JOIN_SOURCE_GROUP: 46,
    MCAST_LEAVE_SOURCE_GROUP: 47,
    MCAST_BLOCK_SOURCE: 43,
    MCAST_UNBLOCK_SOURCE: 44,
    IPV6_MULTICAST_IF: 17,
    IPV6_MULTICAST_HOPS: 18,
    IPV6_MULTICAST_LOOP: 19,
    IPV6_JOIN_GROUP: 20,
    IPV6_V6ONLY: 26,
    IPV6_RECVPKTINFO: 49,
    IPV6_RECVHOPLIMIT: 51,
    IPV6_TCLASS: 67,
    F_GETFL: 3,
    F_SETFL: 4,
    O_NONBLOCK: 0o4000,
    O_CLOEXEC: 0o2000000,
    POLLIN: 1,
    POLLOUT: 4,
    MSG_DONTWAIT: 0x40,
    MSG_TRUNC: 0x20,
    CLOCK_MONOTONIC: 1,
    TIMER_ABSTIME: 1,
    IFNAMSIZ: 16,
    IFF_UP: 0x1,
    IFF_LOOPBACK: 0x8,
    IFF_RUNNING: 0x40,
    IFF_MULTICAST: 0x1000,
    AF_PACKET: 17,
    SOCK_RAW: 3,
    IPPROTO_IGMP: 2,
    IPPROTO_ICMPV6: 58,
    ICMP6_FILTER: 1,
    SO_BINDTODEVICE: 25,
    SO_ATTACH_FILTER: 26,
    ETH_P_IP: 0x0800,
    ETH_P_IPV6: 0x86dd,
    PACKET_OUTGOING: 4,
  };
  const actual = Object.fromEntries(
    Object.keys(expected).map((key) => [key, LINUX[key as keyof PlatformTable]]),
  );
  assert.deepEqual(actual, expected);
});

Deno.test("Linux errno numbers are the kernel's", () => {
  assert.deepEqual(
    {
      EPERM: LINUX.errno.EPERM,
      ENOENT: LINUX.errno.ENOENT,
      EBADF: LINUX.errno.EBADF,
      EAGAIN: LINUX.errno.EAGAIN,
      EACCES: LINUX.errno.EACCES,
      EINVAL: LINUX.errno.EINVAL,
      EMSGSIZE: LINUX.errno.EMSGSIZE,
      ENOPROTOOPT: LINUX.errno.ENOPROTOOPT,
      EAFNOSUPPORT: LINUX.errno.EAFNOSUPPORT,
      EADDRINUSE: LINUX.errno.EADDRINUSE,
      EADDRNOTAVAIL: LINUX.errno.EADDRNOTAVAIL,
      ENETUNREACH: LINUX.errno.ENETUNREACH,
      ENOBUFS: LINUX.errno.ENOBUFS,
      ETIMEDOUT: LINUX.errno.ETIMEDOUT,
      ECONNREFUSED: LINUX.errno.ECONNREFUSED,
    },
    {
      EPERM: 1,
      ENOENT: 2,
      EBADF: 9,
      EAGAIN: 11,
      EACCES: 13,
      EINVAL: 22,
      EMSGSIZE: 90,
      ENOPROTOOPT: 92,
      EAFNOSUPPORT: 97,
      EADDRINUSE: 98,
      EADDRNOTAVAIL: 99,
      ENETUNREACH: 101,
      ENOBUFS: 105,
      ETIMEDOUT: 110,
      ECONNREFUSED: 111,
    },
  );
});

Deno.test("Linux struct layouts match glibc on LP64", () => {
  const layout = LINUX.layout;
  assert.equal(layout.sockaddrHasLength, false);
  assert.equal(layout.sockaddrInSize, 16);
  assert.equal(layout.sockaddrIn6Size, 28);
  assert.equal(layout.sockaddrStorageSize, 128);
  assert.equal(layout.groupReqSize, 136);
  assert.equal(layout.groupReqGroupOffset, 8);
  assert.equal(layout.groupSourceReqSize, 264);
  assert.equal(layout.groupSourceReqSourceOffset, 136);
  // <linux/if_packet.h>, <linux/filter.h>, <netinet/icmp6.h> (checked with offsetof on glibc).
  assert.equal(layout.sockaddrLlSize, 20);
  assert.deepEqual(layout.sockaddrLl, { family: 0, protocol: 2, ifindex: 4, pkttype: 10 });
  assert.equal(layout.sockFilterSize, 8);
  assert.deepEqual(layout.sockFilter, { code: 0, jt: 2, jf: 3, k: 4 });
  assert.equal(layout.sockFprogSize, 16);
  assert.deepEqual(layout.sockFprog, { length: 0, filter: 8 });
  assert.equal(layout.icmp6FilterSize, 32);
  assert.equal(layout.icmp6FilterBitBlocks, true);
  assert.equal(layout.iovecSize, 16);
  assert.equal(layout.msghdrSize, 56);
  assert.equal(layout.mmsghdrSize, 64);
  assert.equal(layout.mmsghdrLenOffset, layout.msghdrSize, "msg_len follows the msghdr");
  assert.equal(layout.cmsgHeaderSize, 16);
  assert.equal(layout.timespecSize, 16);
  assert.equal(layout.pollfdSize, 8);
  assert.equal(
    layout.groupSourceReqSize,
    layout.groupSourceReqSourceOffset + layout.sockaddrStorageSize,
  );
});

Deno.test("every capability holds on Linux", { ignore: !isLinux }, () => {
  assert.deepEqual(CAPABILITIES, {
    batchedMessages: true,
    forcedReceiveBuffer: true,
    nanosecondReceiveTimestamps: true,
    procMembershipVersion: true,
    packetSockets: true,
  });
});

Deno.test("each errno number has one name in each table", () => {
  for (const table of [LINUX, DARWIN]) {
    const seen = new Map<number, string>();
    for (const [name, value] of Object.entries(table.errno)) {
      assert.match(name, /^E[A-Z0-9]+$/);
      assert.ok(Number.isInteger(value) && value > 0, `${table.os} ${name}: ${value}`);
      assert.equal(seen.get(value), undefined, `${table.os}: ${name} and ${seen.get(value)}`);
      seen.set(value, name);
    }
  }
});

Deno.test("the darwin table has the linux table's keys, layout included", () => {
  assert.deepEqual(keyPaths(withoutErrno(DARWIN)), keyPaths(withoutErrno(LINUX)));
  assert.equal(DARWIN.os, "darwin");
  assert.equal(DARWIN.AF_INET6, 30);
  assert.equal(DARWIN.errno.EAGAIN, 35);
  assert.equal(DARWIN.layout.sockaddrHasLength, true);
});

// Regression: the darwin errno table once lacked names the linux one has, so checks such as
// procfs's ENOTDIR compared against undefined on macOS.
Deno.test("the darwin errno table names the same errors as the linux one", () => {
  assert.deepEqual(Object.keys(DARWIN.errno).sort(), Object.keys(LINUX.errno).sort());
});
