/**
 * The MCAS version 1 wire format: a 32-byte big-endian header at the start of every mcast-send
 * datagram, then 0xA5 padding to the end.
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 4 | magic `MCAS` (0x4D 0x43 0x41 0x53) |
 * | 4 | 1 | version = 1 |
 * | 5 | 1 | flags = 0 (reserved) |
 * | 6 | 1 | original TTL / hop limit the sender set |
 * | 7 | 1 | original DSCP the sender set (0..63) |
 * | 8 | 8 | sequence number, 0 for the first packet of an invocation |
 * | 16 | 8 | sender monotonic clock, nanoseconds |
 * | 24 | 8 | sender id, random per invocation |
 *
 * The sender side is {@linkcode McasEncoder} (one reused datagram buffer, only the changing
 * fields rewritten per packet) and {@linkcode encodeMcasInto}. The receiver side is
 * {@linkcode decodeMcas}, which writes into a caller-owned {@linkcode McasHeader} and never
 * throws on what arrives, and {@linkcode classifyDatagram}. The 64-bit fields are `bigint`s so
 * that every value is exact.
 *
 * @module
 */

import { InvalidValueError } from "./errors.ts";

/** The UDP port mcast-send sends to and mcast-receive listens on when none is given: 0x4D43, "MC". */
export const DEFAULT_PORT = 19779;

/** Size of the MCAS header in bytes, and the smallest MCAS datagram. */
export const MCAS_HEADER_SIZE = 32;

/** The magic at offset 0, as a big-endian 32-bit integer: the ASCII bytes `MCAS`. */
export const MCAS_MAGIC = 0x4d434153;

/** The only version this codec speaks. */
export const MCAS_VERSION = 1;

/** The byte that fills every datagram after the header. */
export const MCAS_PADDING_BYTE = 0xa5;

/** The largest UDP payload over IPv4, and so the largest MCAS datagram. */
export const MCAS_MAX_DATAGRAM_SIZE = 65507;

/** Byte offsets of the MCAS header fields. */
export interface McasOffsets {
  /** `MCAS`, 4 bytes. */
  readonly magic: 0;
  /** Version, 1 byte. */
  readonly version: 4;
  /** Flags, 1 byte. */
  readonly flags: 5;
  /** Original TTL, 1 byte. */
  readonly ttl: 6;
  /** Original DSCP, 1 byte. */
  readonly dscp: 7;
  /** Sequence number, 8 bytes. */
  readonly sequence: 8;
  /** Sender timestamp, 8 bytes. */
  readonly timestamp: 16;
  /** Sender id, 8 bytes. */
  readonly senderId: 24;
}

/**
 * Where each header field starts, in bytes from the start of the datagram.
 *
 * @example
 * ```ts
 * import { MCAS_OFFSETS } from "./mcas.ts";
 * MCAS_OFFSETS.sequence; // 8
 * ```
 */
export const MCAS_OFFSETS: McasOffsets = Object.freeze(
  {
    magic: 0,
    version: 4,
    flags: 5,
    ttl: 6,
    dscp: 7,
    sequence: 8,
    timestamp: 16,
    senderId: 24,
  } as const,
);

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const TWO_32 = 4294967296;

/** The fields of an MCAS header. */
export interface McasHeader {
  /** Reserved flags byte; senders write 0, receivers accept anything. */
  flags: number;
  /** The TTL / hop limit the sender set, 0 to 255. */
  ttl: number;
  /**
   * The DSCP the sender set. Senders write 0 to 63; {@linkcode decodeMcas} reports the raw byte,
   * so a received value may be up to 255 and must be checked before it is named.
   */
  dscp: number;
  /** Sequence number, 0 for the first packet of an invocation. */
  sequence: bigint;
  /** Sender monotonic clock, nanoseconds. */
  timestampNs: bigint;
  /** Sender id, random per invocation. */
  senderId: bigint;
}

/**
 * What {@linkcode decodeMcas} found: `"ok"` (the header was decoded), `"short"` (fewer than 32
 * bytes), `"bad-magic"` or `"bad-version"`. Anything but `"ok"` is a foreign datagram.
 */
export type McasDecodeStatus = "ok" | "short" | "bad-magic" | "bad-version";

/** Whether a datagram is MCAS version 1 or foreign. */
export type DatagramKind = "mcas" | "foreign";

