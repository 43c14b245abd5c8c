/**
 * The IGMP or MLD version in force on a receiver's join interface, as the kernel computes it
 * (`version_in_force.ts`: `conf/all`, the interface's setting, and for IGMP the queriers heard,
 * which `/proc/net/igmp`'s "Querier" column shows), and a label saying why. Read again on
 * {@linkcode OperationalMembershipVersion.prototype.refresh}, so a run follows a querier that
 * makes the kernel fall back.
 *
 * @module
 */

import { readKernelFile } from "../ffi/procfs.ts";
import {
  type ForcedMembershipVersion,
  type MembershipProtocol,
  readForcedVersion,
} from "./igmp_version.ts";
import { parseIgmp, parseIgmp6 } from "./proc_igmp.ts";
import { type VersionInForce, versionInForce } from "./version_in_force.ts";

/** Statuses whose value this run keeps in force until it releases it. */
const RELEASED_WHEN_DONE: ReadonlySet<string> = new Set(["forced", "shared", "held"]);

/** What the label needs of a forced version (`ForcedMembershipVersion` fits). */
export type ForceView =
  & Pick<ForcedMembershipVersion, "status" | "pending">
  & Partial<Pick<ForcedMembershipVersion, "heldWith">>;

/** The join whose interface is watched; a `Subscription` fits. */
export interface MembershipJoin {
  /** The group joined, as text. */
  readonly group: string;
  /** The join interface's name, or null when the kernel chose it. */
  readonly interfaceName: string | null;
  /** The join interface's index, or 0 when the kernel chose it. */
  readonly interfaceIndex: number;
}

/** Options for {@linkcode OperationalMembershipVersion}. */
export interface OperationalMembershipVersionOptions {
  /** IGMP (IPv4) or MLD (IPv6). */
  protocol: MembershipProtocol;
  /** The version the run asked for (to tell when the kernel's differs). */
  requested: number;
  /**
   * The forced version of the run, if one was applied: once it has been restored, the sysctl no
   * longer tells what the run used, so the last reading is kept.
   *
   * @default {null}
   */
  forced?: ForceView | null;
  /** Where procfs is mounted; tests point it at a temporary directory. @default {"/proc"} */
  procRoot?: string;
}

