/**
 * The configuration of one multicast publication (sender socket), after mctx-core's
 * `PublicationConfig`: an immutable value whose `with*` methods return a new config, and a
 * {@linkcode PublicationConfig.validate} that refuses a bad value with a typed error naming it,
 * before any socket exists.
 *
 * Source address and outgoing interface are distinct concepts:
 *
 * - the **source address** is the exact local IP the socket binds before sending (what an SSM
 *   receiver filters on);
 * - the **outgoing interface** is where multicast leaves the host: a local address (IPv4 or
 *   IPv6) or, for IPv6, an interface index.
 *
 * The IPv6 rules that turn these into socket options live in `publication.ts`; the destination
 * scope-id rule is {@linkcode destinationScopeId}.
 *
 * @module
 */

import {
  type AddressFamily,
  canonicalAddress,
  ipv6MulticastScope,
  isMulticast,
  parseAddress,
  scopeIdKept,
  stripZone,
} from "./address.ts";
import { parseDscp } from "./dscp.ts";
import { InvalidValueError, MismatchError } from "./errors.ts";

export type { AddressFamily } from "./address.ts";

/**
 * The outgoing (egress) interface of a publication: a local address of that interface (IPv4 or
 * IPv6), an IPv6 interface index, or an IPv4 interface index (for an interface without an IPv4
 * address). mctx-core keeps one such slot: setting one replaces the other.
 */
export type OutgoingInterface =
  | { readonly kind: "address"; readonly address: string }
  | { readonly kind: "index"; readonly index: number }
  | { readonly kind: "ipv4-index"; readonly index: number };

/** The fields of a {@linkcode PublicationConfig}, as {@linkcode PublicationConfig.toJSON} shows them. */
export interface PublicationConfigFields {
  /** The destination multicast group (text, as given). */
  readonly group: string;
  /** The destination UDP port. */
  readonly port: number;
  /** The exact local source address to bind, if set (IPv6 may carry a `%zone`). */
  readonly sourceAddr?: string;
  /** The local UDP source port to bind, if set. */
  readonly sourcePort?: number;
  /** The outgoing interface, if set. */
  readonly outgoingInterface?: OutgoingInterface;
  /** IPv4 multicast TTL / IPv6 multicast hop limit. */
  readonly ttl: number;
  /** Whether multicast is looped back to local receivers. */
  readonly loopback: boolean;
  /** The DSCP (number or name) for IP_TOS / IPV6_TCLASS, if set. */
  readonly dscp?: number | string;
}

/** The default TTL / hop limit, as in mctx-core: 1 (the local link only). */
export const DEFAULT_TTL = 1;

const PORT_EXPECTED = "an integer from 1 to 65535";
const TTL_EXPECTED = "an integer from 1 to 255";

/**
 * An immutable multicast publication configuration: group and destination port, plus optional
 * source address, source port, outgoing interface, TTL (default 1), loopback (default on) and
 * DSCP. Every `with*` returns a new config; nothing is checked until
 * {@linkcode PublicationConfig.validate}, which `Publication` calls before it opens a socket.
 *
 * @example Build and validate
 * ```ts
 * import { PublicationConfig } from "./publication_config.ts";
 * const config = new PublicationConfig("239.1.2.3", 5000)
 *   .withSourceAddr("192.168.1.10")
 *   .withTtl(4)
 *   .withDscp("ef");
 * config.validate();
 * config.ttl; // 4
 * config.dscpValue; // 46
 * ```
 *
 * @example A refused value is named
 * ```ts
 * import { PublicationConfig } from "./publication_config.ts";
 * try {
 *   new PublicationConfig("239.1.2.3", 5000).withSourceAddr("fd00::1").validate();
 * } catch (error) {
 *   (error as Error).message; // 'Mismatched address family of source "fd00::1": expected "IPv4", got "IPv6"'
 * }
 * ```
 */
