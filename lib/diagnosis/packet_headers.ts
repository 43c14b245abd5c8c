/**
 * The headers the wire tap and the querier listener read, as pure functions of the bytes: an
 * IPv4 or IPv6 UDP datagram (addresses and ports), an IGMP query (with its IPv4 header) and an
 * MLD query (the ICMPv6 message), with the version each query's size and code give
 * (RFC 3376 §7.1, RFC 3810 §8.1):
 *
 * - IGMP: 8 bytes with max-response code 0 → IGMPv1; 8 bytes, code ≠ 0 → IGMPv2; 12 or more →
 *   IGMPv3; other sizes are not queries.
 * - MLD: 24 bytes → MLDv1; 28 or more → MLDv2; other sizes are not queries.
 *
 * @module
 */

import { type AddressFamily, formatAddress } from "../address.ts";

/** The addresses and ports of a UDP datagram. */
export interface UdpHeaders {
  /** Its family. */
  family: AddressFamily;
  /** The source address. */
  source: string;
  /** The destination address. */
  destination: string;
  /** The source port. */
  sourcePort: number;
  /** The destination port. */
  destinationPort: number;
}

/** A membership query. */
export interface MembershipQuery {
  /** IGMP or MLD. */
  protocol: "igmp" | "mld";
  /** IGMP 1, 2, 3; MLD 1, 2. */
  version: number;
  /** The querier's address. */
  source: string;
  /** The group asked about, or null for a general query. */
  group: string | null;
}

const IGMP_QUERY = 0x11;
const MLD_QUERY = 130;
const UDP = 17;

/**
 * Reads the headers of a UDP datagram from its IP header on; null when it is not UDP (IPv6:
 * UDP right after the fixed header), is a later fragment, or is cut short.
 *
 * @example
 * ```ts
 * import { parseUdpHeaders } from "./packet_headers.ts";
 * const ip = [0x45, 0, 0, 36, 0, 0, 0, 0, 1, 17, 0, 0, 10, 0, 0, 1, 239, 1, 1, 1];
 * const udp = [0x9c, 0x40, 0x4d, 0x43, 0, 16, 0, 0];
 * parseUdpHeaders(Uint8Array.from([...ip, ...udp]));
 * // { family: "IPv4", source: "10.0.0.1", destination: "239.1.1.1",
 * //   sourcePort: 40000, destinationPort: 19779 }
 * ```
 *
 * @param bytes The datagram, from the IP header.
 * @returns Its headers, or null.
 */
export function parseUdpHeaders(bytes: Uint8Array): UdpHeaders | null {
  if (bytes.length < 1) return null;
  const version = bytes[0] >> 4;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let udp: number;
  let family: AddressFamily;
  let source: Uint8Array;
  let destination: Uint8Array;
  if (version === 4) {
    const ihl = (bytes[0] & 0x0f) * 4;
    if (ihl < 20 || bytes.length < ihl + 8 || bytes[9] !== UDP) return null;
    if ((view.getUint16(6) & 0x1fff) !== 0) return null; // not the first fragment
    family = "IPv4";
    source = bytes.subarray(12, 16);
    destination = bytes.subarray(16, 20);
    udp = ihl;
  } else if (version === 6) {
    if (bytes.length < 48 || bytes[6] !== UDP) return null;
    family = "IPv6";
    source = bytes.subarray(8, 24);
    destination = bytes.subarray(24, 40);
    udp = 40;
  } else {
    return null;
  }
  return {
    family,
    source: formatAddress(source),
    destination: formatAddress(destination),
    sourcePort: view.getUint16(udp),
    destinationPort: view.getUint16(udp + 2),
  };
}

/**
 * Reads an IGMP query from an IPv4 datagram (as a raw IGMP socket receives it: header included);
 * null when it is not a query.
 *
 * @example
 * ```ts
 * import { parseIgmpQuery } from "./packet_headers.ts";
 * const ip = [0x46, 0xc0, 0, 32, 0, 0, 0, 0, 1, 2, 0, 0, 10, 0, 0, 254, 224, 0, 0, 1, 0x94, 4, 0, 0];
 * parseIgmpQuery(Uint8Array.from([...ip, 0x11, 100, 0, 0, 0, 0, 0, 0]));
 * // { protocol: "igmp", version: 2, source: "10.0.0.254", group: null }
 * ```
 *
 * @param bytes The datagram, from the IPv4 header.
 * @returns The query, or null.
 */
export function parseIgmpQuery(bytes: Uint8Array): MembershipQuery | null {
  if (bytes.length < 20 || bytes[0] >> 4 !== 4 || bytes[9] !== 2) return null;
  const ihl = (bytes[0] & 0x0f) * 4;
  const total = Math.min((bytes[2] << 8) | bytes[3], bytes.length);
  const length = total - ihl;
  if (ihl < 20 || length < 8 || bytes[ihl] !== IGMP_QUERY) return null;
  const version = length === 8 ? (bytes[ihl + 1] === 0 ? 1 : 2) : length >= 12 ? 3 : 0;
  if (version === 0) return null;
  const group = bytes.subarray(ihl + 4, ihl + 8);
  return {
    protocol: "igmp",
    version,
    source: formatAddress(bytes.subarray(12, 16)),
    group: group.every((b) => b === 0) ? null : formatAddress(group),
  };
}

/**
 * Reads an MLD query from an ICMPv6 message (as a raw ICMPv6 socket receives it); null when it
 * is not a query.
 *
 * @example
 * ```ts
 * import { parseMldQuery } from "./packet_headers.ts";
 * const message = new Uint8Array(24);
 * message[0] = 130;
 * parseMldQuery(message, "fe80::1");
 * // { protocol: "mld", version: 1, source: "fe80::1", group: null }
 * ```
 *
 * @param message The ICMPv6 message.
 * @param source The sender's address.
 * @returns The query, or null.
 */
export function parseMldQuery(message: Uint8Array, source: string): MembershipQuery | null {
  if (message.length < 24 || message[0] !== MLD_QUERY) return null;
  const version = message.length === 24 ? 1 : message.length >= 28 ? 2 : 0;
  if (version === 0) return null;
  const group = message.subarray(8, 24);
  return {
    protocol: "mld",
    version,
    source,
    group: group.every((b) => b === 0) ? null : formatAddress(group),
  };
}
