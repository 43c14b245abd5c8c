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
    parseAligned(control, control.byteOffset + start, length, out, null);
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

// Header records a layout holds at most (Linux sends 4 for our socket options).
const MAX_HEADERS = 8;
const HEAD_WORDS = HEADER_SIZE >>> 2;

// Where the walk of one control area found its values: the header words it read (which decide
// every step of the walk) and the offsets, from the area's start, of the data it took.
class Layout {
  valid = false;
  length = -1;
  count = 0;
  // The header words read, and where (word offsets from the area's start).
  readonly heads = new Int32Array(MAX_HEADERS * HEAD_WORDS);
  readonly places = new Int32Array(MAX_HEADERS * HEAD_WORDS);
  ttlAt = -1;
  tosAt = -1;
  tosByte = false;
  pktAt = -1;
  pktV6 = false;
  tsAt = -1;
  usable = true;

  begin(length: number): void {
    this.valid = false;
    this.length = length;
    this.count = 0;
    this.ttlAt = -1;
    this.tosAt = -1;
    this.pktAt = -1;
    this.tsAt = -1;
    this.usable = true;
  }

  head(words: Int32Array, w: number, at: number): void {
    if (this.count === MAX_HEADERS) {
      this.usable = false;
      return;
    }
    const e = this.count * HEAD_WORDS;
    for (let k = 0; k < HEAD_WORDS; k++) {
      this.heads[e + k] = words[w + k];
      this.places[e + k] = w - (at >>> 2) + k;
    }
    this.count++;
  }
}

/**
 * Reads the control messages of the slots of one control buffer (a batch's: every slot
 * `slotSize` bytes), remembering the layout of the last walk — the sequence of cmsg headers
 * (length, level, type) the kernel wrote, which is the same for every datagram of a socket. A
 * datagram whose control length and header words equal the remembered ones has its values read
 * at the remembered offsets (the walk would take exactly the same steps); any other is walked
 * ({@linkcode parseControlMessages}) and its layout remembered. Same values as the walk, always.
 *
 * @example
 * ```ts
 * import { ControlLayoutMemo, ReceivedMetadata } from "./cmsg.ts";
 * const memo = new ControlLayoutMemo(new Uint8Array(512), 256);
 * const out = new ReceivedMetadata();
 * memo.read(256, 0, out);
 * out.ttl; // -1
 * ```
 */
export class ControlLayoutMemo {
  readonly #control: Uint8Array;
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #layout = new Layout();
  readonly #aligned: boolean;

  /**
   * Constructs a new instance.
   *
   * @param control The control buffer of the batch (referenced, never copied).
   * @param slotSize Bytes of control room per slot.
   */
  constructor(control: Uint8Array, slotSize: number) {
    this.#control = control;
    this.#aligned = WORDS_OK && control.byteOffset % 4 === 0 && slotSize % 4 === 0;
    this.#words = this.#aligned
      ? new Int32Array(control.buffer, 0, control.buffer.byteLength >>> 2)
      : new Int32Array(0);
    this.#bytes = new Uint8Array(control.buffer);
  }

  /**
   * Reads the control messages of `length` bytes at `start` of the control buffer into `out`
   * (cleared first), as {@linkcode parseControlMessages} does.
   *
   * @param start Offset of the slot's first control message.
   * @param length Bytes of control data (msg_controllen, at most the slot's room).
   * @param out Where the values go.
   */
  read(start: number, length: number, out: ReceivedMetadata): void {
    const control = this.#control;
    if (!this.#aligned || (start & 3) !== 0) {
      parseControlMessages(control, start, length, out);
      return;
    }
    out.clear();
    const at = control.byteOffset + start;
    const layout = this.#layout;
    if (layout.valid && layout.length === length && this.#same(at)) {
      const words = this.#words;
      if (layout.ttlAt >= 0) out.ttl = words[(at + layout.ttlAt) >>> 2];
      if (layout.tosAt >= 0) {
        out.tos = layout.tosByte
          ? this.#bytes[at + layout.tosAt]
          : words[(at + layout.tosAt) >>> 2];
      }
      if (layout.pktAt >= 0) {
        const data = at + layout.pktAt;
        const bytes = this.#bytes;
        const destination = out.destination;
        if (layout.pktV6) {
          out.interfaceIndex = words[(data + IN6_PKTINFO.ifindex) >>> 2] >>> 0;
          out.destinationFamily = "IPv6";
          const a = data + IN6_PKTINFO.addr;
          for (let b = 0; b < 16; b++) destination[b] = bytes[a + b];
        } else {
          out.interfaceIndex = words[(data + IN_PKTINFO.ifindex) >>> 2];
          out.destinationFamily = "IPv4";
          const a = data + IN_PKTINFO.addr;
          destination[0] = bytes[a];
          destination[1] = bytes[a + 1];
          destination[2] = bytes[a + 2];
          destination[3] = bytes[a + 3];
        }
      }
      if (layout.tsAt >= 0) {
        const d = (at + layout.tsAt) >>> 2;
        out.timestampSeconds = (words[d + LOW] >>> 0) + words[d + HIGH] * 0x1_0000_0000;
        out.timestampNanos = words[d + 2 + LOW] >>> 0;
        out.hasTimestamp = true;
      }
      return;
    }
    parseAligned(control, at, length, out, layout);
  }

