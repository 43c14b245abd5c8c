/**
 * What this host has joined, per interface, in the shape `mcast-status --json` prints: the four
 * membership files read by `proc_igmp.ts`'s parsers, the per-interface and host-wide
 * `force_igmp_version` / `force_mld_version` sysctls, and the version in force. A group's filter
 * mode is not printed by the kernel; {@linkcode buildMulticastState} derives it, and says
 * AMBIGUOUS where the files cannot tell.
 *
 * @module
 */

import { type AddressFamily, isKernelDefaultGroup } from "./address.ts";
import { readKernelFile } from "../ffi/procfs.ts";
import { PermissionError } from "./errors.ts";
import { readForcedVersion } from "./igmp_version.ts";
import {
  type FilterMode,
  type Igmp6Entry,
  type IgmpInterfaceEntry,
  type McfilterEntry,
  parseIgmp,
  parseIgmp6,
  parseMcfilter,
  parseMcfilter6,
} from "./proc_igmp.ts";
import { validInterfaceName } from "./sysctl.ts";
import { versionInForce } from "./version_in_force.ts";

/**
 * A group's filter mode as `mcast-status` reports it: INCLUDE, EXCLUDE, or AMBIGUOUS where
 * several sockets share the group and `/proc` cannot tell the mode (or the excluded sources)
 * that results.
 */
export type GroupMode = FilterMode | "AMBIGUOUS";

/** How many sockets include and exclude one source of a group (`/proc/net/mcfilter`). */
export interface SourceFilterCount {
  /** The source. */
  source: string;
  /** Sockets in INCLUDE mode listing it. */
  include: number;
  /** Sockets in EXCLUDE mode listing it. */
  exclude: number;
}

/** One group of an interface, as `mcast-status --json` prints it. */
export interface GroupState {
  /** The group address. */
  group: string;
  /** Its family. */
  family: AddressFamily;
  /** Sockets joined to it. */
  users: number;
  /**
   * Filter mode: INCLUDE (only `sources`), EXCLUDE (all but `sources`; ASM is EXCLUDE {}), or
   * AMBIGUOUS (the file cannot tell; `sources` lists every source named, `source_filters` the
   * counts).
   */
  mode: GroupMode;
  /** Included or excluded sources, by `mode`. */
  sources: string[];
  /** With AMBIGUOUS only: per source, the sockets including and excluding it. */
  source_filters?: SourceFilterCount[];
}

/** One interface, as `mcast-status --json` prints it. */
export interface InterfaceState {
  /** Interface name. */
  name: string;
  /** Interface index. */
  index: number;
  /** Operational IGMP version (1, 2 or 3), or null when the interface has no IPv4 groups. */
  igmp_version: number | null;
  /** The `force_igmp_version` sysctl (0 = not forced), or null when unreadable. */
  force_igmp_version: number | null;
  /**
   * The IGMP version reports go out in now, from `conf/all`, the interface's setting and the
   * queriers heard (what the kernel computes; `/proc/net/igmp` prints it for interfaces with
   * IPv4 groups), or null when nothing is known.
   */
  effective_igmp_version: number | null;
  /**
   * MLD version: 1 when forced to 1 (by the interface, or by `conf/all`, which takes
   * precedence when not 0), else 2; null without IPv6 on the interface. Linux prints nothing
   * better: an MLDv1 querier heard lately lowers it to 1 unseen.
   */
  mld_version: number | null;
  /** The `force_mld_version` sysctl (0 = not forced), or null when unreadable. */
  force_mld_version: number | null;
  /** The MLD version in force from `conf/all` and the interface's setting (as `mld_version`). */
  effective_mld_version: number | null;
  /** Its groups, IPv4 first, in the kernel's order. */
  groups: GroupState[];
}

/** The host-wide (`conf/all`) force settings. */
export interface AllForceState {
  /** `net.ipv4.conf.all.force_igmp_version`, or null when unreadable. */
  force_igmp_version: number | null;
  /** `net.ipv6.conf.all.force_mld_version`, or null when unreadable. */
  force_mld_version: number | null;
}

/** What `mcast-status --json` prints. */
export interface MulticastState {
  /** The host-wide force settings, which override the interfaces' (see `effective_*`). */
  all: AllForceState;
  /** Interfaces, by index. */
  interfaces: InterfaceState[];
}

/** The texts {@linkcode buildMulticastState} combines; a missing file is an empty string. */
export interface ProcTexts {
  /** `/proc/net/igmp`. */
  igmp: string;
  /** `/proc/net/igmp6`. */
  igmp6: string;
  /** `/proc/net/mcfilter`. */
  mcfilter: string;
  /** `/proc/net/mcfilter6`. */
  mcfilter6: string;
}

