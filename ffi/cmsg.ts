/**
 * Control (ancillary) messages of a received datagram: walking them (CMSG_FIRSTHDR /
 * CMSG_NXTHDR semantics) into a reused {@linkcode ReceivedMetadata} — TTL / hop limit, TOS /
 * traffic class, packet info (destination, arrival interface) and the kernel receive time —
 * without allocating.
 *
 * @module
 */

import { LITTLE_ENDIAN, PLATFORM } from "./constants.ts";

const LAYOUT = PLATFORM.layout;

// One cached view of the last control buffer walked (a MessageBatch walks the same one each time).
let lastControl: ArrayBufferLike | null = null;
let lastControlOffset = -1;
let lastControlView: DataView | null = null;

// The same buffer as native-endian 32-bit words, for the aligned walk (typed-array loads are the
// cheapest reads V8 has; the kernel writes control messages in the host's byte order).
let lastWordsBuffer: ArrayBufferLike | null = null;
let lastWords: Int32Array = new Int32Array(0);

const IPPROTO_IP = PLATFORM.IPPROTO_IP;
const IPPROTO_IPV6 = PLATFORM.IPPROTO_IPV6;
const SOL_SOCKET = PLATFORM.SOL_SOCKET;
const IP_TTL = PLATFORM.IP_TTL;
const IP_TOS = PLATFORM.IP_TOS;
const IP_PKTINFO = PLATFORM.IP_PKTINFO;
const IPV6_HOPLIMIT = PLATFORM.IPV6_HOPLIMIT;
const IPV6_TCLASS = PLATFORM.IPV6_TCLASS;
const IPV6_PKTINFO = PLATFORM.IPV6_PKTINFO;
const SCM_TIMESTAMPNS = PLATFORM.SCM_TIMESTAMPNS;
const HEADER_SIZE = LAYOUT.cmsgHeaderSize;
const ALIGN = LAYOUT.cmsgAlign;
const LEN_SIZE = LAYOUT.cmsgLenSize;
const IN_PKTINFO = LAYOUT.inPktinfo;
const IN6_PKTINFO = LAYOUT.in6Pktinfo;
// Word offsets (little-endian hosts: the low half of a 64-bit field comes first).
const LOW = LITTLE_ENDIAN ? 0 : 1;
const HIGH = LITTLE_ENDIAN ? 1 : 0;
const WORDS_OK = ALIGN % 4 === 0 && HEADER_SIZE % 4 === 0 && LEN_SIZE % 4 === 0 &&
  IN_PKTINFO.ifindex % 4 === 0 && IN6_PKTINFO.ifindex % 4 === 0;