/**
 * The join interface and the IGMP/MLD version in operation on it. A join without an interface
 * learns its interface from the kernel's tables (the interface that lists the group).
 *
 * @example Against a stand-in procfs
 * ```ts
 * import { OperationalMembershipVersion } from "./membership_version.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/net`);
 * Deno.writeTextFileSync(
 *   `${dir}/net/igmp`,
 *   "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n" +
 *     "2\teth0      :     1      V2\n" +
 *     "\t\t\t\t030201EF     1 0:00000000\t\t0\n",
 * );
 * const join = { group: "239.1.2.3", interfaceName: null, interfaceIndex: 0 };
 * const info = new OperationalMembershipVersion(join, {
 *   protocol: "igmp",
 *   requested: 3,
 *   procRoot: dir,
 * });
 * info.interfaceName; // "eth0" (the interface that lists the group)
 * info.version; // 2
 * info.label; // "IGMPv2 (an IGMPv2 querier is heard)"
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class OperationalMembershipVersion {
  readonly #join: MembershipJoin;
  readonly #protocol: MembershipProtocol;
  readonly #requested: number;
  readonly #forced: ForceView | null;
  readonly #root: string;
  #interfaceName: string | null;
  #version: number | null = null;
  #inForce: VersionInForce | null = null;

  /**
   * Constructs a new instance and reads the version once.
   *
   * @param join The group and the join interface.
   * @param options Protocol, requested and forced version, procfs root.
   */
  constructor(join: MembershipJoin, options: OperationalMembershipVersionOptions) {
    this.#join = join;
    this.#protocol = options.protocol;
    this.#requested = options.requested;
    this.#forced = options.forced ?? null;
    this.#root = (options.procRoot ?? "/proc").replace(/\/+$/, "");
    this.#interfaceName = join.interfaceName;
    this.refresh();
  }

  /**
   * The join interface: the one joined on, or the one the kernel lists the group on.
   *
   * @example
   * ```ts
   * import { OperationalMembershipVersion } from "./membership_version.ts";
   * const join = { group: "ff3e::1", interfaceName: "eth1", interfaceIndex: 3 };
   * new OperationalMembershipVersion(join, {
   *   protocol: "mld",
   *   requested: 2,
   *   procRoot: "/nonexistent",
   * }).interfaceName; // "eth1"
   * ```
   *
   * @returns The name, or null when not known (yet).
   */
  get interfaceName(): string | null {
    return this.#interfaceName;
  }

  /**
   * The operational version.
   *
   * @example
   * ```ts
   * import { OperationalMembershipVersion } from "./membership_version.ts";
   * const join = { group: "239.1.2.3", interfaceName: "eth0", interfaceIndex: 2 };
   * new OperationalMembershipVersion(join, {
   *   protocol: "igmp",
   *   requested: 3,
   *   procRoot: "/nonexistent",
   * }).version; // null (nothing to read)
   * ```
   *
   * @returns 1, 2 or 3 (IGMP), 1 or 2 (MLD), or null when it could not be read.
   */
  get version(): number | null {
    return this.#version;
  }

  /**
   * One line saying what is in force: `IGMPv3`, `IGMPv2 (forced, restored on exit)`,
   * `IGMPv2 (kernel's; v3 not forced)`, `MLD version unknown`.
   *
   * @example
   * ```ts
   * import { OperationalMembershipVersion } from "./membership_version.ts";
   * const join = { group: "239.1.2.3", interfaceName: "eth0", interfaceIndex: 2 };
   * new OperationalMembershipVersion(join, {
   *   protocol: "igmp",
   *   requested: 3,
   *   procRoot: "/nonexistent",
   * }).label; // "IGMP version unknown"
   * ```
   *
   * @returns The label.
   */
  get label(): string {
    const name = this.#protocol === "igmp" ? "IGMP" : "MLD";
    const now = this.#version === null ? `${name} version unknown` : `${name}v${this.#version}`;
    const inForce = this.#inForce;
    const forced = this.#forced;
    const restored = forced?.pending ? "restored on exit" : "restored";
    if (inForce !== null && inForce.reason === "forced-all") {
      const key = this.#protocol === "igmp" ? "ipv4" : "ipv6";
      const sysctl = this.#protocol === "igmp" ? "force_igmp_version" : "force_mld_version";
      return `${now} (host-wide: net.${key}.conf.all.${sysctl}=${inForce.all})`;
    }
    if (inForce !== null && inForce.reason === "querier") {
      return `${now} (an ${name}v${inForce.querier} querier is heard)`;
    }
    const others = (forced?.heldWith ?? []).join(", ");
    switch (forced?.status) {
      case "forced":
        return `${now} (forced, ${restored})`;
      case "shared":
        return `${now} (forced, with pid ${others}; ${restored} after the last)`;
      case "held":
        return `${now} (kept forced by pid ${others}; v${this.#requested} not forced)`;
      case "unchanged":
        return now;
      case undefined:
        return this.#version === this.#requested || this.#version === null
          ? now
          : `${now} (kernel's; v${this.#requested} not forced)`;
      default:
        return this.#version === this.#requested
          ? now
          : `${now} (kernel's; v${this.#requested} not forced)`;
    }
  }

  /**
   * The version in force with its reason, as last read (null before the interface is known).
   *
   * @example
   * ```ts
   * import { OperationalMembershipVersion } from "./membership_version.ts";
   * const join = { group: "239.1.2.3", interfaceName: null, interfaceIndex: 0 };
   * new OperationalMembershipVersion(join, {
   *   protocol: "igmp",
   *   requested: 3,
   *   procRoot: "/nonexistent",
   * }).inForce; // null
   * ```
   *
   * @returns The reading, or null.
   */
  get inForce(): VersionInForce | null {
    return this.#inForce;
  }

  /**
   * Reads the version (and, for a join without an interface, the interface) again. Never
   * throws: an unreadable `/proc` keeps what was known.
   *
   * @example
   * ```ts
   * import { OperationalMembershipVersion } from "./membership_version.ts";
   * const join = { group: "239.1.2.3", interfaceName: "eth0", interfaceIndex: 2 };
   * const info = new OperationalMembershipVersion(join, {
   *   protocol: "igmp",
   *   requested: 3,
   *   procRoot: "/nonexistent",
   * });
   * info.refresh();
   * ```
   */
  refresh(): void {
    // Once a version this run forced, shared or held was released (a signal does that at once,
    // before the summary), the sysctl no longer tells what this run used: keep the last reading.
    const forced = this.#forced;
    if (forced !== null && RELEASED_WHEN_DONE.has(forced.status) && !forced.pending) return;
    const { group } = this.#join;
    try {
      if (this.#interfaceName === null) {
        // A join the kernel placed: the interface that lists the group.
        this.#interfaceName = this.#protocol === "igmp"
          ? parseIgmp(readKernelFile(`${this.#root}/net/igmp`))
            .find((e) => e.groups.some((g) => g.group === group))?.name ?? null
          : parseIgmp6(readKernelFile(`${this.#root}/net/igmp6`))
            .find((e) => e.group === group)?.name ?? null;
      }
    } catch {
      // Unreadable /proc: keep what was known.
    }
    if (this.#interfaceName === null) return;
    if (this.#protocol === "igmp") {
      // An unreadable /proc/net/igmp (the querier state) keeps what was known.
      try {
        readKernelFile(`${this.#root}/net/igmp`);
      } catch {
        return;
      }
    }
    const inForce = readVersionInForce(this.#interfaceName, this.#protocol, {
      procRoot: this.#root,
    });
    this.#inForce = inForce;
    this.#version = inForce.version;
  }
}