/** The sysctl values of one interface; null when unreadable. */
export interface ForcedVersions {
  /** `force_igmp_version`. */
  igmp: number | null;
  /** `force_mld_version`. */
  mld: number | null;
}

/** Options for {@linkcode readMulticastState}. */
export interface ReadMulticastStateOptions {
  /** Where procfs is mounted. @default {"/proc"} */
  procRoot?: string;
}

/**
 * Combines the four files and the sysctls into the `mcast-status --json` shape.
 *
 * The kernel does not print a group's filter mode, so it is derived from the `users` column and
 * the per-source INC/EXC counts, knowing that an INCLUDE-mode socket always lists at least one
 * source (each at most once) and an ASM join is an EXCLUDE-mode socket with no sources. The
 * number of EXCLUDE-mode sockets E then lies between
 * `low = max(1 if any EXC > 0, users − ΣINC, max EXC)` and
 * `high = users − max(max INC, ⌈ΣINC / sources listed⌉)`:
 *
 * - no mcfilter lines: EXCLUDE {} (any-source);
 * - `high` = 0: INCLUDE, listing the sources with INC > 0;
 * - E known (`low` = `high`, or a source with EXC = `high`) and above 0: EXCLUDE, listing the
 *   sources every EXCLUDE-mode socket blocks and none includes (EXC = E, INC = 0);
 * - otherwise AMBIGUOUS: one socket including S1 and S2 beside an ASM socket and two sockets
 *   including S1 and S2 each leave the same lines, and only the kernel knows which it is. The
 *   counts are reported (`source_filters`) instead of a guess.
 *
 * @example
 * ```ts
 * import { buildMulticastState } from "./multicast_state.ts";
 * const state = buildMulticastState(
 *   {
 *     igmp: "1\tlo        :     1      V3\n\t\t\t\t030201E8     1 0:00000000\t\t0\n",
 *     igmp6: "",
 *     mcfilter: "  1     lo 0xe8010203 0x0a010203      1      0\n",
 *     mcfilter6: "",
 *   },
 *   () => ({ igmp: 0, mld: 0 }),
 * );
 * state.interfaces[0].groups[0].mode; // "INCLUDE"
 * state.interfaces[0].groups[0].sources; // ["10.1.2.3"]
 * ```
 *
 * @param texts The file contents ("" for a missing file).
 * @param forced The sysctl values of an interface, by name.
 * @returns The state, interfaces by index.
 */
export function buildMulticastState(
  texts: ProcTexts,
  forced: (name: string) => ForcedVersions,
): MulticastState {
  const igmp = parseIgmp(texts.igmp);
  const igmp6 = parseIgmp6(texts.igmp6);
  const filters = [...parseMcfilter(texts.mcfilter), ...parseMcfilter6(texts.mcfilter6)];

  const byIndex = new Map<
    number,
    { name: string; v4: IgmpInterfaceEntry | null; v6: Igmp6Entry[] }
  >();
  const entry = (index: number, name: string) => {
    let found = byIndex.get(index);
    if (found === undefined) {
      found = { name, v4: null, v6: [] };
      byIndex.set(index, found);
    }
    return found;
  };
  for (const iface of igmp) entry(iface.index, iface.name).v4 = iface;
  for (const line of igmp6) entry(line.index, line.name).v6.push(line);

  const all = forced("all");
  const interfaces: InterfaceState[] = [];
  for (const index of [...byIndex.keys()].sort((a, b) => a - b)) {
    const { name, v4, v6 } = byIndex.get(index)!;
    const sysctl = forced(name);
    const igmpKnown = v4 !== null || sysctl.igmp !== null;
    const mldKnown = v6.length > 0 || sysctl.mld !== null;
    const effectiveIgmp = igmpKnown
      ? versionInForce({
        protocol: "igmp",
        interface: name,
        all: all.igmp,
        iface: sysctl.igmp,
        observed: v4?.version ?? null,
      }).version
      : null;
    const effectiveMld = mldKnown
      ? versionInForce({ protocol: "mld", interface: name, all: all.mld, iface: sysctl.mld })
        .version
      : null;
    const groups: GroupState[] = [];
    for (const group of v4?.groups ?? []) {
      groups.push(groupState(group.group, "IPv4", group.users, index, filters));
    }
    for (const group of v6) {
      groups.push(groupState(group.group, "IPv6", group.users, index, filters));
    }
    interfaces.push({
      name,
      index,
      igmp_version: v4?.version ?? null,
      force_igmp_version: sysctl.igmp,
      effective_igmp_version: effectiveIgmp,
      mld_version: effectiveMld,
      force_mld_version: sysctl.mld,
      effective_mld_version: effectiveMld,
      groups,
    });
  }
  return {
    all: { force_igmp_version: all.igmp, force_mld_version: all.mld },
    interfaces,
  };
}

