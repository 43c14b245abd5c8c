/**
 * The IGMP / MLD version an interface sends membership reports in, computed as the kernel does
 * (Linux `net/ipv4/igmp.c` IGMP_V1_SEEN / IGMP_V2_SEEN, `net/ipv6/mcast.c` mld_in_v1_mode):
 *
 * - IGMP: v1 when `conf/all/force_igmp_version` or the interface's is 1, or an IGMPv1 querier
 *   was heard lately; else v2 when either is 2 or an IGMPv2 querier was heard lately; else v3.
 *   Forcing 3 on the interface does not override `all` = 2 nor an older querier.
 * - MLD: the force value is `conf/all/force_mld_version` when that is not 0, else the
 *   interface's; 2 means MLDv2 whatever is heard, 1 MLDv1; with 0, an MLDv1 querier heard lately
 *   makes it MLDv1. (Linux prints the MLD querier state nowhere: only a listener on the
 *   interface knows; without one, MLDv2 is reported as `querierKnown: false`.)
 *
 * An older querier stays "heard lately" for the Older Version Querier Present Timeout
 * (robustness × query interval + query response interval, 260 s by default) after its last query.
 * `/proc/net/igmp`'s "Querier" column prints the IGMP result of these rules, querier included.
 *
 * Only IGMPv3 and MLDv2 reports carry source lists: {@linkcode sourceJoinRefusal} says when an
 * SSM (INCLUDE) or EXCLUDE join cannot be expressed on the wire, naming the setting and the
 * command that clears it.
 *
 * @module
 */

/** Which membership protocol: IGMP (IPv4) or MLD (IPv6). */
export type MembershipProtocol = "igmp" | "mld";

/** Why a version is in force. */
export type VersionReason =
  | "default"
  | "forced-all"
  | "forced-interface"
  | "querier";

/** The version in force on one interface, and why. */
export interface VersionInForce {
  /** IGMP or MLD. */
  protocol: MembershipProtocol;
  /** The interface. */
  interface: string;
  /** The version reports go out in now: IGMP 1, 2 or 3; MLD 1 or 2. */
  version: number;
  /** What decides it. */
  reason: VersionReason;
  /** `conf/all/force_*_version`, or null when unreadable. */
  all: number | null;
  /** The interface's `force_*_version`, or null when unreadable. */
  iface: number | null;
  /** The older querier version heard lately (1 or 2 for IGMP, 1 for MLD), or null for none. */
  querier: number | null;
  /**
   * Whether the querier state is known: always for IGMP (`/proc/net/igmp`), for MLD only when a
   * listener on the interface says (Linux does not print it).
   */
  querierKnown: boolean;
}

/** What {@linkcode versionInForce} computes from. */
export interface VersionInputs {
  /** IGMP or MLD. */
  protocol: MembershipProtocol;
  /** The interface name. */
  interface: string;
  /** `conf/all/force_*_version` (null: unreadable, taken as 0). */
  all: number | null;
  /** The interface's `force_*_version` (null: unreadable, taken as 0). */
  iface: number | null;
  /**
   * IGMP: the version `/proc/net/igmp` prints in the interface's "Querier" column (null when the
   * interface is not listed). MLD: the version of a querier a listener heard lately (1 or 2), or
   * null when nobody listened.
   */
  observed?: number | null;
}

/**
 * The version in force, from the sysctls and what was observed (see the module doc).
 *
 * @example
 * ```ts
 * import { versionInForce } from "./version_in_force.ts";
 * versionInForce({ protocol: "igmp", interface: "eth1", all: 2, iface: 3, observed: 2 }).reason;
 * // "forced-all"
 * versionInForce({ protocol: "igmp", interface: "eth1", all: 0, iface: 0, observed: 2 }).reason;
 * // "querier"
 * versionInForce({ protocol: "mld", interface: "eth1", all: 0, iface: 2, observed: 1 }).version;
 * // 2 (forcing MLDv2 on the interface overrides an MLDv1 querier)
 * ```
 *
 * @param inputs The sysctls and the observation.
 * @returns The version and its reason.
 */
export function versionInForce(inputs: VersionInputs): VersionInForce {
  const all = inputs.all ?? 0;
  const iface = inputs.iface ?? 0;
  const observed = inputs.observed ?? null;
  const base = {
    protocol: inputs.protocol,
    interface: inputs.interface,
    all: inputs.all,
    iface: inputs.iface,
  };
  if (inputs.protocol === "igmp") {
    for (const version of [1, 2]) {
      if (all === version) {
        return { ...base, version, reason: "forced-all", querier: null, querierKnown: true };
      }
      if (iface === version) {
        return { ...base, version, reason: "forced-interface", querier: null, querierKnown: true };
      }
      if (observed === version) {
        return { ...base, version, reason: "querier", querier: version, querierKnown: true };
      }
    }
    return { ...base, version: 3, reason: "default", querier: null, querierKnown: true };
  }
  const force = all !== 0 ? all : iface;
  const reason: VersionReason = all !== 0 ? "forced-all" : "forced-interface";
  const querierKnown = observed !== null;
  const querier = observed === 1 ? 1 : null;
  if (force === 2) return { ...base, version: 2, reason, querier, querierKnown };
  if (force === 1) return { ...base, version: 1, reason, querier, querierKnown };
  if (querier === 1) return { ...base, version: 1, reason: "querier", querier, querierKnown };
  return { ...base, version: 2, reason: "default", querier, querierKnown };
}

