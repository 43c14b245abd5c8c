/**
 * Network interfaces: name ⇄ index ⇄ addresses, from `getifaddrs`, `if_nametoindex` and
 * `if_indextoname`. Used by the sender (outgoing interface, source → index) and the receiver
 * (join interface) alike.
 *
 * @module
 */

import { type AddressFamily, formatAddress, parseAddress } from "../lib/address.ts";
import { InterfaceNotFoundError } from "../lib/errors.ts";
import { PLATFORM } from "./constants.ts";
import { check } from "./errno.ts";
import { libc } from "./libc.ts";
import { nativeBuffer } from "./_buffer.ts";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One address of an interface. */
export interface InterfaceAddress {
  /** `"IPv4"` or `"IPv6"`. */
  family: AddressFamily;
  /** Canonical address text, without zone. */
  address: string;
  /** IPv6 scope id (the interface index for link-local addresses), else 0. */
  scopeId: number;
}

/** A network interface with its IPv4 and IPv6 addresses. */
export interface NetworkInterface {
  /** Interface name, for example `"lo"`. */
  name: string;
  /** Interface index. */
  index: number;
  /** `IFF_*` flags. */
  flags: number;
  /** IPv4 and IPv6 addresses, in kernel order. */
  addresses: InterfaceAddress[];
}

/**
 * The index of an interface name, or 0 when there is none.
 *
 * @example
 * ```ts ignore
 * import { interfaceIndex } from "./interfaces.ts";
 * interfaceIndex("lo"); // 1
 * ```
 *
 * @param name The interface name.
 * @returns The index, 0 when unknown.
 */
export function interfaceIndex(name: string): number {
  if (name.length === 0 || name.length >= PLATFORM.IFNAMSIZ) return 0;
  return libc().if_nametoindex(new TextEncoder().encode(`${name}\0`));
}

/**
 * The name of an interface index, or null when there is none.
 *
 * @example
 * ```ts ignore
 * import { interfaceName } from "./interfaces.ts";
 * interfaceName(1); // "lo"
 * ```
 *
 * @param index The interface index.
 * @returns The name, or null.
 */
export function interfaceName(index: number): string | null {
  if (!Number.isInteger(index) || index <= 0 || index > 0xffffffff) return null;
  const buffer = nativeBuffer(PLATFORM.IFNAMSIZ);
  const result = libc().if_indextoname(index, buffer);
  if (result === null) return null;
  const end = buffer.indexOf(0);
  return new TextDecoder().decode(buffer.subarray(0, end < 0 ? buffer.length : end));
}

/**
 * Every interface with its IPv4/IPv6 addresses (`getifaddrs`).
 *
 * @example
 * ```ts ignore
 * import { listInterfaces } from "./interfaces.ts";
 * const lo = listInterfaces().find((i) => i.name === "lo");
 * ```
 *
 * @returns The interfaces, in index order.
 */
export function listInterfaces(): NetworkInterface[] {
  const head = nativeBuffer(8);
  check(libc().getifaddrs(head), "getifaddrs");
  const first = Deno.UnsafePointer.create(new DataView(head.buffer).getBigUint64(0, LITTLE_ENDIAN));
  const byName = new Map<string, NetworkInterface>();
  const layout = PLATFORM.layout.ifaddrs;
  try {
    for (let entry = first; entry !== null;) {
      const view = new Deno.UnsafePointerView(entry);
      const namePointer = view.getPointer(layout.name);
      const name = namePointer === null ? "" : Deno.UnsafePointerView.getCString(namePointer);
      const flags = view.getUint32(layout.flags);
      let item = byName.get(name);
      if (item === undefined) {
        item = { name, index: interfaceIndex(name), flags, addresses: [] };
        byName.set(name, item);
      }
      const addressPointer = view.getPointer(layout.addr);
      if (addressPointer !== null) {
        const found = readAddress(addressPointer);
        if (found !== null) item.addresses.push(found);
      }
      entry = view.getPointer(layout.next);
    }
  } finally {
    if (first !== null) libc().freeifaddrs(first);
  }
  return [...byName.values()].sort((a, b) => a.index - b.index);
}

/**
 * Finds the interface meant by a name (`"eth1"`), an index (`3` or `"3"`) or one of its local
 * addresses (`"10.0.0.2"`, `"fe80::1%eth1"`).
 *
 * @example
 * ```ts ignore
 * import { resolveInterface } from "./interfaces.ts";
 * resolveInterface("127.0.0.1").name; // "lo"
 * ```
 *
 * @param spec Name, index or local address.
 * @returns The interface.
 * @throws {InterfaceNotFoundError} When nothing matches.
 */
export function resolveInterface(spec: string | number): NetworkInterface {
  const interfaces = listInterfaces();
  const text = String(spec).trim();
  if (/^\d+$/.test(text)) {
    const byIndex = interfaces.find((i) => i.index === Number(text));
    if (byIndex !== undefined) return byIndex;
    throw new InterfaceNotFoundError(spec);
  }
  const byName = interfaces.find((i) => i.name === text);
  if (byName !== undefined) return byName;
  let wanted: string;
  try {
    wanted = formatAddress(parseAddress(text).bytes);
  } catch {
    throw new InterfaceNotFoundError(spec);
  }
  const byAddress = findInterfaceByAddress(wanted, interfaces);
  if (byAddress === null) throw new InterfaceNotFoundError(spec);
  return byAddress;
}

/**
 * The interface that owns a local address, or null.
 *
 * @example
 * ```ts ignore
 * import { findInterfaceByAddress } from "./interfaces.ts";
 * findInterfaceByAddress("::1")?.name; // "lo"
 * ```
 *
 * @param address Canonical address text (no zone).
 * @param interfaces The interfaces to search (default: all of this host's).
 * @returns The interface, or null.
 */
export function findInterfaceByAddress(
  address: string,
  interfaces: NetworkInterface[] = listInterfaces(),
): NetworkInterface | null {
  return interfaces.find((i) => i.addresses.some((a) => a.address === address)) ?? null;
}

function readAddress(pointer: Deno.PointerObject): InterfaceAddress | null {
  const view = new Deno.UnsafePointerView(pointer);
  const family = PLATFORM.layout.sockaddrHasLength ? view.getUint8(1) : view.getUint16(0);
  if (family === PLATFORM.AF_INET) {
    const bytes = new Uint8Array(4);
    view.copyInto(bytes, 4);
    return { family: "IPv4", address: formatAddress(bytes), scopeId: 0 };
  }
  if (family === PLATFORM.AF_INET6) {
    const bytes = new Uint8Array(16);
    view.copyInto(bytes, 8);
    return { family: "IPv6", address: formatAddress(bytes), scopeId: view.getUint32(24) };
  }
  return null;
}
