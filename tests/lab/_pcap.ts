/**
 * Private: a small reader of classic libpcap files (as `tcpdump -w` writes them) that decodes
 * Ethernet / Linux cooked frames down to IPv4/IPv6 and UDP.
 *
 * @module
 */

import { LabError } from "../../lib/errors.ts";

/** One IP packet read from a capture. */
export interface CapturedPacket {
  /** Capture time, seconds since the epoch (fractional). */
  time: number;
  /** 4 or 6. */
  family: 4 | 6;
  /** Source address (IPv6 in RFC 5952 form). */
  src: string;
  /** Destination address. */
  dst: string;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl: number;
  /** IPv4 TOS byte or IPv6 traffic class. */
  tos: number;
  /** `tos >> 2`. */
  dscp: number;
  /** `tos & 3`. */
  ecn: number;
  /** IP protocol / next header of the transport (17 = UDP, 58 = ICMPv6, 2 = IGMP). */
  protocol: number;
  /** UDP source port (UDP only). */
  srcPort?: number;
  /** UDP destination port (UDP only). */
  dstPort?: number;
  /** UDP payload bytes as captured (UDP only; shorter than `udpLength - 8` if truncated). */
  payload?: Uint8Array;
  /**
   * The transport header and what follows it, for any protocol (IGMP, ICMPv6/MLD, UDP …), after
   * the IP header and any IPv6 extension headers; absent for non-first fragments.
   */
  transport?: Uint8Array;
  /** Length of the frame on the wire. */
  wireLength: number;
}

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;
const LINKTYPE_LINUX_SLL2 = 276;

/**
 * Decode a libpcap file into its IP packets (non-IP frames are skipped).
 *
 * @param bytes The whole file.
 * @returns The packets in capture order.
 * @throws {LabError} When the file is not a libpcap file or the link type is unsupported.
 */
