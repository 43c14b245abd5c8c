/**
 * What a diagnosis is about: one group (or channel) received on one port, with its source
 * filter and, when the user named one, the receiving interface — checked once, before anything
 * is read from the host.
 *
 * @module
 */

import { type AddressFamily, formatAddress, isMulticast, parseAddress } from "../address.ts";
import { InvalidValueError } from "../errors.ts";
import { interfaceForGroup, listInterfaces, type NetworkInterface } from "../interfaces.ts";
import { DEFAULT_PORT } from "../mcas.ts";
import { sourceFilter } from "../source_filter.ts";

/** What to check, as a user gives it. */
export interface ReceptionRequest {
  /** The group (an IPv6 group may carry a `%zone`). */
  group: string;
  /** INCLUDE-mode sources (an SSM join); empty or absent for any source. */
  sources?: readonly string[];
  /** EXCLUDE-mode sources; not with `sources`. */
  exclude?: readonly string[];
  /** The receiving interface: name, index or local address; absent = the routing default. */
  interface?: string | number;
  /**
   * The UDP port.
   *
   * @default {19779}
   */
  port?: number;
}

/** A checked request. */
export interface Reception {
  /** The group, canonical text without zone. */
  readonly group: string;
  /** Its family. */
  readonly family: AddressFamily;
  /** Its bytes. */
  readonly groupBytes: Uint8Array;
  /** INCLUDE-mode sources, canonical. */
  readonly sources: readonly string[];
  /** EXCLUDE-mode sources, canonical. */
  readonly exclude: readonly string[];
  /** The UDP port. */
  readonly port: number;
  /** The interface the user named (or the group's zone), or null for the routing default. */
  readonly interface: NetworkInterface | null;
}

/**
 * Checks a request: a multicast group, sources of its family (one filter mode), a port, an
 * interface that exists.
 *
 * @example
 * ```ts
 * import { resolveReception } from "./reception.ts";
 * const r = resolveReception({ group: "232.1.1.1", sources: ["10.0.0.1"], port: 5000 });
 * r.family; // "IPv4"
 * r.interface; // null (the routing default)
 * ```
 *
 * @param request The request.
 * @returns The checked request.
 * @throws {InvalidValueError} When a value is not acceptable (the message names it).
 * @throws {InterfaceNotFoundError} When the interface does not exist.
 */
export function resolveReception(request: ReceptionRequest): Reception {
  const parsed = parseAddress(request.group, { what: "group" });
  if (!isMulticast(parsed.bytes)) {
    throw new InvalidValueError("group", request.group, "an IPv4 or IPv6 multicast address");
  }
  const port = request.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidValueError("port", port, "an integer from 1 to 65535");
  }
  const filter = sourceFilter(
    { sources: request.sources ?? [], exclude: request.exclude ?? [] },
    parsed.family,
  );
  const chosen = interfaceForGroup(parsed, request.interface);
  const iface = chosen.name === null
    ? null
    : listInterfaces().find((i) => i.index === chosen.index) ?? null;
  return {
    group: formatAddress(parsed.bytes),
    family: parsed.family,
    groupBytes: parsed.bytes,
    sources: filter.sources,
    exclude: filter.exclude,
    port,
    interface: iface,
  };
}

/**
 * The join as text: `239.1.1.1`, `(10.0.0.1, 232.1.1.1)`, `(* except 10.0.0.9, 239.1.1.1)`.
 *
 * @example
 * ```ts
 * import { describeJoin } from "./reception.ts";
 * describeJoin({ group: "232.1.1.1", sources: ["10.0.0.1"], exclude: [] });
 * // "(10.0.0.1, 232.1.1.1)"
 * ```
 *
 * @param reception The group and its sources.
 * @returns The text.
 */
export function describeJoin(
  reception: Pick<Reception, "group" | "sources" | "exclude">,
): string {
  if (reception.sources.length > 0) {
    return `(${reception.sources.join(", ")}, ${reception.group})`;
  }
  if (reception.exclude.length > 0) {
    return `(* except ${reception.exclude.join(", ")}, ${reception.group})`;
  }
  return reception.group;
}

/**
 * The `mcast-receive` command line that receives this group (the fix of a missing join).
 *
 * @example
 * ```ts
 * import { receiveCommand } from "./reception.ts";
 * receiveCommand({ group: "232.1.1.1", sources: ["10.0.0.1"], exclude: [], port: 5000 }, "eth1");
 * // "mcast-receive 232.1.1.1 10.0.0.1 --port 5000 -i eth1"
 * ```
 *
 * @param reception The group, sources and port.
 * @param iface The interface to name, or null.
 * @returns The command.
 */
export function receiveCommand(
  reception: Pick<Reception, "group" | "sources" | "exclude" | "port">,
  iface: string | null,
): string {
  const parts = ["mcast-receive", reception.group];
  if (reception.sources.length > 0) parts.push(reception.sources.join(","));
  if (reception.exclude.length > 0) parts.push("--exclude", reception.exclude.join(","));
  if (reception.port !== DEFAULT_PORT) parts.push("--port", String(reception.port));
  if (iface !== null) parts.push("-i", iface);
  return parts.join(" ");
}