/** Options for {@linkcode McasEncoder}. */
export interface McasEncoderOptions {
  /**
   * The TTL / hop limit the sender sets, 0 to 255.
   *
   * @default {100}
   */
  ttl?: number;
  /**
   * The DSCP the sender sets, 0 to 63.
   *
   * @default {0}
   */
  dscp?: number;
  /**
   * The sender id for this invocation.
   *
   * @default {randomSenderId()}
   */
  senderId?: bigint;
}

/** Options for {@linkcode encodeMcasInto}. */
export interface EncodeMcasOptions {
  /**
   * Fill every byte after the header with {@linkcode MCAS_PADDING_BYTE}.
   *
   * @default {true}
   */
  fillPadding?: boolean;
}

/**
 * Makes a header with every field zero, for {@linkcode decodeMcas} to write into.
 *
 * @example
 * ```ts
 * import { createMcasHeader } from "./mcas.ts";
 * const header = createMcasHeader();
 * header.sequence; // 0n
 * ```
 *
 * @returns A fresh header.
 */
export function createMcasHeader(): McasHeader {
  return { flags: 0, ttl: 0, dscp: 0, sequence: 0n, timestampNs: 0n, senderId: 0n };
}

/**
 * Builds MCAS datagrams of one size into one buffer that it owns and reuses: the magic, version,
 * flags, TTL, DSCP, sender id and padding are written once, and {@linkcode McasEncoder.encode}
 * rewrites only the sequence number and timestamp, without allocating.
 *
 * @example
 * ```ts
 * import { McasEncoder } from "./mcas.ts";
 * const encoder = new McasEncoder(200, { ttl: 4, dscp: 46, senderId: 0x1234n });
 * const datagram = encoder.encode(0n, 123_456_789n);
 * datagram.length; // 200
 * encoder.encode(1n, 123_500_000n) === datagram; // true: the same buffer
 * ```
 */
export class McasEncoder {
  #datagram: Uint8Array;
  #view: DataView;
  #ttl: number;
  #dscp: number;
  #senderId: bigint;

  /**
   * Constructs a new instance.
   *
   * @param size The datagram size in bytes (UDP payload, header included), 32 to 65507.
   * @param options TTL, DSCP and sender id written into every header.
   * @throws {InvalidValueError} When the size or a header field is out of range.
   */
  constructor(size: number, options: McasEncoderOptions = {}) {
    if (!Number.isInteger(size) || size < MCAS_HEADER_SIZE || size > MCAS_MAX_DATAGRAM_SIZE) {
      throw new InvalidValueError(
        "size",
        size,
        `an integer from ${MCAS_HEADER_SIZE} to ${MCAS_MAX_DATAGRAM_SIZE}`,
      );
    }
    this.#ttl = options.ttl ?? 100;
    this.#dscp = options.dscp ?? 0;
    this.#senderId = options.senderId ?? randomSenderId();
    this.#datagram = new Uint8Array(size);
    this.#view = new DataView(this.#datagram.buffer);
    encodeMcasInto(this.#datagram, {
      flags: 0,
      ttl: this.#ttl,
      dscp: this.#dscp,
      sequence: 0n,
      timestampNs: 0n,
      senderId: this.#senderId,
    });
  }

  /** The datagram buffer, the same object for the encoder's whole life. */
  get datagram(): Uint8Array {
    return this.#datagram;
  }

  /** The datagram size in bytes. */
  get size(): number {
    return this.#datagram.length;
  }

  /** The TTL written into every header. */
  get ttl(): number {
    return this.#ttl;
  }

  /** The DSCP written into every header. */
  get dscp(): number {
    return this.#dscp;
  }

  /** The sender id written into every header. */
  get senderId(): bigint {
    return this.#senderId;
  }

  /**
   * Writes the sequence number and timestamp into the buffer and returns it. The returned array
   * is the encoder's own buffer: the next call overwrites it.
   *
   * @example
   * ```ts
   * import { McasEncoder } from "./mcas.ts";
   * const encoder = new McasEncoder(32, { senderId: 1n });
   * encoder.encode(7n, 0n)[15]; // 7
   * ```
   *
   * @param sequence The sequence number, 0 to 2^64 - 1.
   * @param timestampNs The sender monotonic clock in nanoseconds, 0 to 2^64 - 1.
   * @returns The datagram buffer.
   * @throws {InvalidValueError} When a value does not fit in 64 unsigned bits.
   */
  encode(sequence: bigint, timestampNs: bigint): Uint8Array {
    this.#view.setBigUint64(MCAS_OFFSETS.sequence, checkU64("sequence", sequence));
    this.#view.setBigUint64(MCAS_OFFSETS.timestamp, checkU64("timestamp", timestampNs));
    return this.#datagram;
  }
}