/** The join a refusal is about. */
export interface SourceJoin {
  /** The group. */
  group: string;
  /** INCLUDE-mode sources (an SSM join), or empty. */
  sources: readonly string[];
  /** EXCLUDE-mode sources, or empty. */
  exclude: readonly string[];
}

/**
 * Why a source-specific (INCLUDE) or EXCLUDE join cannot be expressed with the version in
 * force — IGMPv1/v2 and MLDv1 reports carry no source list, so the router would only learn
 * (*,G) — naming the setting and the command that clears it; null when it can (or when the join
 * has no sources).
 *
 * @example
 * ```ts
 * import { sourceJoinRefusal, versionInForce } from "./version_in_force.ts";
 * const inForce = versionInForce({ protocol: "igmp", interface: "eth1", all: 2, iface: 0 });
 * sourceJoinRefusal({ group: "232.1.1.1", sources: ["10.0.0.1"], exclude: [] }, inForce);
 * // "Cannot join (10.0.0.1, 232.1.1.1) on eth1: net.ipv4.conf.all.force_igmp_version = 2 …"
 * ```
 *
 * @param join The group and its sources.
 * @param inForce The version in force on the join interface.
 * @returns The message, or null.
 */
export function sourceJoinRefusal(join: SourceJoin, inForce: VersionInForce): string | null {
  const igmp = inForce.protocol === "igmp";
  const newest = igmp ? 3 : 2;
  if (join.sources.length === 0 && join.exclude.length === 0) return null;
  if (inForce.version >= newest) return null;
  const name = igmp ? "IGMP" : "MLD";
  const have = `${name}v${inForce.version}`;
  const want = `${name}v${newest}`;
  const filter = join.sources.length > 0
    ? `(${join.sources.join(", ")}, ${join.group})`
    : `(* except ${join.exclude.join(", ")}, ${join.group})`;
  const head = `Cannot join ${filter} on ${inForce.interface}`;
  const why =
    `${have} reports carry no source list, so the router would only learn (*, ${join.group})`;
  const family = igmp ? "ipv4" : "ipv6";
  const key = igmp ? "force_igmp_version" : "force_mld_version";
  const fix = versionFixCommand(inForce);
  switch (inForce.reason) {
    case "forced-all":
      return `${head}: net.${family}.conf.all.${key} = ${inForce.all} forces ${have} on every ` +
        `interface and ${why}; clear it with: ${fix}`;
    case "forced-interface":
      return `${head}: net.${family}.conf.${inForce.interface}.${key} = ${inForce.iface} forces ` +
        `${have} and ${why}; clear it with: ${fix} ` +
        `(or run mcast-receive as root: it forces ${want} for the run)`;
    default:
      return `${head}: an ${have} querier is active on ${inForce.interface} (the kernel answers in ` +
        `${have} until about 260 s after its last query) and ${why}; make the querier speak ` +
        `${want} (a Linux bridge: ${fix})` +
        (igmp ? "" : `, or force ${want} on ${inForce.interface} as root`);
  }
}

/**
 * The command that lifts what holds the version below IGMPv3 / MLDv2: clearing the forcing
 * sysctl, or — for an older querier, which no setting of this host overrides for IGMP — making
 * the querier (a Linux bridge) speak the newest version.
 *
 * @example
 * ```ts
 * import { versionFixCommand, versionInForce } from "./version_in_force.ts";
 * versionFixCommand(versionInForce({ protocol: "igmp", interface: "eth1", all: 2, iface: 0 }));
 * // "sysctl -w net.ipv4.conf.all.force_igmp_version=0"
 * versionFixCommand(
 *   versionInForce({ protocol: "igmp", interface: "eth1", all: 0, iface: 0, observed: 2 }),
 * ); // "ip link set dev BRIDGE type bridge mcast_igmp_version 3"
 * ```
 *
 * @param inForce The version in force.
 * @returns The command.
 */
export function versionFixCommand(inForce: VersionInForce): string {
  const igmp = inForce.protocol === "igmp";
  const family = igmp ? "ipv4" : "ipv6";
  const key = igmp ? "force_igmp_version" : "force_mld_version";
  switch (inForce.reason) {
    case "forced-all":
      return `sysctl -w net.${family}.conf.all.${key}=0`;
    case "forced-interface":
      return `sysctl -w net.${family}.conf.${inForce.interface}.${key}=0`;
    default:
      return `ip link set dev BRIDGE type bridge mcast_${igmp ? "igmp" : "mld"}_version ${
        igmp ? 3 : 2
      }`;
  }
}
