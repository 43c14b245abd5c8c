/**
 * Batches of datagrams for `sendmmsg` / `recvmmsg` (and `recvmsg`): one object owns the payload
 * storage, the iovecs, the names, the control buffers and the `mmsghdr` array that points at
 * them, and keeps every one of those buffers referenced for its whole life (the FFI memory rule:
 * a buffer reachable only through a pointer stored in native memory is invisible to the GC).
 * Pointers are written once, at construction; the hot path only writes lengths.
 *
 * Also here: walking the control messages of a received datagram into a reused
 * {@linkcode ReceivedMetadata} without allocating.
 *
 * @module
 */

import { InvalidValueError } from "../lib/errors.ts";
import { PLATFORM } from "./constants.ts";
import { addressOf, nativeBuffer } from "./_buffer.ts";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LAYOUT = PLATFORM.layout;
const HEADER = LAYOUT.mmsghdrSize > 0 ? LAYOUT.mmsghdrSize : LAYOUT.msghdrSize;
const MSG = LAYOUT.msghdr;

/** Options of a {@linkcode MessageBatch}. */
export interface MessageBatchOptions {
  /**
   * Bytes of control (ancillary) data room per datagram; 0 for sending.
   *
   * @default {0}
   */
  controlSize?: number;
  /**
   * Give each datagram a `sockaddr_storage` for the peer's address (the source, on receive).
   *
   * @default {false}
   */
  withNames?: boolean;
}

/**
 * A fixed set of `count` datagram slots of `payloadSize` bytes each, laid out for
 * `sendmmsg`/`recvmmsg`. Fill {@linkcode MessageBatch.payloads}, set lengths, pass
 * {@linkcode MessageBatch.headers} to the call.
 *
 * @example
 * ```ts
 * import { MessageBatch } from "./msghdr.ts";
 * const batch = new MessageBatch(8, 1500, { controlSize: 128, withNames: true });
 * batch.payloads[0].set([1, 2, 3]);
 * batch.setLength(0, 3);
 * batch.count; // 8
 * ```
 */
export class MessageBatch {
  /** Number of slots. */
  readonly count: number;
  /** Capacity of each payload, in bytes. */
  readonly payloadSize: number;
  /** One full-capacity view per slot into the payload storage. */
  readonly payloads: readonly Uint8Array[];
  /** Control room per slot. */
  readonly controlSize: number;

  // Everything the native headers point to, referenced for the object's whole life.
  readonly #payloadStorage: Uint8Array<ArrayBuffer>;
  readonly #iovecs: Uint8Array<ArrayBuffer>;
  readonly #names: Uint8Array<ArrayBuffer> | null;
  readonly #control: Uint8Array<ArrayBuffer> | null;
  readonly #headers: Uint8Array<ArrayBuffer>;
  readonly #headerView: DataView;
  readonly #iovecView: DataView;
  readonly #headerTails: readonly Uint8Array[];
  #singleLengths: Uint32Array | null = null;