export function parsePcap(bytes: Uint8Array): CapturedPacket[] {
  if (bytes.length < 24) {
    if (bytes.length === 0) return [];
    throw new LabError(`Invalid pcap file: ${bytes.length} bytes is shorter than its header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicBig = view.getUint32(0, false);
  let little: boolean;
  let nanos: boolean;
  switch (magicBig) {
    case 0xa1b2c3d4:
      little = false;
      nanos = false;
      break;
    case 0xa1b23c4d:
      little = false;
      nanos = true;
      break;
    case 0xd4c3b2a1:
      little = true;
      nanos = false;
      break;
    case 0x4d3cb2a1:
      little = true;
      nanos = true;
      break;
    default:
      throw new LabError(
        `Invalid pcap file: magic 0x${magicBig.toString(16)} (expected libpcap, not pcapng)`,
      );
  }
  const linkType = view.getUint32(20, little) & 0x0fffffff;
  const packets: CapturedPacket[] = [];
  let offset = 24;
  while (offset + 16 <= bytes.length) {
    const sec = view.getUint32(offset, little);
    const frac = view.getUint32(offset + 4, little);
    const capLen = view.getUint32(offset + 8, little);
    const wireLength = view.getUint32(offset + 12, little);
    offset += 16;
    if (offset + capLen > bytes.length) break; // truncated last record (capture still running)
    const frame = bytes.subarray(offset, offset + capLen);
    offset += capLen;
    const time = sec + frac / (nanos ? 1e9 : 1e6);
    const ip = linkPayload(frame, linkType);
    if (!ip) continue;
    const packet = decodeIp(ip, time, wireLength);
    if (packet) packets.push(packet);
  }
  return packets;
}

/**
 * Read and decode a libpcap file.
 *
 * @param path The file.
 * @returns The IP packets in capture order.
 */
export async function readPcap(path: string): Promise<CapturedPacket[]> {
  return parsePcap(await Deno.readFile(path));
}

function linkPayload(frame: Uint8Array, linkType: number): Uint8Array | undefined {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let etherType: number;
  let at: number;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      if (frame.length < 14) return undefined;
      etherType = view.getUint16(12);
      at = 14;
      while ((etherType === 0x8100 || etherType === 0x88a8) && at + 4 <= frame.length) {
        etherType = view.getUint16(at + 2);
        at += 4;
      }
      break;
    case LINKTYPE_LINUX_SLL:
      if (frame.length < 16) return undefined;
      etherType = view.getUint16(14);
      at = 16;
      break;
    case LINKTYPE_LINUX_SLL2:
      if (frame.length < 20) return undefined;
      etherType = view.getUint16(0);
      at = 20;
      break;
    case LINKTYPE_NULL: {
      if (frame.length < 4) return undefined;
      const family = view.getUint32(0, true);
      etherType = family === 2 ? 0x0800 : [10, 24, 28, 30].includes(family) ? 0x86dd : 0;
      at = 4;
      break;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      if (frame.length < 1) return undefined;
      etherType = (frame[0] >> 4) === 6 ? 0x86dd : 0x0800;
      at = 0;
      break;
    default:
      throw new LabError(`Unsupported pcap link type: ${linkType}`);
  }
  if (etherType !== 0x0800 && etherType !== 0x86dd) return undefined;
  return frame.subarray(at);
}

function decodeIp(ip: Uint8Array, time: number, wireLength: number): CapturedPacket | undefined {
  if (ip.length < 1) return undefined;
  const view = new DataView(ip.buffer, ip.byteOffset, ip.byteLength);
  const version = ip[0] >> 4;
  if (version === 4) {
    if (ip.length < 20) return undefined;
    const ihl = (ip[0] & 0x0f) * 4;
    const tos = ip[1];
    const totalLength = view.getUint16(2);
    const fragOffset = view.getUint16(6) & 0x1fff;
    const packet: CapturedPacket = {
      time,
      family: 4,
      src: formatIpv4(ip.subarray(12, 16)),
      dst: formatIpv4(ip.subarray(16, 20)),
      ttl: ip[8],
      tos,
      dscp: tos >> 2,
      ecn: tos & 3,
      protocol: ip[9],
      wireLength,
    };
    const end = Math.min(ip.length, totalLength || ip.length);
    if (fragOffset === 0) packet.transport = ip.slice(ihl, end);
    if (packet.protocol === 17 && fragOffset === 0) decodeUdp(ip.subarray(ihl, end), packet);
    return packet;
  }
  if (version === 6) {
    if (ip.length < 40) return undefined;
    const tos = (view.getUint16(0) >> 4) & 0xff;
    const payloadLength = view.getUint16(4);
    let next = ip[6];
    let at = 40;
    const end = Math.min(ip.length, 40 + payloadLength);
    // Walk hop-by-hop, routing and destination options headers; stop at a fragment header.
    while ((next === 0 || next === 43 || next === 60) && at + 2 <= end) {
      const hdrNext = ip[at];
      const len = (ip[at + 1] + 1) * 8;
      next = hdrNext;
      at += len;
    }
    const packet: CapturedPacket = {
      time,
      family: 6,
      src: formatIpv6(ip.subarray(8, 24)),
      dst: formatIpv6(ip.subarray(24, 40)),
      ttl: ip[7],
      tos,
      dscp: tos >> 2,
      ecn: tos & 3,
      protocol: next,
      wireLength,
    };
    if (next !== 44 && at <= end) packet.transport = ip.slice(at, end);
    if (next === 17 && at <= end) decodeUdp(ip.subarray(at, end), packet);
    return packet;
  }
  return undefined;
}

function decodeUdp(udp: Uint8Array, packet: CapturedPacket): void {
  if (udp.length < 8) return;
  const view = new DataView(udp.buffer, udp.byteOffset, udp.byteLength);
  packet.srcPort = view.getUint16(0);
  packet.dstPort = view.getUint16(2);
  const length = view.getUint16(4);
  const end = length >= 8 ? Math.min(udp.length, length) : udp.length;
  packet.payload = udp.slice(8, end);
}

/**
 * Format 4 bytes as dotted quad.
 *
 * @param b The address bytes.
 * @returns `a.b.c.d`.
 */
export function formatIpv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/**
 * Format 16 bytes as an IPv6 address in RFC 5952 form (longest zero run of 2+ groups as `::`,
 * lower-case hex; IPv4-mapped addresses as `::ffff:a.b.c.d`).
 *
 * @param b The address bytes.
 * @returns The text form.
 */
export function formatIpv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4(b.subarray(12, 16))}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLen).join(":");
  return `${head}::${tail}`;
}