/**
 * Reads the four `/proc/net` files and each interface's `force_igmp_version` and
 * `force_mld_version`, and combines them with {@linkcode buildMulticastState}. A missing file
 * counts as empty (IPv6 disabled, no mcfilter); a sysctl that cannot be read is null.
 *
 * Deno (1.43 and later) treats everything under `/proc`, `/sys` and `/dev` as special: reading
 * it needs `--allow-all`, `--allow-read` is not enough. That refusal is reported, not hidden.
 *
 * @example
 * ```ts ignore
 * import { readMulticastState } from "./multicast_state.ts";
 * const state = await readMulticastState();
 * console.log(state.interfaces.map((iface) => iface.name));
 * ```
 *
 * @param options Where procfs is.
 * @returns The state.
 * @throws {PermissionError} When the process may not read the files (Deno without
 * `--allow-all`, or the OS refused).
 */
export async function readMulticastState(
  options: ReadMulticastStateOptions = {},
): Promise<MulticastState> {
  const root = (options.procRoot ?? "/proc").replace(/\/+$/, "");
  // One after the other, so that a refusal always names the first file.
  const igmp = await readOrEmpty(`${root}/net/igmp`);
  const igmp6 = await readOrEmpty(`${root}/net/igmp6`);
  const mcfilter = await readOrEmpty(`${root}/net/mcfilter`);
  const mcfilter6 = await readOrEmpty(`${root}/net/mcfilter6`);
  const names = new Set<string>();
  for (const iface of parseIgmp(igmp)) names.add(iface.name);
  for (const line of parseIgmp6(igmp6)) names.add(line.name);
  const forced = new Map<string, ForcedVersions>();
  for (const name of [...names, "all"]) {
    forced.set(name, readForcedVersions(name, { procRoot: root }));
  }
  return buildMulticastState(
    { igmp, igmp6, mcfilter, mcfilter6 },
    (name) => forced.get(name) ?? { igmp: null, mld: null },
  );
}

/**
 * Reads the `force_igmp_version` and `force_mld_version` sysctls of one interface.
 *
 * @example
 * ```ts
 * import { readForcedVersions } from "./multicast_state.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/sys/net/ipv4/conf/eth0`, { recursive: true });
 * Deno.writeTextFileSync(`${dir}/sys/net/ipv4/conf/eth0/force_igmp_version`, "2\n");
 * readForcedVersions("eth0", { procRoot: dir }); // { igmp: 2, mld: null }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param name The interface name.
 * @param options Where procfs is.
 * @returns Both values, each null when it cannot be read (or the name cannot be an interface's).
 */
export function readForcedVersions(
  name: string,
  options: ReadMulticastStateOptions = {},
): ForcedVersions {
  if (!validInterfaceName(name)) return { igmp: null, mld: null };
  const procRoot = options.procRoot;
  return {
    igmp: readForcedVersion(name, { procRoot }),
    mld: readForcedVersion(name, { protocol: "mld", procRoot }),
  };
}

/**
 * The state of an interface the kernel lists no multicast groups for (no IPv4/IPv6 configured
 * yet, or down): its sysctls and the versions they put in force, and no groups.
 *
 * @example
 * ```ts
 * import { emptyInterfaceState } from "./multicast_state.ts";
 * const state = emptyInterfaceState("eth9", 9, { procRoot: "/nonexistent" });
 * state.groups; // []
 * state.effective_igmp_version; // null (nothing readable)
 * ```
 *
 * @param name The interface name.
 * @param index Its index.
 * @param options Where procfs is.
 * @returns The state, in the `mcast-status --json` shape.
 */
export function emptyInterfaceState(
  name: string,
  index: number,
  options: ReadMulticastStateOptions = {},
): InterfaceState {
  const forced = readForcedVersions(name, options);
  const all = readForcedVersions("all", options);
  const igmp = forced.igmp === null
    ? null
    : versionInForce({ protocol: "igmp", interface: name, all: all.igmp, iface: forced.igmp })
      .version;
  const mld = forced.mld === null
    ? null
    : versionInForce({ protocol: "mld", interface: name, all: all.mld, iface: forced.mld })
      .version;
  return {
    name,
    index,
    igmp_version: null,
    force_igmp_version: forced.igmp,
    effective_igmp_version: igmp,
    mld_version: mld,
    force_mld_version: forced.mld,
    effective_mld_version: mld,
    groups: [],
  };
}