export class PublicationConfig implements PublicationConfigFields {
  /** The destination multicast group. */
  readonly group: string;
  /** The destination UDP port. */
  readonly port: number;
  /** The exact local source address to bind, if set. */
  readonly sourceAddr?: string;
  /** The local UDP source port to bind, if set. */
  readonly sourcePort?: number;
  /** The outgoing interface, if set. */
  readonly outgoingInterface?: OutgoingInterface;
  /** IPv4 multicast TTL / IPv6 multicast hop limit (default 1). */
  readonly ttl: number;
  /** Multicast loopback (default true). */
  readonly loopback: boolean;
  /** The DSCP as given (number or name), if set. */
  readonly dscp?: number | string;

  /**
   * Creates a config for `group` and destination `port`, with TTL 1 and loopback on.
   *
   * @param group The multicast group, IPv4 or IPv6.
   * @param port The destination UDP port, 1 to 65535.
   */
  constructor(group: string, port: number);
  /**
   * Internal form: a config from all of its fields.
   *
   * @param fields Every field.
   */
  constructor(fields: PublicationConfigFields);
  constructor(groupOrFields: string | PublicationConfigFields, port?: number) {
    const fields: PublicationConfigFields = typeof groupOrFields === "object"
      ? groupOrFields
      : { group: groupOrFields, port: port as number, ttl: DEFAULT_TTL, loopback: true };
    this.group = fields.group;
    this.port = fields.port;
    if (fields.sourceAddr !== undefined) this.sourceAddr = fields.sourceAddr;
    if (fields.sourcePort !== undefined) this.sourcePort = fields.sourcePort;
    if (fields.outgoingInterface !== undefined) {
      this.outgoingInterface = Object.freeze({ ...fields.outgoingInterface });
    }
    this.ttl = fields.ttl;
    this.loopback = fields.loopback;
    if (fields.dscp !== undefined) this.dscp = fields.dscp;
    Object.freeze(this);
  }

  /**
   * A copy with the exact local source address to bind (IPv6 link-local may carry `%zone`).
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * const base = new PublicationConfig("ff3e::8000:1", 5000);
   * const config = base.withSourceAddr("fd00::10");
   * config.sourceAddr; // "fd00::10"
   * base.sourceAddr; // undefined
   * ```
   *
   * @param sourceAddr The local address.
   * @returns The new config.
   */
  withSourceAddr(sourceAddr: string): PublicationConfig {
    return this.#with({ sourceAddr });
  }

