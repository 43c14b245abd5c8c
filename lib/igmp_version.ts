/**
 * IGMP / MLD version control through the `force_igmp_version` and `force_mld_version` sysctls,
 * put back the way they were on every exit path.
 *
 * `/proc/sys/net/ipv4/conf/<iface>/force_igmp_version`: 0 = kernel default (IGMPv3, falling back
 * to v1/v2 while an older querier is heard), 1 or 2 = force that version, 3 = IGMPv3 (same
 * behaviour as 0). `/proc/sys/net/ipv6/conf/<iface>/force_mld_version`: 0 = default (MLDv2 with
 * fallback), 1 = MLDv1, 2 = MLDv2.
 *
 * Only IGMPv3 and MLDv2 membership reports carry source lists, so a source-specific join with an
 * older version is refused by {@linkcode validateMembershipVersion} before anything is touched.
 *
 * @module
 */

import type { AddressFamily } from "./address.ts";
import { writeKernelFile } from "../ffi/procfs.ts";
import { InvalidValueError } from "./errors.ts";
import { DEFAULT_FORCE_RECORD_DIR } from "./force_record.ts";
import { networkNamespaceId, processIdentity } from "./host_identity.ts";
import { interfaceIndex } from "./interfaces.ts";
import {
  type AcquiredForce,
  acquireForce,
  type ForceTarget,
  releaseForce,
  SysctlWriteError,
} from "./_shared_force.ts";
import { register, unregister } from "./_restore_on_exit.ts";
import { readSysctl, readSysctlStatus, validInterfaceName } from "./sysctl.ts";

import type { MembershipProtocol } from "./version_in_force.ts";

export type { MembershipProtocol };

/** Options for {@linkcode validateMembershipVersion}. */
export interface ValidateMembershipVersionOptions {
  /** Family of the group: IPv4 uses IGMP (1, 2, 3), IPv6 uses MLD (1, 2). */
  family: AddressFamily;
  /** The source of an SSM (S,G) join, if any. @default {null} */
  source?: string | null;
}

/** Options for {@linkcode forceVersionPath} and {@linkcode readForcedVersion}. */
export interface ForceVersionPathOptions {
  /** IGMP (`force_igmp_version`) or MLD (`force_mld_version`). @default {"igmp"} */
  protocol?: MembershipProtocol;
  /** Where procfs is mounted; tests point it at a temporary directory. @default {"/proc"} */
  procRoot?: string;
}

/** Options for {@linkcode ForcedMembershipVersion.apply}. */
export interface ForceMembershipVersionOptions extends ForceVersionPathOptions {
  /** The version wanted: IGMP 1, 2 or 3; MLD 1 or 2. */
  version: number;
  /**
   * Called (at most once per instance, plus once per failed restore) with a one-line warning when
   * the version cannot be set: no permission, no such sysctl. The run goes on with the kernel's
   * current setting.
   *
   * @default {no warning}
   */
  onWarning?: (message: string) => void;
  /**
   * What to do on SIGINT, SIGTERM or SIGHUP while the version is forced: `"exit"` restores every
   * forced value then exits with 128 + the signal number; `"restore"` only restores and leaves
   * the exit to the caller's own signal listener (a tool that prints a summary on Ctrl-C).
   * The `unload` event always restores.
   *
   * @default {"exit"}
   */
  onSignal?: "exit" | "restore";
  /**
   * Where the shared forcing records live (one per network namespace, protocol and interface),
   * so that receivers forcing the same interface share the value instead of undoing each other's.
   *
   * @default {"/run/mcast/force"; with a stand-in procRoot, its "run-mcast-force" folder}
   */
  recordDir?: string;
  /**
   * Called with each line about other receivers' forcing: dead holders pruned, a value a dead
   * receiver left behind restored, another receiver's value kept.
   *
   * @default {onWarning}
   */
  onNote?: (message: string) => void;
}

/**
 * What {@linkcode ForcedMembershipVersion.apply} did: `"forced"` (the sysctl was written and
 * will be restored after the last receiver holding it), `"shared"` (other receivers already keep
 * it forced to the wanted version: this run holds it with them), `"held"` (other receivers keep
 * another version forced: this run uses theirs and holds it with them, warned), `"unchanged"`
 * (it already gave the wanted version), `"permission-denied"` (not root: warned, left as is),
 * `"unavailable"` (no such sysctl or it refused the value: warned, left as is).
 */