/**
 * The groups every host joins by itself, which `mcast-status` hides without `--all`:
 * 224.0.0.1 (all hosts), ff01::1 and ff02::1 (all nodes), ff01::2, ff02::2 and ff05::2 (all
 * routers, joined when forwarding is on) and ff02::1:ff00:0/104 (solicited-node). Groups that
 * daemons join (224.0.0.251 for mDNS …) stay. Interfaces left without groups stay too.
 *
 * @example
 * ```ts
 * import { withoutKernelDefaults } from "./multicast_state.ts";
 * const state = withoutKernelDefaults({
 *   all: { force_igmp_version: 0, force_mld_version: 0 },
 *   interfaces: [{
 *     name: "lo",
 *     index: 1,
 *     igmp_version: 3,
 *     force_igmp_version: 0,
 *     effective_igmp_version: 3,
 *     mld_version: 2,
 *     force_mld_version: 0,
 *     effective_mld_version: 2,
 *     groups: [
 *       { group: "224.0.0.1", family: "IPv4", users: 1, mode: "EXCLUDE", sources: [] },
 *       { group: "239.1.2.3", family: "IPv4", users: 1, mode: "EXCLUDE", sources: [] },
 *     ],
 *   }],
 * });
 * state.interfaces[0].groups.map((g) => g.group); // ["239.1.2.3"]
 * ```
 *
 * @param state The full state.
 * @returns A copy without the kernel's own groups.
 */
export function withoutKernelDefaults(state: MulticastState): MulticastState {
  return {
    all: state.all,
    interfaces: state.interfaces.map((iface) => ({
      ...iface,
      groups: iface.groups.filter((group) => !safeIsKernelDefault(group.group)),
    })),
  };
}

function safeIsKernelDefault(group: string): boolean {
  try {
    return isKernelDefaultGroup(group);
  } catch {
    return false;
  }
}

function groupState(
  group: string,
  family: AddressFamily,
  users: number,
  index: number,
  filters: McfilterEntry[],
): GroupState {
  const lines = filters.filter((f) => f.index === index && f.group === group);
  if (lines.length === 0) return { group, family, users, mode: "EXCLUDE", sources: [] };
  // Every socket is INCLUDE-mode (listing ≥ 1 source) or EXCLUDE-mode; the file gives, per
  // source, how many sockets include it and how many exclude it, and `users` the sockets. The
  // number of EXCLUDE-mode sockets lies in [low, high]; the group is EXCLUDE-mode when it is
  // above 0, and a source is excluded when every EXCLUDE-mode socket excludes it and no socket
  // includes it.
  let sumInclude = 0;
  let maxInclude = 0;
  let maxExclude = 0;
  for (const line of lines) {
    sumInclude += line.include;
    maxInclude = Math.max(maxInclude, line.include);
    maxExclude = Math.max(maxExclude, line.exclude);
  }
  const low = Math.max(maxExclude > 0 ? 1 : 0, users - sumInclude, maxExclude);
  const high = users - Math.max(maxInclude, Math.ceil(sumInclude / lines.length));
  if (high === 0 && low === 0) {
    const sources = lines.filter((line) => line.include > 0).map((line) => line.source);
    return { group, family, users, mode: "INCLUDE", sources: unique(sources) };
  }
  const excluders = low === high ? low : lines.some((line) => line.exclude === high) ? high : null;
  if (excluders !== null && excluders >= 1 && high >= low) {
    const sources = lines
      .filter((line) => line.include === 0 && line.exclude === excluders)
      .map((line) => line.source);
    return { group, family, users, mode: "EXCLUDE", sources: unique(sources) };
  }
  return {
    group,
    family,
    users,
    mode: "AMBIGUOUS",
    sources: unique(lines.map((line) => line.source)),
    source_filters: lines.map((line) => ({
      source: line.source,
      include: line.include,
      exclude: line.exclude,
    })),
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

async function readOrEmpty(path: string): Promise<string> {
  try {
    return await Promise.resolve(readKernelFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new PermissionError(`read ${path} (Deno needs --allow-all for files under /proc)`, {
        cause: error,
      });
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new PermissionError(`read ${path}`, { cause: error });
    }
    return "";
  }
}