/**
 * Rewrites the two changing fields of a datagram that already holds an MCAS header: the sequence
 * number and the sender timestamp, from plain numbers (the hot path of a sender stamping a
 * prepared batch: no bigint per packet). The timestamp comes as its two 32-bit halves, so a
 * batch stamped with one clock reading splits it once.
 *
 * @example
 * ```ts
 * import { McasEncoder, MCAS_OFFSETS, stampMcas } from "./mcas.ts";
 * const datagram = new McasEncoder(64, { senderId: 1n }).encode(0n, 0n);
 * const view = new DataView(datagram.buffer);
 * stampMcas(view, 2 ** 40 + 5, 1, 2);
 * view.getBigUint64(MCAS_OFFSETS.sequence); // 1099511627781n
 * view.getBigUint64(MCAS_OFFSETS.timestamp); // 4294967298n
 * ```
 *
 * @param view A view whose byte 0 is the start of the datagram.
 * @param sequence The sequence number, a safe integer (below 2^53).
 * @param timestampHigh The upper 32 bits of the sender timestamp.
 * @param timestampLow The lower 32 bits of the sender timestamp.
 */
export function stampMcas(
  view: DataView,
  sequence: number,
  timestampHigh: number,
  timestampLow: number,
): void {
  view.setUint32(MCAS_OFFSETS.sequence, Math.floor(sequence / TWO_32));
  view.setUint32(MCAS_OFFSETS.sequence + 4, sequence >>> 0);
  view.setUint32(MCAS_OFFSETS.timestamp, timestampHigh);
  view.setUint32(MCAS_OFFSETS.timestamp + 4, timestampLow);
}

/**
 * Writes an MCAS version 1 header at the start of `target` and, unless told otherwise, 0xA5
 * padding over the rest of it.
 *
 * @example
 * ```ts
 * import { encodeMcasInto } from "./mcas.ts";
 * const datagram = new Uint8Array(40);
 * encodeMcasInto(datagram, {
 *   flags: 0, ttl: 64, dscp: 46, sequence: 1n, timestampNs: 2n, senderId: 3n,
 * });
 * new TextDecoder().decode(datagram.subarray(0, 4)); // "MCAS"
 * datagram[39]; // 0xa5
 * ```
 *
 * @param target The datagram, at least 32 bytes.
 * @param header The fields to write.
 * @param options Whether to fill the padding.
 * @returns `target`.
 * @throws {InvalidValueError} When `target` is shorter than 32 bytes or a field is out of range.
 */
export function encodeMcasInto(
  target: Uint8Array,
  header: McasHeader,
  options: EncodeMcasOptions = {},
): Uint8Array {
  if (!(target instanceof Uint8Array) || target.length < MCAS_HEADER_SIZE) {
    throw new InvalidValueError("datagram", target, `at least ${MCAS_HEADER_SIZE} bytes`);
  }
  const flags = checkByte("flags", header.flags, 255);
  const ttl = checkByte("ttl", header.ttl, 255);
  const dscp = checkByte("dscp", header.dscp, 63);
  const sequence = checkU64("sequence", header.sequence);
  const timestampNs = checkU64("timestamp", header.timestampNs);
  const senderId = checkU64("sender id", header.senderId);
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  const at = MCAS_OFFSETS;
  view.setUint32(at.magic, MCAS_MAGIC);
  view.setUint8(at.version, MCAS_VERSION);
  view.setUint8(at.flags, flags);
  view.setUint8(at.ttl, ttl);
  view.setUint8(at.dscp, dscp);
  view.setBigUint64(at.sequence, sequence);
  view.setBigUint64(at.timestamp, timestampNs);
  view.setBigUint64(at.senderId, senderId);
  if (options.fillPadding ?? true) target.fill(MCAS_PADDING_BYTE, MCAS_HEADER_SIZE);
  return target;
}

// Scratch space for the 64-bit fields, so that decoding allocates nothing but the three bigints.
const scratch = new Uint8Array(24);
const scratchView = new DataView(scratch.buffer);

/**
 * Decodes the header of a received datagram into `out`, without allocating anything but the
 * three bigint values and without touching `datagram`. It never throws on what arrived: the
 * status says whether the datagram is MCAS version 1. On anything but `"ok"`, `out` is left
 * unchanged.
 *
 * Fields are reported raw and must not be trusted: `flags` may be nonzero (reserved, still
 * MCAS), and `dscp` is the whole byte 7, so it may exceed 63.
 *
 * @example
 * ```ts
 * import { createMcasHeader, decodeMcas, McasEncoder } from "./mcas.ts";
 * const datagram = new McasEncoder(64, { ttl: 8, senderId: 42n }).encode(5n, 1000n);
 * const header = createMcasHeader();
 * decodeMcas(datagram, header); // "ok"
 * header.sequence; // 5n
 * decodeMcas(new Uint8Array(10), header); // "short"
 * ```
 *
 * @param datagram The received UDP payload.
 * @param out The header to write the fields into.
 * @returns `"ok"`, `"short"`, `"bad-magic"` or `"bad-version"`.
 */
