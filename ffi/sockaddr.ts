/**
 * `sockaddr_in` / `sockaddr_in6` encoding and decoding, with the IPv6 scope id.
 *
 * This floor speaks bytes, not text: an address is its family and its network-order bytes (4 or
 * 16), as the kernel stores it. Parsing and formatting address text is the library's business
 * (`lib/address.ts`). Family and scope id are host byte order, port big-endian; BSD systems
 * prefix a length byte; the layout comes from the OS table.
 *
 * @module
 */

import { InvalidValueError } from "./errors.ts";
import { LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { nativeBuffer } from "./_buffer.ts";

const LAYOUT = PLATFORM.layout;

/** The two IP address families. */
export type AddressFamily = "IPv4" | "IPv6";

/** An IP address as the kernel stores it: its family and its bytes in network order. */
export interface RawAddress {
  /** `"IPv4"` (4 bytes) or `"IPv6"` (16 bytes). */
  readonly family: AddressFamily;
  /** The address, network byte order. */
  readonly bytes: Uint8Array;
}

/** An IP endpoint in bytes: address, port and, for IPv6, the scope id (interface index). */
export interface RawEndpoint extends RawAddress {
  /** UDP port, 0..65535. */
  readonly port: number;
  /**
   * IPv6 scope id (interface index) for link- and interface-local addresses.
   *
   * @default {0}
   */
  readonly scopeId?: number;
}

/** A decoded socket address: a fresh copy of the bytes, with every field present. */
export interface DecodedEndpoint extends RawEndpoint {
  /** IPv6 scope id, 0 for IPv4 and for wider scopes. */
  readonly scopeId: number;
}

/**
 * The byte length of an address of a family: 4 or 16.
 *
 * @example
 * ```ts
 * import { addressLength } from "./sockaddr.ts";
 * addressLength("IPv6"); // 16
 * ```
 *
 * @param family The family.
 * @returns 4 or 16.
 */
export function addressLength(family: AddressFamily): number {
  return family === "IPv4" ? 4 : 16;
}

/**
 * The `sockaddr` length of a family on this OS.
 *
 * @example
 * ```ts
 * import { sockaddrLength } from "./sockaddr.ts";
 * sockaddrLength("IPv6"); // 28
 * ```
 *
 * @param family The address family.
 * @returns The structure size in bytes.
 */
export function sockaddrLength(family: AddressFamily): number {
  return family === "IPv4" ? LAYOUT.sockaddrInSize : LAYOUT.sockaddrIn6Size;
}

/**
 * Writes a `sockaddr_in` or `sockaddr_in6` at `offset` of `target` and returns its length.
 * The bytes up to the structure's size are overwritten (zero padding included).
 *
 * @example
 * ```ts
 * import { encodeSockaddr } from "./sockaddr.ts";
 * const target = new Uint8Array(28);
 * encodeSockaddr(target, { family: "IPv4", bytes: Uint8Array.of(239, 1, 2, 3), port: 5000 }); // 16
 * target.subarray(2, 8); // [0x13, 0x88, 239, 1, 2, 3]
 * ```
 *
 * @param target The buffer to write into.
 * @param endpoint The address bytes, port and scope id.
 * @param offset Where the structure starts in `target`.
 * @returns The structure's length.
 * @throws {InvalidValueError} When the port is out of range or the bytes do not fit the family.
 */
export function encodeSockaddr(target: Uint8Array, endpoint: RawEndpoint, offset = 0): number {
  const { family, bytes, port } = endpoint;
  checkAddress(endpoint);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidValueError("port", port, "an integer from 0 to 65535");
  }
  const length = sockaddrLength(family);
  const view = new DataView(target.buffer, target.byteOffset + offset, length);
  target.fill(0, offset, offset + length);
  writeFamily(view, family === "IPv4" ? PLATFORM.AF_INET : PLATFORM.AF_INET6, length);
  view.setUint16(2, port, false);
  if (family === "IPv4") {
    target.set(bytes, offset + 4);
  } else {
    // flowinfo (4..8) stays 0
    target.set(bytes, offset + 8);
    view.setUint32(24, endpoint.scopeId ?? 0, LITTLE_ENDIAN);
  }
  return length;
}

/**
 * A new native buffer holding the `sockaddr` of an endpoint, sized exactly.
 *
 * @example
 * ```ts
 * import { sockaddrFor } from "./sockaddr.ts";
 * sockaddrFor({ family: "IPv6", bytes: new Uint8Array(16), port: 5000 }).length; // 28
 * ```
 *
 * @param endpoint The address bytes, port and scope id.
 * @returns The structure.
 */
export function sockaddrFor(endpoint: RawEndpoint): Uint8Array<ArrayBuffer> {
  const buffer = nativeBuffer(sockaddrLength(endpoint.family));
  encodeSockaddr(buffer, endpoint);
  return buffer;
}