  /**
   * A copy that binds `ip` and `port` (source address and source port at once). A `%zone` on an
   * IPv6 address also selects that interface, as mctx-core keeps a bind address's scope id.
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * const config = new PublicationConfig("ff32::8000:1", 5000).withBindAddr("fe80::1%7", 5001);
   * config.sourcePort; // 5001
   * config.outgoingInterface; // { kind: "index", index: 7 }
   * ```
   *
   * @param ip The local address.
   * @param port The local UDP port.
   * @returns The new config.
   */
  withBindAddr(ip: string, port: number): PublicationConfig {
    const percent = typeof ip === "string" ? ip.indexOf("%") : -1;
    const zone = percent === -1 ? "" : ip.slice(percent + 1);
    if (/^[1-9][0-9]*$/.test(zone)) {
      return this.#with({
        sourceAddr: ip,
        sourcePort: port,
        outgoingInterface: { kind: "index", index: Number(zone) },
      });
    }
    return this.#with({ sourceAddr: ip, sourcePort: port });
  }

  /**
   * A copy with the local UDP source port to bind.
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * new PublicationConfig("239.1.2.3", 5000).withSourcePort(5500).sourcePort; // 5500
   * ```
   *
   * @param sourcePort The port, 1 to 65535.
   * @returns The new config.
   */
  withSourcePort(sourcePort: number): PublicationConfig {
    return this.#with({ sourcePort });
  }

  /**
   * A copy whose multicast leaves through the interface owning local address `address`
   * (IP_MULTICAST_IF for IPv4; for IPv6 the address's interface index, and the address is also
   * bound as the source when no source address is set). Replaces an interface index.
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * new PublicationConfig("239.1.2.3", 5000).withOutgoingInterface("10.0.0.2").outgoingInterface;
   * // { kind: "address", address: "10.0.0.2" }
   * ```
   *
   * @param address A local address of the interface.
   * @returns The new config.
   */
  withOutgoingInterface(address: string): PublicationConfig {
    return this.#with({ outgoingInterface: { kind: "address", address } });
  }

  /**
   * A copy whose IPv6 multicast leaves through interface `index` (IPV6_MULTICAST_IF), without
   * inventing a source address. Replaces an outgoing interface address.
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * new PublicationConfig("ff32::8000:1", 5000).withIpv6InterfaceIndex(3).outgoingInterface;
   * // { kind: "index", index: 3 }
   * ```
   *
   * @param index The interface index, 1 or more.
   * @returns The new config.
   */
  withIpv6InterfaceIndex(index: number): PublicationConfig {
    return this.#with({ outgoingInterface: { kind: "index", index } });
  }

  /**
   * A copy whose IPv4 multicast leaves through interface `index` (IP_MULTICAST_IF with an
   * `ip_mreqn` naming the index), for an interface that has no IPv4 address of its own to name
   * it by. Replaces an outgoing interface address. Not in mctx-core.
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * new PublicationConfig("239.1.2.3", 5000).withIpv4InterfaceIndex(3).outgoingInterface;
   * // { kind: "ipv4-index", index: 3 }
   * ```
   *
   * @param index The interface index, 1 or more.
   * @returns The new config.
   */
  withIpv4InterfaceIndex(index: number): PublicationConfig {
    return this.#with({ outgoingInterface: { kind: "ipv4-index", index } });
  }

  /**
   * A copy with the IPv4 multicast TTL / IPv6 multicast hop limit.
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * new PublicationConfig("239.1.2.3", 5000).withTtl(16).ttl; // 16
   * ```
   *
   * @param ttl 1 to 255.
   * @returns The new config.
   */
  withTtl(ttl: number): PublicationConfig {
    return this.#with({ ttl });
  }

  /**
   * A copy with multicast loopback on or off (IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP).
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * new PublicationConfig("239.1.2.3", 5000).withLoopback(false).loopback; // false
   * ```
   *
   * @param loopback Whether local receivers get the traffic.
   * @returns The new config.
   */
  withLoopback(loopback: boolean): PublicationConfig {
    return this.#with({ loopback });
  }

  /**
   * A copy with a DSCP, as a number (0 to 63) or a name (`ef`, `af41`, `cs5`, `be` …), set with
   * IP_TOS / IPV6_TCLASS (ECN bits zero). Not in mctx-core.
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * new PublicationConfig("239.1.2.3", 5000).withDscp("af41").dscpValue; // 34
   * ```
   *
   * @param dscp The DSCP.
   * @returns The new config.
   */
  withDscp(dscp: number | string): PublicationConfig {
    return this.#with({ dscp });
  }

  /**
   * The address family of the group.
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * new PublicationConfig("ff3e::1", 5000).family; // "IPv6"
   * ```
   *
   * @returns `"IPv4"` or `"IPv6"`.
   * @throws {InvalidValueError} When the group is not an address.
   */
  get family(): AddressFamily {
    return parseAddress(this.group, { what: "group" }).family;
  }

  /**
   * The DSCP value (0 to 63), or undefined when none is set.
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * new PublicationConfig("239.1.2.3", 5000).withDscp("ef").dscpValue; // 46
   * ```
   *
   * @returns The value.
   * @throws {InvalidValueError} When the DSCP is not valid.
   */
  get dscpValue(): number | undefined {
    return this.dscp === undefined ? undefined : parseDscp(this.dscp);
  }

  /**
   * Checks every field and throws the first problem, naming the value: the group must be a
   * multicast address without a zone; ports 1 to 65535; TTL 1 to 255; the source address and the
   * outgoing interface address must be unicast, specified and of the group's family; an interface
   * index needs an IPv6 group and is 1 or more; the DSCP must parse; a link- or interface-local
   * IPv6 group (`ff02::`, `ff32::`, `ff31::` …) needs a source, an interface address or an index
   * to give its destination a scope id.
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * import { InvalidValueError } from "./errors.ts";
   * try {
   *   new PublicationConfig("10.0.0.1", 5000).validate();
   * } catch (error) {
   *   error instanceof InvalidValueError; // true
   * }
   * ```
   *
   * @throws {InvalidValueError} When a value is out of range or malformed.
   * @throws {MismatchError} When a value's address family does not match the group's.
   */
  validate(): void {
    const group = parseAddress(this.group, { what: "group" });
    if (group.zone !== undefined) {
      throw new InvalidValueError(
        "group",
        this.group,
        "a multicast group without a %zone (select the interface with withIpv6InterfaceIndex)",
      );
    }
    if (!isMulticast(group.bytes)) {
      throw new InvalidValueError(
        "group",
        this.group,
        "a multicast address (224.0.0.0/4 or ff00::/8)",
      );
    }
    checkPort("port", this.port);
    if (this.sourcePort !== undefined) checkPort("source port", this.sourcePort);
    if (!Number.isInteger(this.ttl) || this.ttl < 1 || this.ttl > 255) {
      throw new InvalidValueError("ttl", this.ttl, TTL_EXPECTED);
    }
    if (typeof this.loopback !== "boolean") {
      throw new InvalidValueError("loopback", this.loopback, "true or false");
    }
    if (this.sourceAddr !== undefined) {
      checkLocalAddress("source", this.sourceAddr, group.family);
    }
    const outgoing = this.outgoingInterface;
    if (outgoing?.kind === "address") {
      checkLocalAddress("outgoing interface", outgoing.address, group.family);
    } else if (outgoing?.kind === "index" || outgoing?.kind === "ipv4-index") {
      const wanted = outgoing.kind === "index" ? "IPv6" : "IPv4";
      if (group.family !== wanted) {
        throw new MismatchError(
          `address family of outgoing interface index ${outgoing.index}`,
          group.family,
          wanted,
        );
      }
      if (!Number.isInteger(outgoing.index) || outgoing.index < 1 || outgoing.index > 0xffffffff) {
        throw new InvalidValueError(
          `${wanted} interface index`,
          outgoing.index,
          "an integer from 1 to 4294967295",
        );
      }
    }
    if (this.dscp !== undefined) parseDscp(this.dscp);
    if (scopeIdKept(group.bytes) && this.sourceAddr === undefined && outgoing === undefined) {
      throw new InvalidValueError(
        "outgoing interface",
        null,
        `a source address, interface address or interface index for the ${
          scopeName(group.bytes)
        } group ${this.group}`,
      );
    }
  }

  /**
   * Whether two configs are equal field by field (the group and addresses compared in canonical
   * form). A `Context` refuses a second publication with an equal config.
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * const a = new PublicationConfig("FF3E::1", 5000);
   * a.equals(new PublicationConfig("ff3e:0::1", 5000)); // true
   * a.equals(a.withTtl(2)); // false
   * ```
   *
   * @param other The other config.
   * @returns True when equal.
   */
  equals(other: PublicationConfig): boolean {
    const a = this.toJSON();
    const b = other.toJSON();
    return canonical(a.group) === canonical(b.group) && a.port === b.port &&
      canonical(a.sourceAddr) === canonical(b.sourceAddr) && a.sourcePort === b.sourcePort &&
      a.outgoingInterface?.kind === b.outgoingInterface?.kind &&
      (a.outgoingInterface?.kind === "address" && b.outgoingInterface?.kind === "address"
        ? canonical(a.outgoingInterface.address) === canonical(b.outgoingInterface.address)
        : a.outgoingInterface !== undefined && b.outgoingInterface !== undefined &&
            a.outgoingInterface.kind !== "address" && b.outgoingInterface.kind !== "address"
        ? a.outgoingInterface.index === b.outgoingInterface.index
        : true) &&
      a.ttl === b.ttl && a.loopback === b.loopback &&
      safeDscp(a.dscp) === safeDscp(b.dscp);
  }

  /**
   * The fields as a plain object (for logs and JSON).
   *
   * @example
   * ```ts
   * import { PublicationConfig } from "./publication_config.ts";
   * new PublicationConfig("239.1.2.3", 5000).toJSON();
   * // { group: "239.1.2.3", port: 5000, ttl: 1, loopback: true }
   * ```
   *
   * @returns The fields.
   */
  toJSON(): PublicationConfigFields {
    const fields: {
      -readonly [K in keyof PublicationConfigFields]: PublicationConfigFields[K];
    } = { group: this.group, port: this.port, ttl: this.ttl, loopback: this.loopback };
    if (this.sourceAddr !== undefined) fields.sourceAddr = this.sourceAddr;
    if (this.sourcePort !== undefined) fields.sourcePort = this.sourcePort;
    if (this.outgoingInterface !== undefined) fields.outgoingInterface = this.outgoingInterface;
    if (this.dscp !== undefined) fields.dscp = this.dscp;
    return fields;
  }

  #with(change: Partial<PublicationConfigFields>): PublicationConfig {
    return new PublicationConfig({ ...this.toJSON(), ...change });
  }
}