  // Whether the header words at the remembered places of the area at `at` are the remembered ones.
  #same(at: number): boolean {
    const words = this.#words;
    const layout = this.#layout;
    const heads = layout.heads;
    const places = layout.places;
    const base = at >>> 2;
    let differ = 0;
    if (HEAD_WORDS === 4) {
      // Linux (64-bit cmsg_len): four words a header, compared without a branch per word.
      for (let k = 0, end = layout.count * 4; k < end; k += 4) {
        const w = base + places[k];
        differ |= (words[w] ^ heads[k]) | (words[w + 1] ^ heads[k + 1]) |
          (words[w + 2] ^ heads[k + 2]) | (words[w + 3] ^ heads[k + 3]);
      }
      return differ === 0;
    }
    for (let k = 0, end = layout.count * HEAD_WORDS; k < end; k++) {
      differ |= words[base + places[k]] ^ heads[k];
    }
    return differ === 0;
  }
}

// The same walk over 32-bit words, for a control area that starts 4-byte aligned in its buffer
// (every message then is: CMSG_ALIGN keeps them aligned). Equal, value for value, to the walk
// above; `at` is the byte offset of the first message in the buffer. With a `layout`, also notes
// where it read what (a layout in which a value is set twice is not kept).
function parseAligned(
  control: Uint8Array,
  at: number,
  length: number,
  out: ReceivedMetadata,
  layout: Layout | null,
): void {
  const words = controlWords(control);
  layout?.begin(length);
  const bytes = control.byteOffset === 0 ? control : new Uint8Array(control.buffer);
  const end = at + length;
  let offset = at;
  while (offset + HEADER_SIZE <= end) {
    const w = offset >>> 2;
    if (layout !== null) layout.head(words, w, at);
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
        if (layout !== null) noteTtl(layout, data - at);
      } else if (type === IP_TOS && dataLength >= 1) {
        out.tos = bytes[data];
        if (layout !== null) noteTos(layout, data - at, true);
      } else if (type === IP_PKTINFO && dataLength >= 12) {
        if (layout !== null) notePacketInfo(layout, data - at, false);
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
        if (layout !== null) noteTtl(layout, data - at);
      } else if (type === IPV6_TCLASS && dataLength >= 4) {
        out.tos = words[d];
        if (layout !== null) noteTos(layout, data - at, false);
      } else if (type === IPV6_PKTINFO && dataLength >= 20) {
        if (layout !== null) notePacketInfo(layout, data - at, true);
        out.interfaceIndex = words[d + (IN6_PKTINFO.ifindex >>> 2)] >>> 0;
        out.destinationFamily = "IPv6";
        const a = data + IN6_PKTINFO.addr;
        for (let b = 0; b < 16; b++) out.destination[b] = bytes[a + b];
      }
    } else if (level === SOL_SOCKET && type === SCM_TIMESTAMPNS) {
      if (dataLength >= 16) {
        if (layout !== null) {
          if (layout.tsAt >= 0) layout.usable = false;
          layout.tsAt = data - at;
        }
        out.timestampSeconds = (words[d + LOW] >>> 0) + words[d + HIGH] * 0x1_0000_0000;
        out.timestampNanos = words[d + 2 + LOW] >>> 0;
        out.hasTimestamp = true;
      }
    }
    offset += (cmsgLen + ALIGN - 1) & ~(ALIGN - 1);
  }
  if (layout !== null) layout.valid = layout.usable;
}

function noteTtl(layout: Layout, at: number): void {
  if (layout.ttlAt >= 0) layout.usable = false;
  layout.ttlAt = at;
}

function noteTos(layout: Layout, at: number, byte: boolean): void {
  if (layout.tosAt >= 0) layout.usable = false;
  layout.tosAt = at;
  layout.tosByte = byte;
}

function notePacketInfo(layout: Layout, at: number, v6: boolean): void {
  if (layout.pktAt >= 0) layout.usable = false;
  layout.pktAt = at;
  layout.pktV6 = v6;
}