/**
 * The address family stored in a `sockaddr`, or `null` when it is neither inet nor inet6.
 *
 * @example
 * ```ts
 * import { sockaddrFamily, sockaddrFor } from "./sockaddr.ts";
 * sockaddrFamily(sockaddrFor({ family: "IPv4", bytes: Uint8Array.of(127, 0, 0, 1), port: 1 }));
 * // "IPv4"
 * ```
 *
 * @param source The structure.
 * @param offset Where it starts.
 * @returns `"IPv4"`, `"IPv6"` or `null`.
 */
export function sockaddrFamily(source: Uint8Array, offset = 0): AddressFamily | null {
  const family = LAYOUT.sockaddrHasLength
    ? source[offset + 1]
    : LITTLE_ENDIAN
    ? source[offset] | (source[offset + 1] << 8)
    : (source[offset] << 8) | source[offset + 1];
  if (family === PLATFORM.AF_INET) return "IPv4";
  if (family === PLATFORM.AF_INET6) return "IPv6";
  return null;
}

/**
 * Where the address bytes of a `sockaddr` of `family` start: 4 for `sockaddr_in`, 8 for
 * `sockaddr_in6`.
 *
 * @example
 * ```ts
 * import { sockaddrAddressOffset } from "./sockaddr.ts";
 * sockaddrAddressOffset("IPv6"); // 8
 * ```
 *
 * @param family The family.
 * @returns The offset in bytes.
 */
export function sockaddrAddressOffset(family: AddressFamily): number {
  return family === "IPv4" ? 4 : 8;
}

/**
 * The port of a `sockaddr_in` / `sockaddr_in6` (the same place in both).
 *
 * @example
 * ```ts
 * import { sockaddrFor, sockaddrPort } from "./sockaddr.ts";
 * sockaddrPort(sockaddrFor({ family: "IPv4", bytes: new Uint8Array(4), port: 40512 })); // 40512
 * ```
 *
 * @param source The structure.
 * @param offset Where it starts.
 * @returns The port.
 */
export function sockaddrPort(source: Uint8Array, offset = 0): number {
  return (source[offset + 2] << 8) | source[offset + 3];
}

/**
 * Decodes a `sockaddr_in` / `sockaddr_in6` into a fresh endpoint (the bytes are copied).
 *
 * @example
 * ```ts
 * import { decodeSockaddr, sockaddrFor } from "./sockaddr.ts";
 * const bytes = new Uint8Array(16);
 * bytes[0] = 0xfe;
 * bytes[1] = 0x80;
 * bytes[15] = 1;
 * const decoded = decodeSockaddr(sockaddrFor({ family: "IPv6", bytes, port: 9, scopeId: 3 }));
 * decoded.port; // 9
 * decoded.scopeId; // 3
 * ```
 *
 * @param source The structure.
 * @param offset Where it starts.
 * @returns The endpoint.
 * @throws {InvalidValueError} When the family is neither inet nor inet6.
 */
export function decodeSockaddr(source: Uint8Array, offset = 0): DecodedEndpoint {
  const family = sockaddrFamily(source, offset);
  if (family === null) {
    throw new InvalidValueError("sockaddr family", source[offset], "AF_INET or AF_INET6");
  }
  const start = offset + sockaddrAddressOffset(family);
  const bytes = source.slice(start, start + addressLength(family));
  const port = sockaddrPort(source, offset);
  if (family === "IPv4") return { family, bytes, port, scopeId: 0 };
  const view = new DataView(source.buffer, source.byteOffset + offset, sockaddrLength(family));
  return { family, bytes, port, scopeId: view.getUint32(24, LITTLE_ENDIAN) };
}

/**
 * Refuses address bytes that do not fit their family.
 *
 * @example
 * ```ts
 * import { checkAddress } from "./sockaddr.ts";
 * checkAddress({ family: "IPv4", bytes: Uint8Array.of(10, 0, 0, 1) });
 * ```
 *
 * @param address The family and bytes.
 * @throws {InvalidValueError} When the family is unknown or the length is wrong.
 */
export function checkAddress(address: RawAddress): void {
  const { family, bytes } = address;
  if (family !== "IPv4" && family !== "IPv6") {
    throw new InvalidValueError("address family", family, "IPv4 or IPv6");
  }
  if (!(bytes instanceof Uint8Array) || bytes.length !== addressLength(family)) {
    throw new InvalidValueError(
      `${family} address bytes`,
      bytes,
      `${addressLength(family)} bytes`,
    );
  }
}

function writeFamily(view: DataView, family: number, length: number): void {
  if (LAYOUT.sockaddrHasLength) {
    view.setUint8(0, length);
    view.setUint8(1, family);
  } else {
    view.setUint16(0, family, LITTLE_ENDIAN);
  }
}