/** Options of {@linkcode readVersionInForce}. */
export interface ReadVersionInForceOptions {
  /** Where procfs is mounted; tests point it at a temporary directory. @default {"/proc"} */
  procRoot?: string;
  /**
   * MLD only: the version of a querier a listener on the interface heard lately (Linux does not
   * print it), or null.
   *
   * @default {null}
   */
  mldQuerier?: number | null;
}

/**
 * Reads what decides the version on an interface — `conf/all` and the interface's
 * `force_*_version`, and for IGMP the "Querier" column of `/proc/net/igmp` — and computes it
 * with {@linkcode versionInForce}.
 *
 * @example
 * ```ts
 * import { readVersionInForce } from "./membership_version.ts";
 * const dir = Deno.makeTempDirSync();
 * for (const name of ["all", "eth1"]) {
 *   Deno.mkdirSync(`${dir}/sys/net/ipv4/conf/${name}`, { recursive: true });
 * }
 * Deno.writeTextFileSync(`${dir}/sys/net/ipv4/conf/all/force_igmp_version`, "2\n");
 * Deno.writeTextFileSync(`${dir}/sys/net/ipv4/conf/eth1/force_igmp_version`, "0\n");
 * const inForce = readVersionInForce("eth1", "igmp", { procRoot: dir });
 * inForce.version; // 2
 * inForce.reason; // "forced-all"
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param iface The interface name.
 * @param protocol IGMP or MLD.
 * @param options Procfs root and, for MLD, a querier heard.
 * @returns The version in force.
 */
export function readVersionInForce(
  iface: string,
  protocol: MembershipProtocol,
  options: ReadVersionInForceOptions = {},
): VersionInForce {
  const procRoot = (options.procRoot ?? "/proc").replace(/\/+$/, "");
  const all = readForcedVersion("all", { protocol, procRoot });
  const own = readForcedVersion(iface, { protocol, procRoot });
  let observed: number | null = null;
  if (protocol === "igmp") {
    try {
      const entry = parseIgmp(readKernelFile(`${procRoot}/net/igmp`)).find((e) => e.name === iface);
      observed = entry?.version ?? null;
    } catch {
      observed = null; // no IPv4 multicast state here: the sysctls decide
    }
  } else {
    observed = options.mldQuerier ?? null;
  }
  return versionInForce({ protocol, interface: iface, all, iface: own, observed });
}
