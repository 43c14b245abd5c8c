/**
 * Batches of datagrams for `sendmmsg` / `recvmmsg` (and `recvmsg`): one object owns the payload
 * storage, the iovecs, the names, the control buffers and the `mmsghdr` array that points at
 * them, and keeps every one of those buffers referenced for its whole life (the FFI memory rule:
 * a buffer reachable only through a pointer stored in native memory is invisible to the GC).
 * Pointers are written once, at construction; the hot path only writes lengths.
 *
 * The reused view of what one receive delivered is `ReceivedBatch` (`./received_batch.ts`); the
 * control messages of a received datagram are walked into a reused {@linkcode ReceivedMetadata}
 * (`./cmsg.ts`, re-exported here).
 *
 * @module
 */

import { InvalidValueError } from "./errors.ts";
import { LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { ControlLayoutMemo, parseControlMessages, type ReceivedMetadata } from "./cmsg.ts";
import { addressOf, nativeBuffer } from "./_buffer.ts";

export { parseControlMessages, ReceivedMetadata } from "./cmsg.ts";

const LAYOUT = PLATFORM.layout;
const HEADER = LAYOUT.mmsghdrSize > 0 ? LAYOUT.mmsghdrSize : LAYOUT.msghdrSize;
const MSG = LAYOUT.msghdr;
// The header fields the receive path touches per datagram, as native 32-bit word indexes (every
// offset and the header size are multiples of 4 on the supported layouts; WORDS says so).
const WORDS = HEADER % 4 === 0 && MSG.namelen % 4 === 0 && MSG.controllen % 4 === 0 &&
  MSG.flags % 4 === 0 && (LAYOUT.mmsghdrLenOffset < 0 || LAYOUT.mmsghdrLenOffset % 4 === 0);
const HEADER_WORDS = HEADER >>> 2;
const NAMELEN_WORD = MSG.namelen >>> 2;
const WIDE_SIZE = LAYOUT.cmsgLenSize === 8;
// A 64-bit msg_controllen is two words: the low half first on little-endian hosts.
const CONTROLLEN_WORD = (MSG.controllen >>> 2) + (WIDE_SIZE && !LITTLE_ENDIAN ? 1 : 0);
const CONTROLLEN_HIGH_WORD = (MSG.controllen >>> 2) + (LITTLE_ENDIAN ? 1 : 0);
const FLAGS_WORD = MSG.flags >>> 2;
const LEN_WORD = LAYOUT.mmsghdrLenOffset >>> 2;

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
  readonly #headerWords: Uint32Array;
  readonly #headerTails: readonly Uint8Array[];
  readonly #memo: ControlLayoutMemo | null;
  // Which slots the kernel may have changed since they were last fully reset (see receiveReset).
  #fresh = false;
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
    this.#headerWords = new Uint32Array(this.#headers.buffer);
    this.#memo = this.#control === null
      ? null
      : new ControlLayoutMemo(this.#control, this.controlSize);

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
   * The payload storage of every slot (slot `i` starts at `i *`
   * {@linkcode MessageBatch.payloadSize}), for reading received bytes in place.
   *
   * @returns The storage.
   */
  get payloadStorage(): Uint8Array {
    return this.#payloadStorage;
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
    this.#fresh = false;
    this.#iovecView.setBigUint64(index * LAYOUT.iovecSize + 8, BigInt(length), LITTLE_ENDIAN);
  }

  /**
   * Restores every slot for a receive: full payload room, full name and control room.
   * The kernel shrinks the name and control lengths on each receive, so call this before each.
   */
  resetForReceive(): void {
    for (let i = 0; i < this.count; i++) this.resetSlot(i);
    this.#fresh = true;
  }

  /**
   * Restores slots `0 .. count - 1` for the next receive after a receive (`recvmmsg` or
   * `recvmsg`) that may have used them: only what the kernel writes — the name length, the
   * control length and the flags (and `msg_len`, which it overwrites anyway) — not the payload
   * room, which a receive never changes. Falls back to {@linkcode MessageBatch.resetSlot} after
   * anything else may have changed a slot (a send, {@linkcode MessageBatch.setLength}).
   *
   * @param count The slots to restore.
   */
  resetReceived(count: number): void {
    if (!this.#fresh || !WORDS) {
      for (let i = 0; i < count; i++) this.resetSlot(i);
      return;
    }
    const words = this.#headerWords;
    const withNames = this.#names !== null;
    const withControl = this.#control !== null;
    const nameSize = LAYOUT.sockaddrStorageSize;
    const controlSize = this.controlSize;
    for (let i = 0, h = 0; i < count; i++, h += HEADER_WORDS) {
      if (withNames) words[h + NAMELEN_WORD] = nameSize;
      if (withControl) {
        words[h + CONTROLLEN_WORD] = controlSize;
        if (WIDE_SIZE) words[h + CONTROLLEN_HIGH_WORD] = 0;
      }
      words[h + FLAGS_WORD] = 0;
    }
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
    if (WORDS) return this.#headerWords[index * HEADER_WORDS + LEN_WORD];
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
   * Goes back to the lengths the kernel writes into the `mmsghdr` array (after a `recvmmsg` or
   * `sendmmsg`), forgetting the ones recorded by {@linkcode MessageBatch.setReceivedLength}.
   */
  useKernelLengths(): void {
    this.#singleLengths = null;
  }

  /**
   * The `msg_flags` of slot `index` after a receive (MSG_TRUNC, MSG_CTRUNC).
   *
   * @param index The slot.
   * @returns The flags.
   */
  messageFlags(index: number): number {
    if (WORDS) return this.#headerWords[index * HEADER_WORDS + FLAGS_WORD] | 0;
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
    this.#fresh = false;
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
    if (this.#control === null) {
      out.clear();
      return;
    }
    const length = WORDS
      ? this.#controlLength(index)
      : this.#getSize(index * HEADER + MSG.controllen);
    const start = index * this.controlSize;
    const size = Math.min(length, this.controlSize);
    // The memo reads the values at the offsets of the previous datagram's layout when this
    // datagram's control headers are the same, else walks (and remembers the new layout).
    if (this.#memo !== null) this.#memo.read(start, size, out);
    else parseControlMessages(this.#control, start, size, out);
  }

  #setSize(offset: number, value: number): void {
    if (LAYOUT.cmsgLenSize === 8) {
      setSmallU64(this.#headerView, offset, value);
    } else this.#headerView.setUint32(offset, value, LITTLE_ENDIAN);
  }

  // msg_controllen of slot `index` from the header words (a 64-bit one as two halves).
  #controlLength(index: number): number {
    const h = index * HEADER_WORDS;
    const low = this.#headerWords[h + CONTROLLEN_WORD];
    return WIDE_SIZE ? this.#headerWords[h + CONTROLLEN_HIGH_WORD] * 0x1_0000_0000 + low : low;
  }

  #getSize(offset: number): number {
    const view = this.#headerView;
    if (LAYOUT.cmsgLenSize !== 8) return view.getUint32(offset, LITTLE_ENDIAN);
    // A 64-bit size read as two halves: no BigInt per datagram.
    const low = view.getUint32(offset + (LITTLE_ENDIAN ? 0 : 4), LITTLE_ENDIAN);
    const high = view.getUint32(offset + (LITTLE_ENDIAN ? 4 : 0), LITTLE_ENDIAN);
    return high * 0x1_0000_0000 + low;
  }
}

// Writes a 64-bit unsigned value below 2^32 without making a BigInt (the receive path calls this
// per datagram slot and must not allocate).
function setSmallU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset + (LITTLE_ENDIAN ? 0 : 4), value, LITTLE_ENDIAN);
  view.setUint32(offset + (LITTLE_ENDIAN ? 4 : 0), 0, LITTLE_ENDIAN);
}
