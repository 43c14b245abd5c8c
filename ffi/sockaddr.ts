/**
 * `sockaddr_in` / `sockaddr_in6` encoding and decoding, with the IPv6 scope id.
 *
 * Family and scope id are host byte order, port big-endian, addresses network order. BSD systems
 * prefix a length byte; the layout comes from the OS table.
 *
 * @module
 */

import { type AddressFamily, formatAddress, parseAddress } from "../lib/address.ts";
import { InvalidValueError } from "../lib/errors.ts";
import { PLATFORM } from "./constants.ts";
import { nativeBuffer } from "./_buffer.ts";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LAYOUT = PLATFORM.layout;

/** An IP endpoint: address text, port, and for IPv6 the scope id (interface index). */
export interface SocketAddress {
  /** IPv4 or IPv6 address text (no `%zone`; use {@linkcode SocketAddress.scopeId}). */
  address: string;
  /** UDP port, 0..65535. */
  port: number;
  /**
   * IPv6 scope id (interface index) for link- and interface-local addresses.
   *
   * @default {0}
   */
  scopeId?: number;
}

/** A decoded socket address, with its family. */
export interface DecodedSocketAddress extends Required<SocketAddress> {
  /** `"IPv4"` or `"IPv6"`. */
  family: AddressFamily;
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
 * encodeSockaddr(target, { address: "239.1.2.3", port: 5000 }); // 16
 * target.subarray(2, 8); // [0x13, 0x88, 239, 1, 2, 3]
 * ```
 *
 * @param target The buffer to write into.
 * @param endpoint The address, port and scope id.
 * @param offset Where the structure starts in `target`.
 * @returns The structure's length.
 */
export function encodeSockaddr(target: Uint8Array, endpoint: SocketAddress, offset = 0): number {
  const parsed = parseAddress(endpoint.address);
  const port = endpoint.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidValueError("port", port, "an integer from 0 to 65535");
  }
  const length = sockaddrLength(parsed.family);
  const view = new DataView(target.buffer, target.byteOffset + offset, length);
  target.fill(0, offset, offset + length);
  writeFamily(view, parsed.family === "IPv4" ? PLATFORM.AF_INET : PLATFORM.AF_INET6, length);
  view.setUint16(2, port, false);
  if (parsed.family === "IPv4") {
    target.set(parsed.bytes, offset + 4);
  } else {
    // flowinfo (4..8) stays 0
    target.set(parsed.bytes, offset + 8);
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
 * sockaddrFor({ address: "ff3e::1", port: 5000 }).length; // 28
 * ```
 *
 * @param endpoint The address, port and scope id.
 * @returns The structure.
 */
export function sockaddrFor(endpoint: SocketAddress): Uint8Array<ArrayBuffer> {
  const family = parseAddress(endpoint.address).family;
  const buffer = nativeBuffer(sockaddrLength(family));
  encodeSockaddr(buffer, endpoint);
  return buffer;
}

/**
 * The address family stored in a `sockaddr`, or `null` when it is neither inet nor inet6.
 *
 * @example
 * ```ts
 * import { sockaddrFamily, sockaddrFor } from "./sockaddr.ts";
 * sockaddrFamily(sockaddrFor({ address: "127.0.0.1", port: 1 })); // "IPv4"
 * ```
 *
 * @param source The structure.
 * @param offset Where it starts.
 * @returns `"IPv4"`, `"IPv6"` or `null`.
 */
export function sockaddrFamily(source: Uint8Array, offset = 0): AddressFamily | null {
  const family = LAYOUT.sockaddrHasLength
    ? source[offset + 1]
    : new DataView(source.buffer, source.byteOffset + offset, 2).getUint16(0, LITTLE_ENDIAN);
  if (family === PLATFORM.AF_INET) return "IPv4";
  if (family === PLATFORM.AF_INET6) return "IPv6";
  return null;
}

/**
 * Decodes a `sockaddr_in` / `sockaddr_in6`.
 *
 * @example
 * ```ts
 * import { decodeSockaddr, sockaddrFor } from "./sockaddr.ts";
 * decodeSockaddr(sockaddrFor({ address: "fe80::1", port: 9, scopeId: 3 }));
 * // { family: "IPv6", address: "fe80::1", port: 9, scopeId: 3 }
 * ```
 *
 * @param source The structure.
 * @param offset Where it starts.
 * @returns The endpoint.
 * @throws {InvalidValueError} When the family is neither inet nor inet6.
 */
export function decodeSockaddr(source: Uint8Array, offset = 0): DecodedSocketAddress {
  const family = sockaddrFamily(source, offset);
  if (family === null) {
    throw new InvalidValueError("sockaddr family", source[offset], "AF_INET or AF_INET6");
  }
  const view = new DataView(source.buffer, source.byteOffset + offset, sockaddrLength(family));
  const port = view.getUint16(2, false);
  if (family === "IPv4") {
    return {
      family,
      address: formatAddress(source.subarray(offset + 4, offset + 8)),
      port,
      scopeId: 0,
    };
  }
  return {
    family,
    address: formatAddress(source.subarray(offset + 8, offset + 24)),
    port,
    scopeId: view.getUint32(24, LITTLE_ENDIAN),
  };
}

function writeFamily(view: DataView, family: number, length: number): void {
  if (LAYOUT.sockaddrHasLength) {
    view.setUint8(0, length);
    view.setUint8(1, family);
  } else {
    view.setUint16(0, family, LITTLE_ENDIAN);
  }
}