export function decodeMcas(datagram: Uint8Array, out: McasHeader): McasDecodeStatus {
  const status = checkDatagram(datagram);
  if (status !== "ok") return status;
  const at = MCAS_OFFSETS;
  for (let i = 0; i < 24; i++) scratch[i] = datagram[at.sequence + i];
  out.flags = datagram[at.flags];
  out.ttl = datagram[at.ttl];
  out.dscp = datagram[at.dscp];
  out.sequence = scratchView.getBigUint64(0);
  out.timestampNs = scratchView.getBigUint64(at.timestamp - at.sequence);
  out.senderId = scratchView.getBigUint64(at.senderId - at.sequence);
  return "ok";
}

/**
 * Whether a datagram is MCAS version 1 (`"mcas"`) or `"foreign"`: shorter than 32 bytes, without
 * the magic, or with a version other than 1. Nonzero flags are still MCAS.
 *
 * @example
 * ```ts
 * import { classifyDatagram, McasEncoder } from "./mcas.ts";
 * classifyDatagram(new McasEncoder(32, { senderId: 1n }).encode(0n, 0n)); // "mcas"
 * classifyDatagram(new TextEncoder().encode("hello")); // "foreign"
 * ```
 *
 * @param datagram The received UDP payload.
 * @returns `"mcas"` or `"foreign"`.
 */
export function classifyDatagram(datagram: Uint8Array): DatagramKind {
  return checkDatagram(datagram) === "ok" ? "mcas" : "foreign";
}

/**
 * Formats a sender id as 16 lowercase hex digits, zero-padded, as the `--json` outputs show it.
 *
 * @example
 * ```ts
 * import { formatSenderId } from "./mcas.ts";
 * formatSenderId(0xabcn); // "0000000000000abc"
 * ```
 *
 * @param senderId The sender id, 0 to 2^64 - 1.
 * @returns 16 hex digits.
 * @throws {InvalidValueError} When the id does not fit in 64 unsigned bits.
 */
export function formatSenderId(senderId: bigint): string {
  return checkU64("sender id", senderId).toString(16).padStart(16, "0");
}

/**
 * Parses a sender id written as 1 to 16 hex digits (the form {@linkcode formatSenderId} writes).
 *
 * @example
 * ```ts
 * import { parseSenderId } from "./mcas.ts";
 * parseSenderId("0000000000000abc"); // 0xabcn
 * ```
 *
 * @param text The hex digits.
 * @returns The sender id.
 * @throws {InvalidValueError} When the text is not 1 to 16 hex digits.
 */
export function parseSenderId(text: string): bigint {
  if (typeof text !== "string" || !/^[0-9a-fA-F]{1,16}$/.test(text)) {
    throw new InvalidValueError("sender id", text, "1 to 16 hex digits");
  }
  return BigInt(`0x${text}`);
}

/**
 * A random 64-bit sender id from the platform's cryptographic random source.
 *
 * @example
 * ```ts
 * import { formatSenderId, randomSenderId } from "./mcas.ts";
 * formatSenderId(randomSenderId()).length; // 16
 * ```
 *
 * @returns The sender id.
 */
export function randomSenderId(): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return new DataView(bytes.buffer).getBigUint64(0);
}

function checkDatagram(datagram: Uint8Array): McasDecodeStatus {
  if (datagram.length < MCAS_HEADER_SIZE) return "short";
  if (
    datagram[0] !== 0x4d || datagram[1] !== 0x43 || datagram[2] !== 0x41 || datagram[3] !== 0x53
  ) {
    return "bad-magic";
  }
  if (datagram[MCAS_OFFSETS.version] !== MCAS_VERSION) return "bad-version";
  return "ok";
}

function checkU64(what: string, value: bigint): bigint {
  if (typeof value !== "bigint" || value < 0n || value > U64_MAX) {
    throw new InvalidValueError(what, value, "an integer from 0 to 2^64 - 1 as a bigint");
  }
  return value;
}

function checkByte(what: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new InvalidValueError(what, value, `an integer from 0 to ${max}`);
  }
  return value;
}