  /**
   * Allocates and links the batch.
   *
   * @param count Number of datagram slots (1..1024).
   * @param payloadSize Bytes per payload (1..65535).
   * @param options Control room and names.
   */
  constructor(count: number, payloadSize: number, options: MessageBatchOptions = {}) {
    if (!Number.isInteger(count) || count < 1 || count > 1024) {
      throw new InvalidValueError("batch count", count, "an integer from 1 to 1024");
    }
    if (!Number.isInteger(payloadSize) || payloadSize < 1 || payloadSize > 65535) {
      throw new InvalidValueError("payload size", payloadSize, "an integer from 1 to 65535");
    }
    this.count = count;
    this.payloadSize = payloadSize;
    this.controlSize = options.controlSize ?? 0;
    this.#payloadStorage = nativeBuffer(count * payloadSize);
    this.#iovecs = nativeBuffer(count * LAYOUT.iovecSize);
    this.#names = options.withNames ? nativeBuffer(count * LAYOUT.sockaddrStorageSize) : null;
    this.#control = this.controlSize > 0 ? nativeBuffer(count * this.controlSize) : null;
    this.#headers = nativeBuffer(count * HEADER);
    this.#headerView = new DataView(this.#headers.buffer);
    this.#iovecView = new DataView(this.#iovecs.buffer);

    const payloads: Uint8Array[] = [];
    const tails: Uint8Array[] = [];
    const payloadBase = addressOf(this.#payloadStorage);
    const iovecBase = addressOf(this.#iovecs);
    const nameBase = this.#names === null ? 0n : addressOf(this.#names);
    const controlBase = this.#control === null ? 0n : addressOf(this.#control);
    for (let i = 0; i < count; i++) {
      payloads.push(this.#payloadStorage.subarray(i * payloadSize, (i + 1) * payloadSize));
      tails.push(this.#headers.subarray(i * HEADER));
      const iov = i * LAYOUT.iovecSize;
      this.#iovecView.setBigUint64(iov, payloadBase + BigInt(i * payloadSize), LITTLE_ENDIAN);
      this.#iovecView.setBigUint64(iov + 8, BigInt(payloadSize), LITTLE_ENDIAN);
      const h = i * HEADER;
      if (this.#names !== null) {
        const name = nameBase + BigInt(i * LAYOUT.sockaddrStorageSize);
        this.#headerView.setBigUint64(h + MSG.name, name, LITTLE_ENDIAN);
      }
      this.#headerView.setBigUint64(
        h + MSG.iov,
        iovecBase + BigInt(iov),
        LITTLE_ENDIAN,
      );
      this.#setSize(h + MSG.iovlen, 1);
      if (this.#control !== null) {
        const control = controlBase + BigInt(i * this.controlSize);
        this.#headerView.setBigUint64(h + MSG.control, control, LITTLE_ENDIAN);
      }
    }
    this.payloads = payloads;
    this.#headerTails = tails;
    this.resetForReceive();
  }

  /**
   * The `mmsghdr` array (or, where the OS has no mmsghdr, the `msghdr` array), for the call.
   *
   * @returns The header array.
   */
  get headers(): Uint8Array {
    return this.#headers;
  }

  /**
   * The header array starting at slot `index`, for resuming a partial `sendmmsg`; also the
   * single `msghdr` of that slot, for `recvmsg`. Views are made once; no allocation.
   *
   * @param index The first slot.
   * @returns The view.
   */
  headersFrom(index: number): Uint8Array {
    return this.#headerTails[index];
  }

  /**
   * Sets how many bytes of slot `index` are sent.
   *
   * @param index The slot.
   * @param length Bytes, at most {@linkcode MessageBatch.payloadSize}.
   */
  setLength(index: number, length: number): void {
    this.#iovecView.setBigUint64(index * LAYOUT.iovecSize + 8, BigInt(length), LITTLE_ENDIAN);
  }

  /**
   * Restores every slot for a receive: full payload room, full name and control room.
   * The kernel shrinks the name and control lengths on each receive, so call this before each.
   */
  resetForReceive(): void {
    for (let i = 0; i < this.count; i++) this.resetSlot(i);
  }

  /**
   * Restores one slot for a receive (see {@linkcode MessageBatch.resetForReceive}).
   *
   * @param index The slot.
   */
  resetSlot(index: number): void {
    const h = index * HEADER;
    setSmallU64(this.#iovecView, index * LAYOUT.iovecSize + 8, this.payloadSize);
    if (this.#names !== null) {
      this.#headerView.setUint32(h + MSG.namelen, LAYOUT.sockaddrStorageSize, LITTLE_ENDIAN);
    }
    if (this.#control !== null) this.#setSize(h + MSG.controllen, this.controlSize);
    this.#headerView.setInt32(h + MSG.flags, 0, LITTLE_ENDIAN);
  }

  /**
   * Bytes the kernel reported for slot `index` after `recvmmsg`/`sendmmsg` (`msg_len`).
   *
   * @param index The slot.
   * @returns The length.
   */
  receivedLength(index: number): number {
    if (this.#singleLengths !== null) return this.#singleLengths[index];
    return this.#headerView.getUint32(index * HEADER + LAYOUT.mmsghdrLenOffset, LITTLE_ENDIAN);
  }

  /**
   * Records the length `recvmsg` returned for slot `index`, for batches filled one message per
   * call (where the OS has no `recvmmsg`, or by choice); from then on
   * {@linkcode MessageBatch.receivedLength} reports the recorded lengths.
   *
   * @param index The slot.
   * @param length Bytes the call returned.
   */
  setReceivedLength(index: number, length: number): void {
    this.#singleLengths ??= new Uint32Array(this.count);
    this.#singleLengths[index] = length;
  }

  /**
   * The `msg_flags` of slot `index` after a receive (MSG_TRUNC, MSG_CTRUNC).
   *
   * @param index The slot.
   * @returns The flags.
   */
  messageFlags(index: number): number {
    return this.#headerView.getInt32(index * HEADER + MSG.flags, LITTLE_ENDIAN);
  }

  /**
   * The peer address buffer of slot `index` (a `sockaddr_storage`), or null without names.
   *
   * @param index The slot.
   * @returns A view into the name storage.
   */
  nameOf(index: number): Uint8Array | null {
    if (this.#names === null) return null;
    const size = LAYOUT.sockaddrStorageSize;
    return this.#names.subarray(index * size, (index + 1) * size);
  }

  /**
   * Writes the destination `sockaddr` of slot `index`, for unconnected sends.
   *
   * @param index The slot.
   * @param sockaddr The encoded address.
   */
  setName(index: number, sockaddr: Uint8Array): void {
    if (this.#names === null) {
      throw new InvalidValueError("batch slot name", index, "a batch made with withNames");
    }
    this.#names.set(sockaddr, index * LAYOUT.sockaddrStorageSize);
    this.#headerView.setUint32(index * HEADER + MSG.namelen, sockaddr.length, LITTLE_ENDIAN);
  }

  /**
   * Walks the control messages of slot `index` into `out` (after a receive).
   *
   * @param index The slot.
   * @param out The reused metadata object.
   */
  readMetadata(index: number, out: ReceivedMetadata): void {
    out.clear();
    if (this.#control === null) return;
    const length = this.#getSize(index * HEADER + MSG.controllen);
    const start = index * this.controlSize;
    parseControlMessages(
      this.#control,
      start,
      Math.min(length, this.controlSize),
      out,
    );
  }

  #setSize(offset: number, value: number): void {
    if (LAYOUT.cmsgLenSize === 8) {
      setSmallU64(this.#headerView, offset, value);
    } else this.#headerView.setUint32(offset, value, LITTLE_ENDIAN);
  }

  #getSize(offset: number): number {
    return LAYOUT.cmsgLenSize === 8
      ? Number(this.#headerView.getBigUint64(offset, LITTLE_ENDIAN))
      : this.#headerView.getUint32(offset, LITTLE_ENDIAN);
  }
}

// Writes a 64-bit unsigned value below 2^32 without making a BigInt (the receive path calls this
// per datagram slot and must not allocate).
function setSmallU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset + (LITTLE_ENDIAN ? 0 : 4), value, LITTLE_ENDIAN);
  view.setUint32(offset + (LITTLE_ENDIAN ? 4 : 0), 0, LITTLE_ENDIAN);
}

// One cached view of the last control buffer walked (a MessageBatch walks the same one each time).
let lastControl: ArrayBufferLike | null = null;
let lastControlOffset = -1;
let lastControlView: DataView | null = null;

let timestampSeconds = -1;
let timestampBaseNs = 0n;

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
  /** Kernel receive time (SO_TIMESTAMPNS, CLOCK_REALTIME) in ns; -1n when not reported. */
  timestampNs: bigint = -1n;

  /** Forgets the previous datagram's values. */
  clear(): void {
    this.ttl = -1;
    this.tos = -1;
    this.interfaceIndex = 0;
    this.destinationFamily = null;
    this.timestampNs = -1n;
  }
}

/**
 * Walks `length` bytes of control messages starting at `start` of `control` (CMSG_FIRSTHDR /
 * CMSG_NXTHDR semantics) and records TTL/hop limit, TOS/traffic class, packet info and the
 * kernel timestamp in `out`. Malformed lengths end the walk; nothing is allocated but the
 * timestamp bigint.
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
        // tv_sec as a number (exact below 2^53 s); its nanosecond base is cached per second, so
        // a datagram costs one small BigInt for tv_nsec and one addition.
        const seconds = view.getUint32(data, LITTLE_ENDIAN) +
          view.getInt32(data + 4, LITTLE_ENDIAN) * 0x1_0000_0000;
        if (seconds !== timestampSeconds) {
          timestampSeconds = seconds;
          timestampBaseNs = BigInt(seconds) * 1_000_000_000n;
        }
        out.timestampNs = timestampBaseNs + BigInt(view.getUint32(data + 8, LITTLE_ENDIAN));
      }
    }
    offset += (cmsgLen + align - 1) & ~(align - 1);
  }
}