export type ForceStatus =
  | "forced"
  | "shared"
  | "held"
  | "unchanged"
  | "permission-denied"
  | "unavailable";

/**
 * Checks a requested IGMP or MLD version against the family and the join kind. A source-specific
 * join needs IGMPv3 or MLDv2: only their membership reports carry source lists; IGMPv1/v2 and
 * MLDv1 can only express (*,G), so the upstream router would never learn the (S,G).
 *
 * @example
 * ```ts
 * import { validateMembershipVersion } from "./igmp_version.ts";
 * validateMembershipVersion(2, { family: "IPv4" }); // 2
 * let message = "";
 * try {
 *   validateMembershipVersion(2, { family: "IPv4", source: "10.0.0.1" });
 * } catch (error) {
 *   message = (error as Error).message;
 * }
 * // "Invalid IGMP version: 2 (expected 3 for a source-specific (S,G) join on 10.0.0.1: only
 * // IGMPv3 membership reports carry source lists, IGMPv1 and IGMPv2 can only express (*,G))"
 * message.startsWith("Invalid IGMP version: 2"); // true
 * ```
 *
 * @param version The requested version.
 * @param options The group's family and the source, if any.
 * @returns The version.
 * @throws {InvalidValueError} When the version does not exist for the family, or cannot carry a
 * source-specific join.
 */
export function validateMembershipVersion(
  version: number,
  options: ValidateMembershipVersionOptions,
): number {
  const ipv4 = options.family === "IPv4";
  const what = ipv4 ? "IGMP version" : "MLD version";
  const newest = ipv4 ? 3 : 2;
  if (!Number.isInteger(version) || version < 1 || version > newest) {
    throw new InvalidValueError(what, version, ipv4 ? "1, 2 or 3" : "1 or 2");
  }
  const source = options.source ?? null;
  if (source !== null && version !== newest) {
    throw new InvalidValueError(
      what,
      version,
      ipv4
        ? `3 for a source-specific (S,G) join on ${source}: only IGMPv3 membership reports ` +
          "carry source lists, IGMPv1 and IGMPv2 can only express (*,G)"
        : `2 for a source-specific (S,G) join on ${source}: only MLDv2 reports carry source ` +
          "lists, MLDv1 can only express (*,G)",
    );
  }
  return version;
}

/**
 * The sysctl file that forces the version on an interface.
 *
 * @example
 * ```ts
 * import { forceVersionPath } from "./igmp_version.ts";
 * forceVersionPath("eth0"); // "/proc/sys/net/ipv4/conf/eth0/force_igmp_version"
 * forceVersionPath("eth0", { protocol: "mld" }); // "/proc/sys/net/ipv6/conf/eth0/force_mld_version"
 * ```
 *
 * @param iface The interface name (or `all` / `default`).
 * @param options Protocol and procfs root.
 * @returns The path.
 * @throws {InvalidValueError} When the name cannot be an interface name.
 */
export function forceVersionPath(iface: string, options: ForceVersionPathOptions = {}): string {
  if (!validInterfaceName(iface)) {
    throw new InvalidValueError("interface name", iface, "1 to 15 characters without '/', ':'");
  }
  const root = (options.procRoot ?? "/proc").replace(/\/+$/, "");
  return (options.protocol ?? "igmp") === "mld"
    ? `${root}/sys/net/ipv6/conf/${iface}/force_mld_version`
    : `${root}/sys/net/ipv4/conf/${iface}/force_igmp_version`;
}

/**
 * Reads `force_igmp_version` (or `force_mld_version`) of an interface.
 *
 * @example
 * ```ts
 * import { readForcedVersion } from "./igmp_version.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/sys/net/ipv4/conf/lo`, { recursive: true });
 * Deno.writeTextFileSync(`${dir}/sys/net/ipv4/conf/lo/force_igmp_version`, "2\n");
 * readForcedVersion("lo", { procRoot: dir }); // 2
 * readForcedVersion("eth9", { procRoot: dir }); // null
 * Deno.removeSync(dir, { recursive: true });
 * ```
 *
 * @param iface The interface name.
 * @param options Protocol and procfs root.
 * @returns The value, or null when the file is missing, unreadable or not a number.
 * @throws {InvalidValueError} When the name cannot be an interface name.
 */
