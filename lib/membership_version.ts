/**
 * The IGMP or MLD version in operation on a receiver's join interface, as the kernel shows it:
 * `/proc/net/igmp`'s "Querier" column for IGMP (the version the kernel speaks now, forced or
 * fallen back while an older querier is heard), `force_mld_version` for MLD (1 = MLDv1, else
 * MLDv2: Linux prints nothing better). Read again on {@linkcode OperationalMembershipVersion.prototype.refresh},
 * so a run can follow a querier that makes the kernel fall back.
 *
 * @module
 */

import { readKernelFile } from "../ffi/procfs.ts";
import {
  type ForcedMembershipVersion,
  type MembershipProtocol,
  readForcedVersion,
} from "./igmp_version.ts";
import { mldVersionFromForce, parseIgmp, parseIgmp6 } from "./proc_igmp.ts";

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
  forced?: Pick<ForcedMembershipVersion, "status" | "pending"> | null;
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
 * info.label; // "IGMPv2 (kernel's; v3 not forced)"
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class OperationalMembershipVersion {
  readonly #join: MembershipJoin;
  readonly #protocol: MembershipProtocol;
  readonly #requested: number;
  readonly #forced: Pick<ForcedMembershipVersion, "status" | "pending"> | null;
  readonly #root: string;
  #interfaceName: string | null;
  #version: number | null = null;

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
    const forced = this.#forced;
    if (forced === null) {
      return this.#version === this.#requested || this.#version === null
        ? now
        : `${now} (kernel's; v${this.#requested} not forced)`;
    }
    switch (forced.status) {
      case "forced":
        return `${now} (forced, ${forced.pending ? "restored on exit" : "restored"})`;
      case "unchanged":
        return now;
      default:
        return this.#version === this.#requested
          ? now
          : `${now} (kernel's; v${this.#requested} not forced)`;
    }
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
    // Once a forced version was put back (a signal does that at once), the sysctl no longer
    // tells what this run used: keep the last reading.
    const forced = this.#forced;
    if (forced !== null && forced.status === "forced" && !forced.pending) return;
    const { group, interfaceIndex } = this.#join;
    try {
      if (this.#protocol === "igmp") {
        const entries = parseIgmp(readKernelFile(`${this.#root}/net/igmp`));
        const entry = interfaceIndex > 0
          ? entries.find((e) => e.index === interfaceIndex)
          : entries.find((e) => e.groups.some((g) => g.group === group));
        if (entry !== undefined) {
          this.#version = entry.version;
          if (interfaceIndex === 0 && this.#interfaceName === null) {
            this.#interfaceName = entry.name;
          }
        }
      } else {
        if (this.#interfaceName === null) {
          const entry = parseIgmp6(readKernelFile(`${this.#root}/net/igmp6`)).find((e) =>
            e.group === group
          );
          if (entry !== undefined) this.#interfaceName = entry.name;
        }
        if (this.#interfaceName !== null) {
          this.#version = mldVersionFromForce(
            readForcedVersion(this.#interfaceName, { protocol: "mld", procRoot: this.#root }),
          );
        }
      }
    } catch {
      // Unreadable /proc: keep what was known.
    }
  }
}
