/**
 * The datagrams of the last receive into a batch: {@linkcode ReceivedBatch}, a reused view over a
 * {@linkcode MessageBatch} with names and control room — payloads, lengths, flags, source
 * addresses and ports, and each datagram's control messages read into a reused
 * {@linkcode ReceivedMetadata} — valid until the next receive, allocating nothing per datagram.
 *
 * @module
 */

import { InvalidValueError } from "./errors.ts";
import { PLATFORM } from "./constants.ts";
import { addressLength, sockaddrAddressOffset, sockaddrFamily, sockaddrPort } from "./sockaddr.ts";
import type { ReceivedMetadata } from "./cmsg.ts";
import { MessageBatch } from "./msghdr.ts";

/** Formats address bytes (4 or 16, network order) as text; the library's `formatAddress`. */
export type AddressFormatter = (bytes: Uint8Array) => string;

/** Options of a {@linkcode ReceivedBatch}. */
export interface ReceivedBatchOptions {
  /**
   * Bytes of control room per datagram (TTL, TOS, packet info, timestamp ≈ 120 on Linux).
   *
   * @default {256}
   */
  controlSize?: number;
  /** How {@linkcode ReceivedBatch.sourceAddress} turns source bytes into text. */
  formatAddress: AddressFormatter;
}

const SOURCE_CACHE_SIZE = 8;

/**
 * The datagrams of the last receive into a batch: a view over buffers allocated once (a
 * {@linkcode MessageBatch} with names and control room), valid until the next receive. Nothing
 * here allocates per datagram in the steady state: payload views are cached per slot and remade
 * only when a length changes, and source addresses are formatted once per distinct sender.
 *
 * @example
 * ```ts
 * import { ReceivedBatch } from "./received_batch.ts";
 * const batch = new ReceivedBatch(64, 65535, { formatAddress: (bytes) => bytes.join(".") });
 * batch.length; // 0 until a socket receives into it
 * batch.capacity; // 64
 * ```
 */
export class ReceivedBatch {
  readonly #messages: MessageBatch;
  readonly #names: readonly Uint8Array[];
  readonly #views: Uint8Array[];
  readonly #format: AddressFormatter;
  readonly #cacheKeys: Uint8Array[];
  readonly #cacheLengths: number[];
  readonly #cacheValues: string[];
  #cacheNext = 0;
  #length = 0;
  #lastCount = 0;

  /**
   * Allocates the batch.
   *
   * @param count Datagrams one receive can deliver (1..1024).
   * @param maxDatagramSize Bytes of room per datagram (1..65535); longer ones are truncated.
   * @param options Control room and the address formatter.
   */
  constructor(count: number, maxDatagramSize: number, options: ReceivedBatchOptions) {
    const messages = new MessageBatch(count, maxDatagramSize, {
      controlSize: options.controlSize ?? 256,
      withNames: true,
    });
    this.#messages = messages;
    this.#format = options.formatAddress;
    const names: Uint8Array[] = [];
    for (let i = 0; i < count; i++) names.push(messages.nameOf(i) as Uint8Array);
    this.#names = names;
    this.#views = [...messages.payloads];
    this.#cacheKeys = Array.from({ length: SOURCE_CACHE_SIZE }, () => new Uint8Array(16));
    this.#cacheLengths = new Array(SOURCE_CACHE_SIZE).fill(0);
    this.#cacheValues = new Array(SOURCE_CACHE_SIZE).fill("");
  }

  /** How many datagrams the last receive delivered (0 when the socket was empty). */
  get length(): number {
    return this.#length;
  }

  /** How many datagrams one receive can deliver at most (the batch size). */
  get capacity(): number {
    return this.#messages.count;
  }

