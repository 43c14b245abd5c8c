/**
 * The source filter of a multicast join, checked once for the library and the tools: one source
 * (an (S,G) join), a list of sources (one INCLUDE-mode filter) or a list of excluded sources (an
 * EXCLUDE-mode filter). Every source must be a unicast, specified address of the group's family;
 * duplicates are dropped, addresses canonical.
 *
 * @module
 */

import { type AddressFamily, formatAddress, isMulticast, parseAddress } from "./address.ts";
import { InvalidValueError, MismatchError } from "./errors.ts";
import type { FilterMode } from "./proc_igmp.ts";

export type { FilterMode };

/** The source options of a join, as `SubscriptionOptions` takes them. */
export interface SourceFilterOptions {
  /** One source: an (S,G) join. */
  source?: string;
  /** An INCLUDE-mode list. */
  sources?: readonly string[];
  /** An EXCLUDE-mode list. */
  exclude?: readonly string[];
}

/** A checked source filter. */
export interface SourceFilter {
  /** INCLUDE-mode sources, canonical (empty for an any-source or EXCLUDE join). */
  sources: readonly string[];
  /** EXCLUDE-mode sources, canonical. */
  exclude: readonly string[];
}

/**
 * Checks a source address against the group's family: a unicast, specified address, returned in
 * canonical form. The one check of sources, for the library and the tools.
 *
 * @example
 * ```ts
 * import { checkSource } from "./source_filter.ts";
 * checkSource("10.0.0.1", "IPv4"); // "10.0.0.1"
 * checkSource("FD00:0::1", "IPv6"); // "fd00::1"
 * ```
 *
 * @param source The address text.
 * @param family The group's family.
 * @returns The canonical address.
 * @throws {MismatchError} When the family differs.
 * @throws {InvalidValueError} When the address is multicast, unspecified or not an address.
 */
export function checkSource(source: string, family: AddressFamily): string {
  const parsed = parseAddress(source, { what: "source" });
  if (parsed.family !== family) {
    throw new MismatchError("address family of source", family, parsed.family);
  }
  const unspecified = parsed.bytes.every((b) => b === 0);
  if (isMulticast(parsed.bytes) || unspecified) {
    throw new InvalidValueError("source", source, `a unicast ${family} address`);
  }
  return formatAddress(parsed.bytes);
}

/**
 * Checks the source options of a join: at most one of `source`, `sources`, `exclude`, each
 * address checked with {@linkcode checkSource}.
 *
 * @example
 * ```ts
 * import { sourceFilter } from "./source_filter.ts";
 * sourceFilter({ sources: ["10.0.0.1", "10.0.0.2", "10.0.0.1"] }, "IPv4").sources;
 * // ["10.0.0.1", "10.0.0.2"]
 * sourceFilter({ exclude: ["fd00::2"] }, "IPv6").exclude; // ["fd00::2"]
 * ```
 *
 * @param options The source options.
 * @param family The group's family.
 * @returns The INCLUDE and EXCLUDE lists (one of them empty).
 * @throws {InvalidValueError} When two options are combined or a source is not acceptable.
 */
export function sourceFilter(options: SourceFilterOptions, family: AddressFamily): SourceFilter {
  const given = [
    options.source !== undefined ? "source" : null,
    options.sources !== undefined && options.sources.length > 0 ? "sources" : null,
    options.exclude !== undefined && options.exclude.length > 0 ? "exclude" : null,
  ].filter((name) => name !== null);
  if (given.length > 1) {
    throw new InvalidValueError(
      "source filter",
      given.join(" and "),
      "one of source, sources (INCLUDE) or exclude (EXCLUDE)",
    );
  }
  const list = (values: readonly string[]) =>
    Object.freeze([...new Set(values.map((value) => checkSource(value, family)))]);
  const sources = options.source !== undefined ? [options.source] : options.sources ?? [];
  return { sources: list(sources), exclude: list(options.exclude ?? []) };
}
