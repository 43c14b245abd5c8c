/**
 * Network interfaces as the C library lists them: name ⇄ index (`if_nametoindex`,
 * `if_indextoname`) and every interface with its flags and addresses in bytes (`getifaddrs`).
 * Finding an interface by a name, an index or an address written as text is the library's
 * business (`lib/interfaces.ts`).
 *
 * @module
 */

import { LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { check } from "./errno.ts";
import { libc } from "./libc.ts";
import type { AddressFamily } from "./sockaddr.ts";
import { nativeBuffer } from "./_buffer.ts";

/** One address of an interface, in bytes. */
export interface RawInterfaceAddress {
  /** `"IPv4"` or `"IPv6"`. */
  family: AddressFamily;
  /** The address, network byte order (4 or 16 bytes). */
  bytes: Uint8Array;
  /** IPv6 scope id (the interface index for link-local addresses), else 0. */
  scopeId: number;
}

/** A network interface with its flags and addresses, as `getifaddrs` reports it. */
export interface RawInterface {
  /** Interface name, for example `"lo"`. */
  name: string;
  /** Interface index. */
  index: number;
  /** `IFF_*` flags (`PLATFORM.IFF_UP`, `IFF_RUNNING`, `IFF_MULTICAST` …). */
  flags: number;
  /** IPv4 and IPv6 addresses, in kernel order. */
  addresses: RawInterfaceAddress[];
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
 * Every interface with its flags and IPv4/IPv6 addresses (`getifaddrs`).
 *
 * @example
 * ```ts ignore
 * import { readInterfaces } from "./interfaces.ts";
 * const lo = readInterfaces().find((i) => i.name === "lo");
 * ```
 *
 * @returns The interfaces, in index order.
 */
export function readInterfaces(): RawInterface[] {
  const head = nativeBuffer(8);
  check(libc().getifaddrs(head), "getifaddrs");
  const first = Deno.UnsafePointer.create(new DataView(head.buffer).getBigUint64(0, LITTLE_ENDIAN));
  const byName = new Map<string, RawInterface>();
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

function readAddress(pointer: Deno.PointerObject): RawInterfaceAddress | null {
  const view = new Deno.UnsafePointerView(pointer);
  const family = PLATFORM.layout.sockaddrHasLength ? view.getUint8(1) : view.getUint16(0);
  if (family === PLATFORM.AF_INET) {
    const bytes = new Uint8Array(4);
    view.copyInto(bytes, 4);
    return { family: "IPv4", bytes, scopeId: 0 };
  }
  if (family === PLATFORM.AF_INET6) {
    const bytes = new Uint8Array(16);
    view.copyInto(bytes, 8);
    return { family: "IPv6", bytes, scopeId: view.getUint32(24) };
  }
  return null;
}