  /**
   * Internal (the socket's receive): restores the slots the last receive used and returns the
   * native batch to receive into. The kernel shrinks name and control lengths only in the slots
   * it filled (and, on an error, possibly in the next one); exactly those are restored.
   *
   * @returns The native batch.
   */
  prepareReceive(): MessageBatch {
    const messages = this.#messages;
    messages.resetReceived(Math.min(this.#lastCount + 1, messages.count));
    return messages;
  }

  /**
   * Internal (the socket's receive): sets the count after a receive.
   *
   * @param length The number of datagrams received.
   * @returns `length`.
   */
  setLength(length: number): number {
    this.#length = length;
    this.#lastCount = length;
    return length;
  }

  /**
   * The received bytes of datagram `index` (at most the room per datagram): a view into the
   * reused buffer, overwritten by the next receive.
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns The payload.
   */
  payload(index: number): Uint8Array {
    this.#checkIndex(index);
    const length = Math.min(this.#messages.receivedLength(index), this.#messages.payloadSize);
    let view = this.#views[index];
    if (view.length !== length) {
      view = this.#messages.payloads[index].subarray(0, length);
      this.#views[index] = view;
    }
    return view;
  }

  /**
   * The storage all payloads live in (datagram `index` at
   * {@linkcode ReceivedBatch.payloadOffset}), to read received bytes in place without a view per
   * datagram; overwritten by the next receive.
   *
   * @returns The storage.
   */
  get payloadStorage(): Uint8Array {
    return this.#messages.payloadStorage;
  }

  /**
   * Where datagram `index` starts in {@linkcode ReceivedBatch.payloadStorage}; its received
   * bytes are the next `min(datagramLength(index), maxDatagramSize)`.
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns The byte offset.
   */
  payloadOffset(index: number): number {
    this.#checkIndex(index);
    return index * this.#messages.payloadSize;
  }

  /** Bytes of room per datagram: longer datagrams are truncated to this. */
  get maxDatagramSize(): number {
    return this.#messages.payloadSize;
  }

  /**
   * The full length of datagram `index` on the wire (UDP payload bytes), also when it was
   * truncated.
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns The length in bytes.
   */
  datagramLength(index: number): number {
    this.#checkIndex(index);
    return this.#messages.receivedLength(index);
  }

  /**
   * Whether datagram `index` was longer than the room per datagram and so cut short
   * (`MSG_TRUNC`).
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns True when truncated.
   */
  truncated(index: number): boolean {
    this.#checkIndex(index);
    return (this.#messages.messageFlags(index) & PLATFORM.MSG_TRUNC) !== 0;
  }

  /**
   * Whether some of datagram `index`'s metadata was lost for want of control room
   * (`MSG_CTRUNC`).
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns True when control data was truncated.
   */
  controlTruncated(index: number): boolean {
    this.#checkIndex(index);
    return (this.#messages.messageFlags(index) & PLATFORM.MSG_CTRUNC) !== 0;
  }

  /**
   * The source address bytes of datagram `index`: a view into the reused name storage (4 or 16
   * bytes), or null when the kernel gave no inet address.
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns The bytes, overwritten by the next receive.
   */
  sourceBytes(index: number): Uint8Array | null {
    this.#checkIndex(index);
    const name = this.#names[index];
    const family = sockaddrFamily(name);
    if (family === null) return null;
    const offset = sockaddrAddressOffset(family);
    return name.subarray(offset, offset + addressLength(family));
  }

  /**
   * The source address of datagram `index` as text (through the formatter); `""` when the kernel
   * gave no inet address. The last few distinct sources are cached, so a known sender costs a
   * byte comparison and no allocation.
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns The address.
   */
  sourceAddress(index: number): string {
    this.#checkIndex(index);
    const name = this.#names[index];
    const family = sockaddrFamily(name);
    if (family === null) return "";
    const offset = sockaddrAddressOffset(family);
    const size = addressLength(family);
    for (let c = 0; c < SOURCE_CACHE_SIZE; c++) {
      if (this.#cacheLengths[c] !== size) continue;
      const key = this.#cacheKeys[c];
      let same = true;
      for (let b = 0; b < size; b++) {
        if (key[b] !== name[offset + b]) {
          same = false;
          break;
        }
      }
      if (same) return this.#cacheValues[c];
    }
    const slot = this.#cacheNext;
    this.#cacheNext = (slot + 1) % SOURCE_CACHE_SIZE;
    const key = this.#cacheKeys[slot];
    key.set(name.subarray(offset, offset + size));
    const text = this.#format(key.slice(0, size));
    this.#cacheLengths[slot] = size;
    this.#cacheValues[slot] = text;
    return text;
  }

  /**
   * The source UDP port of datagram `index`.
   *
   * @param index The datagram, 0 to `length - 1`.
   * @returns The port.
   */
  sourcePort(index: number): number {
    this.#checkIndex(index);
    return sockaddrPort(this.#names[index]);
  }

  /**
   * Reads what the kernel reported about datagram `index` (TTL / hop limit, TOS / traffic class,
   * destination address and arrival interface, receive time) into a reused `out`.
   *
   * @param index The datagram, 0 to `length - 1`.
   * @param out Where the values go (cleared first).
   */
  metadata(index: number, out: ReceivedMetadata): void {
    this.#checkIndex(index);
    this.#messages.readMetadata(index, out);
  }

  #checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.#length) {
      throw new InvalidValueError(
        "datagram index",
        index,
        this.#length === 0 ? "no index: the batch is empty" : `0 to ${this.#length - 1}`,
      );
    }
  }
}