/**
 * The `sin6_scope_id` a publication gives its destination: the egress interface index for
 * interface-local and link-local IPv6 groups (`ff01`, `ff02`, `ff11`, `ff12`, `ff31`, `ff32` …),
 * and 0 for wider scopes (`ff35`, `ff38`, `ff3e` …) and for IPv4 — the mctx-core rule, so that
 * the outgoing interface option alone picks the interface for wider scopes.
 *
 * @example
 * ```ts
 * import { destinationScopeId } from "./publication_config.ts";
 * destinationScopeId("ff32::8000:1234", 7); // 7
 * destinationScopeId("ff3e::8000:1234", 7); // 0
 * destinationScopeId("239.1.2.3", 7); // 0
 * ```
 *
 * @param group The destination group.
 * @param interfaceIndex The egress interface index (0 when none was chosen).
 * @returns The scope id.
 * @throws {InvalidValueError} When the group is not an address.
 */
export function destinationScopeId(group: string, interfaceIndex: number): number {
  return scopeIdKept(stripZone(group)) ? interfaceIndex : 0;
}

function scopeName(bytes: Uint8Array): string {
  return ipv6MulticastScope(bytes) === 1 ? "interface-local" : "link-local";
}

function checkPort(what: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidValueError(what, port, PORT_EXPECTED);
  }
}

function checkLocalAddress(what: string, address: string, family: AddressFamily): void {
  const parsed = parseAddress(address, { what });
  if (parsed.family !== family) {
    throw new MismatchError(
      `address family of ${what} ${JSON.stringify(address)}`,
      family,
      parsed.family,
    );
  }
  if (parsed.zone !== undefined && what !== "source") {
    throw new InvalidValueError(what, address, "an address without a %zone");
  }
  if (isMulticast(parsed.bytes) || parsed.bytes.every((b) => b === 0)) {
    throw new InvalidValueError(what, address, "a unicast, specified local address");
  }
}

function canonical(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  try {
    return canonicalAddress(address);
  } catch {
    return address;
  }
}

function safeDscp(dscp: number | string | undefined): number | string | undefined {
  if (dscp === undefined) return undefined;
  try {
    return parseDscp(dscp);
  } catch {
    return dscp;
  }
}
