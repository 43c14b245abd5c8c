/**
 * Network interfaces as the library and the tools name them: by name (`"eth1"`), index (`3`) or
 * one of their local addresses (`"10.0.0.2"`, `"fe80::1%eth1"`), with their addresses as
 * canonical text. The lists come from the C library (`ffi/interfaces.ts`, `getifaddrs`); this
 * module turns them into text and finds the interface a user meant.
 *
 * @module
 */

import { PLATFORM } from "../ffi/constants.ts";
import { type RawInterface, readInterfaces } from "../ffi/interfaces.ts";
import { type AddressFamily, formatAddress, parseAddress, type ParsedAddress } from "./address.ts";
import { InterfaceNotFoundError, MismatchError } from "./errors.ts";
import { interfaceCarrier } from "./sysctl.ts";

export { interfaceIndex, interfaceName } from "../ffi/interfaces.ts";

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
 * Every interface with its IPv4/IPv6 addresses, in index order.
 *
 * @example
 * ```ts ignore
 * import { listInterfaces } from "./interfaces.ts";
 * const lo = listInterfaces().find((i) => i.name === "lo");
 * lo?.addresses.map((a) => a.address); // ["127.0.0.1", "::1"]
 * ```
 *
 * @returns The interfaces.
 */
export function listInterfaces(): NetworkInterface[] {
  return readInterfaces().map(toText);
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

/**
 * The interface a join of `group` names: the `spec` (name, index or local address), or the
 * group's own `%zone`; both given must agree. `{ index: 0, name: null }` when neither is (the
 * kernel then chooses by routing).
 *
 * @example
 * ```ts ignore
 * import { parseAddress } from "./address.ts";
 * import { interfaceForGroup } from "./interfaces.ts";
 * interfaceForGroup(parseAddress("ff02::1234%lo"), undefined); // { index: 1, name: "lo" }
 * interfaceForGroup(parseAddress("239.1.2.3"), undefined); // { index: 0, name: null }
 * ```
 *
 * @param group The parsed group (its `zone`, if any).
 * @param spec The interface given, if any (`0` or `""` count as none).
 * @returns The index and name.
 * @throws {InterfaceNotFoundError} When the spec or the zone names no interface.
 * @throws {MismatchError} When the spec and the zone name different interfaces.
 */
export function interfaceForGroup(
  group: ParsedAddress,
  spec: string | number | undefined,
): { index: number; name: string | null } {
  const fromSpec = spec === undefined || spec === 0 || spec === "0" || spec === ""
    ? null
    : resolveInterface(spec);
  const fromZone = group.zone === undefined ? null : resolveInterface(group.zone);
  if (fromSpec !== null && fromZone !== null && fromSpec.index !== fromZone.index) {
    throw new MismatchError(
      `interface of group ${formatAddress(group.bytes)}`,
      fromZone.name,
      fromSpec.name,
    );
  }
  const chosen = fromSpec ?? fromZone;
  return chosen === null ? { index: 0, name: null } : { index: chosen.index, name: chosen.name };
}

/** What an interface's flags say about sending and receiving multicast. */
export interface LinkState {
  /** Administratively up (IFF_UP). */
  up: boolean;
  /**
   * Up with a carrier (IFF_RUNNING, and for a named interface its carrier file, which changes at
   * once where the flag lags): a veth whose peer is down is up but not running.
   */
  running: boolean;
  /** Multicast capable (IFF_MULTICAST). */
  multicast: boolean;
  /** The loopback interface (IFF_LOOPBACK). */
  loopback: boolean;
}

/**
 * The link state of an interface, from its flags and, for a named interface, its carrier file
 * (`/sys/class/net/<name>/carrier`, believed only when that sysfs lists the same index).
 *
 * @example
 * ```ts ignore
 * import { linkState, resolveInterface } from "./interfaces.ts";
 * linkState(resolveInterface("lo")); // { up: true, running: true, multicast: false, loopback: true }
 * ```
 *
 * @param iface The interface (as listed: its flags are those of that moment).
 * @returns Up, running, multicast, loopback.
 */
export function linkState(
  iface: Pick<NetworkInterface, "flags"> & Partial<Pick<NetworkInterface, "name" | "index">>,
): LinkState {
  const flags = iface.flags;
  const up = (flags & PLATFORM.IFF_UP) !== 0;
  const carrier = up && iface.name !== undefined
    ? interfaceCarrier(iface.name, { index: iface.index })
    : null;
  return {
    up,
    running: (flags & PLATFORM.IFF_RUNNING) !== 0 && carrier !== false,
    multicast: (flags & PLATFORM.IFF_MULTICAST) !== 0,
    loopback: (flags & PLATFORM.IFF_LOOPBACK) !== 0,
  };
}

/**
 * The link state of one interface now, cheaply enough to ask once a second during a paced run:
 * one `getifaddrs` without turning any address into text, then the carrier file.
 *
 * @example
 * ```ts ignore
 * import { currentLinkState, interfaceIndex } from "./interfaces.ts";
 * currentLinkState("lo", interfaceIndex("lo"))?.up; // true
 * ```
 *
 * @param name The interface's name.
 * @param index Its index.
 * @returns The state, or null when no interface of that index has that name any more (gone).
 */
export function currentLinkState(name: string, index: number): LinkState | null {
  const raw = readInterfaces().find((i) => i.index === index);
  return raw === undefined || raw.name !== name ? null : linkState(raw);
}

function toText(raw: RawInterface): NetworkInterface {
  return {
    name: raw.name,
    index: raw.index,
    flags: raw.flags,
    addresses: raw.addresses.map((a) => ({
      family: a.family,
      address: formatAddress(a.bytes),
      scopeId: a.scopeId,
    })),
  };
}
