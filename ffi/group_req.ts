/**
 * Membership request structures for `setsockopt`: `ip_mreqn`, `ip_mreq_source` (IPv4-only
 * calls), `ipv6_mreq`, and the protocol-independent `group_req` / `group_source_req` used with
 * MCAST_JOIN_GROUP / MCAST_JOIN_SOURCE_GROUP for both families.
 *
 * @module
 */

import { parseIpv4, parseIpv6 } from "../lib/address.ts";
import { PLATFORM } from "./constants.ts";
import { encodeSockaddr } from "./sockaddr.ts";
import { nativeBuffer } from "./_buffer.ts";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LAYOUT = PLATFORM.layout;

/**
 * `struct ip_mreqn { in_addr multiaddr; in_addr address; int ifindex; }` (12 bytes), for
 * IP_ADD_MEMBERSHIP and IP_MULTICAST_IF on Linux.
 *
 * @example
 * ```ts
 * import { ipMreqn } from "./group_req.ts";
 * ipMreqn("239.1.2.3", "0.0.0.0", 2); // [239,1,2,3, 0,0,0,0, 2,0,0,0] on little-endian
 * ```
 *
 * @param group The group (or `"0.0.0.0"` for IP_MULTICAST_IF).
 * @param localAddress The local interface address, `"0.0.0.0"` for any.
 * @param ifindex The interface index, 0 for any.
 * @returns The structure.
 */
export function ipMreqn(group: string, localAddress: string, ifindex: number): Uint8Array {
  const buffer = nativeBuffer(12);
  buffer.set(parseIpv4(group, { what: "group" }), 0);
  buffer.set(parseIpv4(localAddress, { what: "interface address" }), 4);
  new DataView(buffer.buffer).setInt32(8, ifindex, LITTLE_ENDIAN);
  return buffer;
}

/**
 * `struct ip_mreq_source { in_addr multiaddr; in_addr interface; in_addr sourceaddr; }` on Linux
 * (12 bytes), for IP_ADD_SOURCE_MEMBERSHIP.
 *
 * @example
 * ```ts
 * import { ipMreqSource } from "./group_req.ts";
 * ipMreqSource("232.1.1.1", "10.0.0.2", "10.0.0.1");
 * // [232,1,1,1, 10,0,0,2, 10,0,0,1]
 * ```
 *
 * @param group The SSM group.
 * @param interfaceAddress The local interface address.
 * @param source The source address.
 * @returns The structure.
 */
export function ipMreqSource(group: string, interfaceAddress: string, source: string): Uint8Array {
  const buffer = nativeBuffer(12);
  buffer.set(parseIpv4(group, { what: "group" }), 0);
  buffer.set(parseIpv4(interfaceAddress, { what: "interface address" }), 4);
  buffer.set(parseIpv4(source, { what: "source" }), 8);
  return buffer;
}

/**
 * `struct ipv6_mreq { in6_addr multiaddr; unsigned int ifindex; }` (20 bytes), for
 * IPV6_JOIN_GROUP.
 *
 * @example
 * ```ts
 * import { ipv6Mreq } from "./group_req.ts";
 * ipv6Mreq("ff3e::1", 4).length; // 20
 * ```
 *
 * @param group The group.
 * @param ifindex The interface index, 0 for the routing default.
 * @returns The structure.
 */
export function ipv6Mreq(group: string, ifindex: number): Uint8Array {
  const buffer = nativeBuffer(20);
  buffer.set(parseIpv6(group, { what: "group" }), 0);
  new DataView(buffer.buffer).setUint32(16, ifindex, LITTLE_ENDIAN);
  return buffer;
}

/**
 * `struct group_req { uint32_t interface; sockaddr_storage group; }`, for MCAST_JOIN_GROUP and
 * MCAST_LEAVE_GROUP (level IPPROTO_IP or IPPROTO_IPV6 by family).
 *
 * @example
 * ```ts
 * import { groupReq } from "./group_req.ts";
 * groupReq(2, "239.1.2.3").length; // 136 on Linux
 * ```
 *
 * @param ifindex The interface index, 0 for the routing default.
 * @param group The group.
 * @returns The structure.
 */
export function groupReq(ifindex: number, group: string): Uint8Array {
  const buffer = nativeBuffer(LAYOUT.groupReqSize);
  new DataView(buffer.buffer).setUint32(0, ifindex, LITTLE_ENDIAN);
  encodeSockaddr(buffer, { address: group, port: 0 }, LAYOUT.groupReqGroupOffset);
  return buffer;
}

/**
 * `struct group_source_req { uint32_t interface; sockaddr_storage group, source; }`, for
 * MCAST_JOIN_SOURCE_GROUP and MCAST_LEAVE_SOURCE_GROUP.
 *
 * @example
 * ```ts
 * import { groupSourceReq } from "./group_req.ts";
 * groupSourceReq(2, "ff3e::8000:1", "fd00::1").length; // 264 on Linux
 * ```
 *
 * @param ifindex The interface index, 0 for the routing default.
 * @param group The group.
 * @param source The source.
 * @returns The structure.
 */
export function groupSourceReq(ifindex: number, group: string, source: string): Uint8Array {
  const buffer = nativeBuffer(LAYOUT.groupSourceReqSize);
  new DataView(buffer.buffer).setUint32(0, ifindex, LITTLE_ENDIAN);
  encodeSockaddr(buffer, { address: group, port: 0 }, LAYOUT.groupReqGroupOffset);
  encodeSockaddr(buffer, { address: source, port: 0 }, LAYOUT.groupSourceReqSourceOffset);
  return buffer;
}