export function readForcedVersion(
  iface: string,
  options: ForceVersionPathOptions = {},
): number | null {
  return readSysctl(forceVersionPath(iface, options));
}

/**
 * A forced IGMP or MLD version on one interface, put back on `restore()`, on dispose, on
 * SIGINT/SIGTERM/SIGHUP and on `unload`. Without root it warns once and changes nothing.
 *
 * @example Force IGMPv2 for the length of a block (against a stand-in procfs)
 * ```ts
 * import { ForcedMembershipVersion } from "./igmp_version.ts";
 * const dir = Deno.makeTempDirSync();
 * const file = `${dir}/sys/net/ipv4/conf/lo/force_igmp_version`;
 * Deno.mkdirSync(`${dir}/sys/net/ipv4/conf/lo`, { recursive: true });
 * Deno.writeTextFileSync(file, "0\n");
 * {
 *   using forced = ForcedMembershipVersion.apply("lo", { version: 2, procRoot: dir });
 *   forced.status; // "forced"
 *   Deno.readTextFileSync(file); // "2\n"
 * }
 * Deno.readTextFileSync(file); // "0\n"
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class ForcedMembershipVersion implements Disposable, AsyncDisposable {
  /** The interface. */
  readonly iface: string;
  /** IGMP or MLD. */
  readonly protocol: MembershipProtocol;
  /** The version asked for. */
  readonly requested: number;
  /** The sysctl value found before, or null when it could not be read. */
  readonly previous: number | null;
  /** What {@linkcode ForcedMembershipVersion.apply} did. */
  readonly status: ForceStatus;
  /** The sysctl file. */
  readonly path: string;
  /** The warning given, if any. */
  readonly warning: string | null;
  /** The sysctl value in force once applied (the forced one, or the kernel's). */
  readonly value: number | null;
  /** Other receivers (pids) that hold the value forced with this one (`"shared"`, `"held"`). */
  readonly heldWith: readonly number[];

  readonly #onWarning: ((message: string) => void) | undefined;
  readonly #onNote: ((message: string) => void) | undefined;
  readonly #shared: { dir: string; target: ForceTarget } | null;
  #pending: boolean;

  private constructor(
    fields: Base & HandleFields,
    options: ForceMembershipVersionOptions,
  ) {
    this.iface = fields.iface;
    this.protocol = fields.protocol;
    this.requested = fields.requested;
    this.previous = fields.previous;
    this.status = fields.status;
    this.path = fields.path;
    this.warning = fields.warning;
    this.value = fields.value ?? fields.previous;
    this.heldWith = Object.freeze([...(fields.heldWith ?? [])]);
    this.#onWarning = options.onWarning;
    this.#onNote = options.onNote ?? options.onWarning;
    this.#shared = fields.shared ?? null;
    this.#pending = fields.status === "forced" || fields.status === "shared" ||
      fields.status === "held";
    if (this.#pending) register(this, (options.onSignal ?? "exit") === "exit");
  }

  /**
   * Sets the version on an interface when the sysctl does not give it already, remembering the
   * value found so it can be restored. Never throws for lack of permission: it warns through
   * `onWarning` and reports the status.
   *
   * @example
   * ```ts
   * import { ForcedMembershipVersion } from "./igmp_version.ts";
   * const dir = Deno.makeTempDirSync();
   * Deno.mkdirSync(`${dir}/sys/net/ipv6/conf/lo`, { recursive: true });
   * Deno.writeTextFileSync(`${dir}/sys/net/ipv6/conf/lo/force_mld_version`, "0\n");
   * const forced = ForcedMembershipVersion.apply("lo", {
   *   protocol: "mld",
   *   version: 2,
   *   procRoot: dir,
   * });
   * forced.status; // "unchanged" (0 already means MLDv2)
   * forced.restore();
   * Deno.removeSync(dir, { recursive: true });
   * ```
   *
   * @param iface The interface name.
   * @param options The version, protocol, procfs root, warning callback and signal behaviour.
   * @returns The handle; `restore()` it (or `using` it) when done.
   * @throws {InvalidValueError} When the version or the interface name is invalid.
   */
  static apply(iface: string, options: ForceMembershipVersionOptions): ForcedMembershipVersion {
    const protocol = options.protocol ?? "igmp";
    const requested = validateMembershipVersion(options.version, {
      family: protocol === "igmp" ? "IPv4" : "IPv6",
    });
    const path = forceVersionPath(iface, options);
    const label = `${protocol === "igmp" ? "IGMPv" : "MLDv"}${requested}`;
    const sysctl = protocol === "igmp" ? "force_igmp_version" : "force_mld_version";
    const base = { iface, protocol, requested, path };

    const read = readSysctlStatus(path);
    const previous = typeof read === "number" ? read : null;
    if (previous === null) {
      const warning = read === "not-capable"
        ? `Permission needed to force ${label} on ${iface}: Deno may not read ${path} ` +
          "(files under /proc need --allow-all), the kernel's setting stays"
        : read === "denied"
        ? `Permission needed to force ${label} on ${iface}: cannot read ${path}, ` +
          "the kernel's setting stays"
        : `Cannot force ${label} on ${iface}: ${path} is missing or unreadable, ` +
          "the kernel's setting stays";
      options.onWarning?.(warning);
      const status = read === "missing" ? "unavailable" : "permission-denied";
      return new ForcedMembershipVersion({ ...base, previous, status, warning }, options);
    }
    const shared = sharedTarget(iface, protocol, requested, path, options);
    // Said only if the force goes ahead without the record (a user who may not write the record
    // may not write the sysctl either, and hears about that instead).
    let alone: string | null = null;
    if (shared !== null) {
      try {
        const acquired = acquireForce(shared.dir, shared.target);
        for (const note of acquired.notes) (options.onNote ?? options.onWarning)?.(note);
        return new ForcedMembershipVersion(
          { ...base, ...acquiredFields(base, acquired, shared, options, label, sysctl) },
          options,
        );
      } catch (error) {
        if (error instanceof SysctlWriteError) {
          return new ForcedMembershipVersion(
            { ...base, ...refusedFields(base, previous, error.cause, options, label, sysctl) },
            options,
          );
        }
        alone = `Cannot keep the shared record of forced versions in ${shared.dir} ` +
          `(${errorText(error)}): ${label} is forced on ${iface} for this run alone`;
      }
    }
    if (satisfies(protocol, previous, requested)) {
      return new ForcedMembershipVersion(
        { ...base, previous, status: "unchanged", warning: null },
        options,
      );
    }
    try {
      writeKernelFile(path, `${requested}\n`);
    } catch (error) {
      return new ForcedMembershipVersion(
        { ...base, ...refusedFields(base, previous, error, options, label, sysctl) },
        options,
      );
    }
    if (alone !== null) options.onWarning?.(alone);
    return new ForcedMembershipVersion(
      { ...base, previous, status: "forced", warning: alone },
      options,
    );
  }

  /**
   * Whether a forced value is still waiting to be restored.
   *
   * @example
   * ```ts
   * import { ForcedMembershipVersion } from "./igmp_version.ts";
   * const forced = ForcedMembershipVersion.apply("lo", {
   *   version: 3,
   *   procRoot: "/nonexistent",
   * });
   * forced.pending; // false (status "unavailable")
   * ```
   *
   * @returns True until restored.
   */
  get pending(): boolean {
    return this.#pending;
  }

  /**
   * Writes back the value found before, if this instance changed it. Safe to call any number of
   * times; never throws (a failed write is reported through `onWarning`).
   *
   * @example
   * ```ts
   * import { ForcedMembershipVersion } from "./igmp_version.ts";
   * const forced = ForcedMembershipVersion.apply("lo", {
   *   version: 2,
   *   procRoot: "/nonexistent",
   * });
   * forced.restore();
   * forced.restore(); // no-op
   * ```
   */
  restore(): void {
    if (!this.#pending) return;
    this.#pending = false;
    unregister(this);
    const shared = this.#shared;
    try {
      if (shared === null) writeKernelFile(this.path, `${this.previous}\n`);
      else for (const note of releaseForce(shared.dir, shared.target)) this.#onNote?.(note);
    } catch (error) {
      const cause = error instanceof SysctlWriteError ? error.cause : error;
      this.#onWarning?.(
        `Cannot restore ${this.path} to ${this.previous}: ${errorText(cause)}`,
      );
    }
  }

  /**
   * Same as {@linkcode ForcedMembershipVersion.prototype.restore}, for `using`.
   *
   * @example
   * ```ts
   * import { ForcedMembershipVersion } from "./igmp_version.ts";
   * using _forced = ForcedMembershipVersion.apply("lo", {
   *   version: 3,
   *   procRoot: "/nonexistent",
   * });
   * ```
   */
  [Symbol.dispose](): void {
    this.restore();
  }

  /**
   * Same as {@linkcode ForcedMembershipVersion.prototype.restore}, for `await using`.
   *
   * @example
   * ```ts
   * import { ForcedMembershipVersion } from "./igmp_version.ts";
   * await using _forced = ForcedMembershipVersion.apply("lo", {
   *   version: 3,
   *   procRoot: "/nonexistent",
   * });
   * ```
   *
   * @returns A settled promise.
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.restore();
    return Promise.resolve();
  }
}

type Base = { iface: string; protocol: MembershipProtocol; requested: number; path: string };

// The shared record's place and this run's part in it; null where there is no process identity
// (no /proc/self) to hold it by.
function sharedTarget(
  iface: string,
  protocol: MembershipProtocol,
  requested: number,
  path: string,
  options: ForceMembershipVersionOptions,
): { dir: string; target: ForceTarget } | null {
  const self = processIdentity(Deno.pid);
  if (self === null) return null;
  const root = (options.procRoot ?? "/proc").replace(/\/+$/, "");
  const dir = options.recordDir ??
    (root === "/proc" ? DEFAULT_FORCE_RECORD_DIR : `${root}/run-mcast-force`);
  // Never a permission prompt in the middle of a run: without the grant, force alone.
  const granted = (name: "read" | "write") =>
    Deno.permissions.querySync({ name, path: dir }).state === "granted";
  if (!granted("read") || !granted("write")) return null;
  return {
    dir,
    target: {
      key: { netns: networkNamespaceId(), protocol, interface: iface },
      ifindex: interfaceIndex(iface),
      path,
      requested,
      satisfies: (value) => satisfies(protocol, value, requested),
      self: { ...self, handle: crypto.randomUUID().slice(0, 8) },
    },
  };
}

/** What the handle is made of, beside the base. */
interface HandleFields {
  previous: number | null;
  status: ForceStatus;
  warning: string | null;
  value?: number | null;
  heldWith?: readonly number[];
  shared?: { dir: string; target: ForceTarget } | null;
}

function acquiredFields(
  base: Base,
  acquired: AcquiredForce,
  shared: { dir: string; target: ForceTarget },
  options: ForceMembershipVersionOptions,
  label: string,
  sysctl: string,
): HandleFields {
  let warning: string | null = null;
  if (acquired.status === "held") {
    warning = `${label} not forced on ${base.iface}: ${sysctl} is kept at ${acquired.value} by ` +
      `another mcast-receive (pid ${acquired.others.join(", ")}); this run uses it too`;
    options.onWarning?.(warning);
  }
  return {
    previous: acquired.previous,
    status: acquired.status,
    warning,
    value: acquired.value,
    heldWith: acquired.others,
    shared: acquired.status === "unchanged" ? null : shared,
  };
}

function refusedFields(
  base: Base,
  previous: number,
  error: unknown,
  options: ForceMembershipVersionOptions,
  label: string,
  sysctl: string,
): HandleFields {
  const { iface, path } = base;
  const notCapable = error instanceof Deno.errors.NotCapable;
  const denied = notCapable || error instanceof Deno.errors.PermissionDenied;
  const warning = notCapable
    ? `Permission needed to force ${label} on ${iface}: Deno may not write ${path} ` +
      `(run with --allow-ffi), the kernel keeps ${sysctl} ${previous}`
    : denied
    ? `Permission needed to force ${label} on ${iface}: cannot write ${path} (not root?), ` +
      `the kernel keeps ${sysctl} ${previous}`
    : `Cannot force ${label} on ${iface}: writing ${path} failed (${errorText(error)}), ` +
      `the kernel keeps ${sysctl} ${previous}`;
  options.onWarning?.(warning);
  return { previous, status: denied ? "permission-denied" : "unavailable", warning };
}

function satisfies(protocol: MembershipProtocol, current: number, requested: number): boolean {
  const newest = protocol === "igmp" ? 3 : 2;
  return current === requested || (requested === newest && current === 0);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