function controlWords(control: Uint8Array): Int32Array {
  const buffer = control.buffer;
  if (lastWordsBuffer !== buffer) {
    lastWordsBuffer = buffer;
    lastWords = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  return lastWords;
}

function controlView(control: Uint8Array): DataView {
  if (
    lastControlView === null || lastControl !== control.buffer ||
    lastControlOffset !== control.byteOffset
  ) {
    lastControl = control.buffer;
    lastControlOffset = control.byteOffset;
    lastControlView = new DataView(control.buffer, control.byteOffset);
  }
  return lastControlView;
}

/**
 * What the kernel told about one received datagram, through its control messages. Reused from
 * datagram to datagram; -1 / 0n / null mean "not reported".
 *
 * @example
 * ```ts
 * import { ReceivedMetadata } from "./msghdr.ts";
 * const meta = new ReceivedMetadata();
 * meta.ttl; // -1 until a datagram with IP_TTL ancillary data is read
 * ```
 */
export class ReceivedMetadata {
  /** Received IPv4 TTL or IPv6 hop limit; -1 when not reported. */
  ttl: number = -1;
  /** Received IPv4 TOS byte or IPv6 traffic class; -1 when not reported. */
  tos: number = -1;
  /** Arrival interface index (packet info); 0 when not reported. */
  interfaceIndex = 0;
  /** Destination address family from packet info, or null. */
  destinationFamily: "IPv4" | "IPv6" | null = null;
  /** Destination address bytes (4 or 16 used) from packet info. */
  readonly destination: Uint8Array = new Uint8Array(16);
  /** Whether the kernel reported a receive time (SO_TIMESTAMPNS). */
  hasTimestamp = false;
  /** Kernel receive time, whole seconds (`tv_sec`, exact as a number); 0 when not reported. */
  timestampSeconds = 0;
  /** Kernel receive time, nanoseconds within the second (`tv_nsec`); 0 when not reported. */
  timestampNanos = 0;

  /**
   * Kernel receive time (SO_TIMESTAMPNS, CLOCK_REALTIME) in ns; -1n when not reported. Made from
   * {@linkcode ReceivedMetadata.timestampSeconds} and {@linkcode ReceivedMetadata.timestampNanos}
   * when read, so that a receive path that does not read it makes no bigint.
   *
   * @returns The time, or -1n.
   */
  get timestampNs(): bigint {
    if (!this.hasTimestamp) return -1n;
    return BigInt(this.timestampSeconds) * 1_000_000_000n + BigInt(this.timestampNanos);
  }

  /** Forgets the previous datagram's values. */
  clear(): void {
    this.ttl = -1;
    this.tos = -1;
    this.interfaceIndex = 0;
    this.destinationFamily = null;
    this.hasTimestamp = false;
    this.timestampSeconds = 0;
    this.timestampNanos = 0;
  }
}

/**
 * Walks `length` bytes of control messages starting at `start` of `control` (CMSG_FIRSTHDR /
 * CMSG_NXTHDR semantics) and records TTL/hop limit, TOS/traffic class, packet info and the
 * kernel timestamp in `out`. Malformed lengths end the walk; nothing is allocated.
 *
 * @example
 * ```ts
 * import { parseControlMessages, ReceivedMetadata } from "./msghdr.ts";
 * const out = new ReceivedMetadata();
 * parseControlMessages(new Uint8Array(0), 0, 0, out);
 * out.ttl; // -1
 * ```
 *
 * @param control The control buffer.
 * @param start Offset of the first control message.
 * @param length Bytes of control data (msg_controllen).
 * @param out Where the values go; cleared first.
 */
export function parseControlMessages(
  control: Uint8Array,
  start: number,
  length: number,
  out: ReceivedMetadata,
): void {
  out.clear();
  if (WORDS_OK && ((control.byteOffset + start) & 3) === 0) {
    parseAligned(control, control.byteOffset + start, length, out);
    return;
  }
  const view = controlView(control);
  const end = start + length;
  const headerSize = LAYOUT.cmsgHeaderSize;
  const align = LAYOUT.cmsgAlign;
  const lenSize = LAYOUT.cmsgLenSize;
  let offset = start;
  while (offset + headerSize <= end) {
    // A 64-bit cmsg_len read as two halves: no BigInt per control message.
    const cmsgLen = lenSize === 8
      ? view.getUint32(offset, LITTLE_ENDIAN) +
        view.getUint32(offset + 4, LITTLE_ENDIAN) * 0x1_0000_0000
      : view.getUint32(offset, LITTLE_ENDIAN);
    if (cmsgLen < headerSize || offset + cmsgLen > end) break;
    const level = view.getInt32(offset + lenSize, LITTLE_ENDIAN);
    const type = view.getInt32(offset + lenSize + 4, LITTLE_ENDIAN);
    const data = offset + headerSize;
    const dataLength = cmsgLen - headerSize;
    if (level === PLATFORM.IPPROTO_IP) {
      if (type === PLATFORM.IP_TTL && dataLength >= 4) {
        out.ttl = view.getInt32(data, LITTLE_ENDIAN);
      } else if (type === PLATFORM.IP_TOS && dataLength >= 1) {
        out.tos = view.getUint8(data);
      } else if (type === PLATFORM.IP_PKTINFO && dataLength >= 12) {
        const p = LAYOUT.inPktinfo;
        out.interfaceIndex = view.getInt32(data + p.ifindex, LITTLE_ENDIAN);
        out.destinationFamily = "IPv4";
        for (let b = 0; b < 4; b++) out.destination[b] = control[data + p.addr + b];
      }
    } else if (level === PLATFORM.IPPROTO_IPV6) {
      if (type === PLATFORM.IPV6_HOPLIMIT && dataLength >= 4) {
        out.ttl = view.getInt32(data, LITTLE_ENDIAN);
      } else if (type === PLATFORM.IPV6_TCLASS && dataLength >= 4) {
        out.tos = view.getInt32(data, LITTLE_ENDIAN);
      } else if (type === PLATFORM.IPV6_PKTINFO && dataLength >= 20) {
        const p = LAYOUT.in6Pktinfo;
        out.interfaceIndex = view.getUint32(data + p.ifindex, LITTLE_ENDIAN);
        out.destinationFamily = "IPv6";
        for (let b = 0; b < 16; b++) out.destination[b] = control[data + p.addr + b];
      }
    } else if (level === PLATFORM.SOL_SOCKET && type === PLATFORM.SCM_TIMESTAMPNS) {
      if (dataLength >= 16) {
        // tv_sec as a number (exact below 2^53 s) and tv_nsec: no BigInt per datagram.
        out.timestampSeconds = view.getUint32(data, LITTLE_ENDIAN) +
          view.getInt32(data + 4, LITTLE_ENDIAN) * 0x1_0000_0000;
        out.timestampNanos = view.getUint32(data + 8, LITTLE_ENDIAN);
        out.hasTimestamp = true;
      }
    }
    offset += (cmsgLen + align - 1) & ~(align - 1);
  }
}

// The same walk over 32-bit words, for a control area that starts 4-byte aligned in its buffer
// (every message then is: CMSG_ALIGN keeps them aligned). Equal, value for value, to the walk
// above; `at` is the byte offset of the first message in the buffer.
function parseAligned(
  control: Uint8Array,
  at: number,
  length: number,
  out: ReceivedMetadata,
): void {
  const words = controlWords(control);
  const bytes = control.byteOffset === 0 ? control : new Uint8Array(control.buffer);
  const end = at + length;
  let offset = at;
  while (offset + HEADER_SIZE <= end) {
    const w = offset >>> 2;
    const cmsgLen = LEN_SIZE === 8
      ? (words[w + LOW] >>> 0) + (words[w + HIGH] >>> 0) * 0x1_0000_0000
      : words[w] >>> 0;
    if (cmsgLen < HEADER_SIZE || offset + cmsgLen > end) break;
    const level = words[w + (LEN_SIZE >>> 2)];
    const type = words[w + (LEN_SIZE >>> 2) + 1];
    const data = offset + HEADER_SIZE;
    const d = data >>> 2;
    const dataLength = cmsgLen - HEADER_SIZE;
    if (level === IPPROTO_IP) {
      if (type === IP_TTL && dataLength >= 4) {
        out.ttl = words[d];
      } else if (type === IP_TOS && dataLength >= 1) {
        out.tos = bytes[data];
      } else if (type === IP_PKTINFO && dataLength >= 12) {
        out.interfaceIndex = words[d + (IN_PKTINFO.ifindex >>> 2)];
        out.destinationFamily = "IPv4";
        const a = data + IN_PKTINFO.addr;
        const destination = out.destination;
        destination[0] = bytes[a];
        destination[1] = bytes[a + 1];
        destination[2] = bytes[a + 2];
        destination[3] = bytes[a + 3];
      }
    } else if (level === IPPROTO_IPV6) {
      if (type === IPV6_HOPLIMIT && dataLength >= 4) {
        out.ttl = words[d];
      } else if (type === IPV6_TCLASS && dataLength >= 4) {
        out.tos = words[d];
      } else if (type === IPV6_PKTINFO && dataLength >= 20) {
        out.interfaceIndex = words[d + (IN6_PKTINFO.ifindex >>> 2)] >>> 0;
        out.destinationFamily = "IPv6";
        const a = data + IN6_PKTINFO.addr;
        for (let b = 0; b < 16; b++) out.destination[b] = bytes[a + b];
      }
    } else if (level === SOL_SOCKET && type === SCM_TIMESTAMPNS) {
      if (dataLength >= 16) {
        out.timestampSeconds = (words[d + LOW] >>> 0) + words[d + HIGH] * 0x1_0000_0000;
        out.timestampNanos = words[d + 2 + LOW] >>> 0;
        out.hasTimestamp = true;
      }
    }
    offset += (cmsgLen + ALIGN - 1) & ~(ALIGN - 1);
  }
}
