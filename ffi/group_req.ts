/**
 * Membership request structures for `setsockopt`: `ip_mreqn`, `ip_mreq_source` (IPv4-only
 * calls), `ipv6_mreq`, and the protocol-independent `group_req` / `group_source_req` used with
 * MCAST_JOIN_GROUP / MCAST_JOIN_SOURCE_GROUP for both families.
 *
 * @module
 */

import { InvalidValueError } from "./errors.ts";
import { LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { checkAddress, encodeSockaddr, type RawAddress } from "./sockaddr.ts";
import { nativeBuffer } from "./_buffer.ts";

const LAYOUT = PLATFORM.layout;
const IPV4_ANY = new Uint8Array(4);

/**
 * `struct ip_mreqn { in_addr multiaddr; in_addr address; int ifindex; }` (12 bytes), for
 * IP_ADD_MEMBERSHIP and IP_MULTICAST_IF on Linux.
 *
 * @example
 * ```ts
 * import { ipMreqn } from "./group_req.ts";
 * ipMreqn(Uint8Array.of(239, 1, 2, 3), null, 2); // [239,1,2,3, 0,0,0,0, 2,0,0,0] on little-endian
 * ```
 *
 * @param group The group's 4 bytes, or null (any) for IP_MULTICAST_IF.
 * @param localAddress The local interface address's 4 bytes, null for any.
 * @param ifindex The interface index, 0 for any.
 * @returns The structure.
 */
export function ipMreqn(
  group: Uint8Array | null,
  localAddress: Uint8Array | null,
  ifindex: number,
): Uint8Array {
  const buffer = nativeBuffer(12);
  buffer.set(ipv4Bytes("group", group), 0);
  buffer.set(ipv4Bytes("interface address", localAddress), 4);
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
 * ipMreqSource(Uint8Array.of(232, 1, 1, 1), Uint8Array.of(10, 0, 0, 2), Uint8Array.of(10, 0, 0, 1));
 * // [232,1,1,1, 10,0,0,2, 10,0,0,1]
 * ```
 *
 * @param group The SSM group's 4 bytes.
 * @param interfaceAddress The local interface address's 4 bytes, null for any.
 * @param source The source address's 4 bytes.
 * @returns The structure.
 */
export function ipMreqSource(
  group: Uint8Array,
  interfaceAddress: Uint8Array | null,
  source: Uint8Array,
): Uint8Array {
  const buffer = nativeBuffer(12);
  buffer.set(ipv4Bytes("group", group), 0);
  buffer.set(ipv4Bytes("interface address", interfaceAddress), 4);
  buffer.set(ipv4Bytes("source", source), 8);
  return buffer;
}

/**
 * `struct ipv6_mreq { in6_addr multiaddr; unsigned int ifindex; }` (20 bytes), for
 * IPV6_JOIN_GROUP.
 *
 * @example
 * ```ts
 * import { ipv6Mreq } from "./group_req.ts";
 * ipv6Mreq(new Uint8Array(16), 4).length; // 20
 * ```
 *
 * @param group The group's 16 bytes.
 * @param ifindex The interface index, 0 for the routing default.
 * @returns The structure.
 */
export function ipv6Mreq(group: Uint8Array, ifindex: number): Uint8Array {
  const buffer = nativeBuffer(20);
  checkAddress({ family: "IPv6", bytes: group });
  buffer.set(group, 0);
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
 * groupReq(2, { family: "IPv4", bytes: Uint8Array.of(239, 1, 2, 3) }).length; // 136 on Linux
 * ```
 *
 * @param ifindex The interface index, 0 for the routing default.
 * @param group The group.
 * @returns The structure.
 */
export function groupReq(ifindex: number, group: RawAddress): Uint8Array {
  const buffer = nativeBuffer(LAYOUT.groupReqSize);
  new DataView(buffer.buffer).setUint32(0, ifindex, LITTLE_ENDIAN);
  encodeSockaddr(buffer, { ...group, port: 0 }, LAYOUT.groupReqGroupOffset);
  return buffer;
}

/**
 * `struct group_source_req { uint32_t interface; sockaddr_storage group, source; }`, for
 * MCAST_JOIN_SOURCE_GROUP and MCAST_LEAVE_SOURCE_GROUP.
 *
 * @example
 * ```ts
 * import { groupSourceReq } from "./group_req.ts";
 * const group = { family: "IPv6", bytes: new Uint8Array(16).fill(0xff, 0, 1) } as const;
 * const source = { family: "IPv6", bytes: new Uint8Array(16).fill(0xfd, 0, 1) } as const;
 * groupSourceReq(2, group, source).length; // 264 on Linux
 * ```
 *
 * @param ifindex The interface index, 0 for the routing default.
 * @param group The group.
 * @param source The source, of the group's family.
 * @returns The structure.
 * @throws {InvalidValueError} When the source is of another family than the group.
 */
export function groupSourceReq(
  ifindex: number,
  group: RawAddress,
  source: RawAddress,
): Uint8Array {
  if (source.family !== group.family) {
    throw new InvalidValueError("source family", source.family, `${group.family}, the group's`);
  }
  const buffer = nativeBuffer(LAYOUT.groupSourceReqSize);
  new DataView(buffer.buffer).setUint32(0, ifindex, LITTLE_ENDIAN);
  encodeSockaddr(buffer, { ...group, port: 0 }, LAYOUT.groupReqGroupOffset);
  encodeSockaddr(buffer, { ...source, port: 0 }, LAYOUT.groupSourceReqSourceOffset);
  return buffer;
}

function ipv4Bytes(what: string, bytes: Uint8Array | null): Uint8Array {
  if (bytes === null) return IPV4_ANY;
  if (!(bytes instanceof Uint8Array) || bytes.length !== 4) {
    throw new InvalidValueError(`${what} bytes`, bytes, "4 bytes (IPv4)");
  }
  return bytes;
}
