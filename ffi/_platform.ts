// The shape of one OS's table: socket constants, errno numbers and struct layouts.

/** Byte offsets and sizes of the C structures we build by hand. */
export interface StructLayout {
  /** BSD sockaddrs start with a length byte, then a one-byte family. */
  sockaddrHasLength: boolean;
  sockaddrStorageSize: number;
  sockaddrInSize: number;
  sockaddrIn6Size: number;
  groupReqSize: number;
  groupReqGroupOffset: number;
  groupSourceReqSize: number;
  groupSourceReqSourceOffset: number;
  iovecSize: number;
  msghdrSize: number;
  msghdr: {
    name: number;
    namelen: number;
    iov: number;
    iovlen: number;
    control: number;
    controllen: number;
    flags: number;
  };
  /** -1 where the OS has no sendmmsg/recvmmsg. */
  mmsghdrSize: number;
  mmsghdrLenOffset: number;
  cmsgHeaderSize: number;
  cmsgAlign: number;
  /** Width of cmsg_len (size_t on Linux, socklen_t on BSD). */
  cmsgLenSize: number;
  ifaddrs: { next: number; name: number; flags: number; addr: number };
  inPktinfo: { ifindex: number; specDst: number; addr: number };
  in6Pktinfo: { addr: number; ifindex: number };
  timespecSize: number;
  /** struct rlimit: two rlim_t (64-bit). */
  rlimitSize: number;
  pollfdSize: number;
  /** `struct sockaddr_ll`; size -1 where the OS has no packet sockets. */
  sockaddrLlSize: number;
  sockaddrLl: { family: number; protocol: number; ifindex: number; pkttype: number };
  /** `struct sock_filter` (one classic BPF instruction) and `struct sock_fprog`. */
  sockFilterSize: number;
  sockFilter: { code: number; jt: number; jf: number; k: number };
  sockFprogSize: number;
  sockFprog: { length: number; filter: number };
  /** `struct icmp6_filter`: 256 bits, one per ICMPv6 type. */
  icmp6FilterSize: number;
  /** Whether a set bit blocks its type (Linux) rather than passes it (BSD). */
  icmp6FilterBitBlocks: boolean;
}

/** One OS's constants. A value of -1 means the OS has no such option. */
export interface PlatformTable {
  os: string;
  AF_INET: number;
  AF_INET6: number;
  SOCK_DGRAM: number;
  SOCK_NONBLOCK: number;
  SOCK_CLOEXEC: number;
  IPPROTO_IP: number;
  IPPROTO_IPV6: number;
  IPPROTO_UDP: number;
  SOL_SOCKET: number;
  SO_REUSEADDR: number;
  SO_REUSEPORT: number;
  SO_ERROR: number;
  SO_SNDBUF: number;
  SO_RCVBUF: number;
  SO_SNDBUFFORCE: number;
  SO_RCVBUFFORCE: number;
  SO_NETNS_COOKIE: number;
  SO_TIMESTAMPNS: number;
  SCM_TIMESTAMPNS: number;
  IP_TOS: number;
  IP_TTL: number;
  IP_PKTINFO: number;
  IP_RECVTTL: number;
  IP_RECVTOS: number;
  IP_MULTICAST_IF: number;
  IP_MULTICAST_TTL: number;
  IP_MULTICAST_LOOP: number;
  IP_ADD_MEMBERSHIP: number;
  IP_DROP_MEMBERSHIP: number;
  IP_ADD_SOURCE_MEMBERSHIP: number;
  IP_DROP_SOURCE_MEMBERSHIP: number;
  IP_MULTICAST_ALL: number;
  MCAST_JOIN_GROUP: number;
  MCAST_LEAVE_GROUP: number;
  MCAST_JOIN_SOURCE_GROUP: number;
  MCAST_LEAVE_SOURCE_GROUP: number;
  MCAST_BLOCK_SOURCE: number;
  MCAST_UNBLOCK_SOURCE: number;
  IPV6_MULTICAST_IF: number;
  IPV6_MULTICAST_HOPS: number;
  IPV6_MULTICAST_LOOP: number;
  IPV6_JOIN_GROUP: number;
  IPV6_LEAVE_GROUP: number;
  IPV6_V6ONLY: number;
  IPV6_MULTICAST_ALL: number;
  IPV6_RECVPKTINFO: number;
  IPV6_PKTINFO: number;
  IPV6_RECVHOPLIMIT: number;
  IPV6_HOPLIMIT: number;
  IPV6_RECVTCLASS: number;
  IPV6_TCLASS: number;
  F_GETFL: number;
  F_SETFL: number;
  O_NONBLOCK: number;
  O_RDONLY: number;
  O_WRONLY: number;
  O_TRUNC: number;
  O_CLOEXEC: number;
  POLLIN: number;
  POLLOUT: number;
  POLLERR: number;
  POLLHUP: number;
  MSG_DONTWAIT: number;
  MSG_TRUNC: number;
  MSG_CTRUNC: number;
  CLOCK_REALTIME: number;
  CLOCK_MONOTONIC: number;
  TIMER_ABSTIME: number;
  /** `prctl` options of the calling thread's timer slack (Linux); -1 where the OS has none. */
  PR_SET_TIMERSLACK: number;
  PR_GET_TIMERSLACK: number;
  IFNAMSIZ: number;
  RLIMIT_NOFILE: number;
  IFF_UP: number;
  IFF_LOOPBACK: number;
  IFF_RUNNING: number;
  IFF_MULTICAST: number;
  /** Packet sockets (`AF_PACKET`, Linux); -1 where the OS has none. */
  AF_PACKET: number;
  SOCK_RAW: number;
  IPPROTO_IGMP: number;
  IPPROTO_ICMPV6: number;
  /** `setsockopt(IPPROTO_ICMPV6, ICMP6_FILTER)`: which ICMPv6 types a raw socket gets. */
  ICMP6_FILTER: number;
  /** -1 where the OS cannot bind a socket to a device by name. */
  SO_BINDTODEVICE: number;
  /** Classic BPF socket filters; -1 where the OS has none on sockets. */
  SO_ATTACH_FILTER: number;
  /** Ethertypes a packet socket binds to (host order here; the socket takes them big-endian). */
  ETH_P_IP: number;
  ETH_P_IPV6: number;
  /** `sll_pkttype` of a frame this host sent. */
  PACKET_OUTGOING: number;
  errno: Readonly<Record<string, number>>;
  layout: StructLayout;
}
