/**
 * Private: the lab — a set of namespaces, links, LANs and processes that lives for one test (or
 * one benchmark run) and deletes all of it when disposed.
 *
 * @module
 */

import { IP, IP_TIMEOUT_MS, LabError, type LabProcess, runCommand } from "./_command.ts";
import {
  checkPrefix,
  cleanupStaleLabs,
  deleteNamespace,
  deleteNamespaceSync,
  LAB_PREFIX,
} from "./_cleanup.ts";
import { checkIfName, Lan, type LanOptions, stripPrefixLength, waitLinkUp } from "./_lan.ts";
import { registerLab, unregisterLab } from "./_live_labs.ts";
import { type LabInterface, Namespace, sysctlPath } from "./_namespace.ts";

let labCounter = 0;
const staleCleanups = new Map<string, Promise<string[]>>();

/** Options of {@linkcode Lab.create}. */
export interface LabOptions {
  /**
   * Keep the lab's scratch directory (pcap files, scripts) after disposal, for debugging.
   *
   * @default {false}
   */
  keepFiles?: boolean;
  /**
   * The prefix of the lab's namespace names (`<prefix><pid>-<n>-<label>`): letters and digits,
   * then `-`. Another user of the harness (the benchmark: `mcb-`) takes its own, so that each
   * cleans up only its own leftovers.
   *
   * @default {"mcl-"}
   */
  prefix?: string;
}

/** Options of {@linkcode Lab.addNamespace}. */
export interface NamespaceOptions {
  /**
   * Make it a router: `net.ipv4.ip_forward=1`, `net.ipv6.conf.all.forwarding=1`, reverse-path
   * filtering off. Multicast forwarding additionally needs a daemon such as smcroute.
   *
   * @default {false}
   */
  router?: boolean;
  /** Extra sysctls to set right after creation, for example `{ "net.ipv4.conf.all.rp_filter": 0 }`. */
  sysctls?: Record<string, string | number>;
}

/** A veth pair between two namespaces. */
export interface Link {
  /** The end in the first namespace. */
  a: LabInterface;
  /** The end in the second namespace. */
  b: LabInterface;
}

/** Options of {@linkcode Lab.link}. */
export interface LinkOptions {
  /**
   * IPv4: `true` assigns `10.100.<n>.1/24` and `.2/24`, a pair of CIDRs assigns those, `false`
   * assigns none.
   *
   * @default {true}
   */
  ipv4?: boolean | [string, string];
  /**
   * IPv6: `true` assigns `fd00:100:<n>::1/64` and `::2/64` (with `nodad`), a pair of CIDRs
   * assigns those, `false` none. Link-local addresses exist regardless.
   *
   * @default {true}
   */
  ipv6?: boolean | [string, string];
  /** Interface names in the two namespaces (at most 15 characters); default `vethN`. */
  names?: [string, string];
  /** MTU of both ends. */
  mtu?: number;
  /**
   * Add `224.0.0.0/4 dev <iface>` in each namespace that has no IPv4 multicast route yet, so
   * that IPv4 multicast can be sent and joined without naming an interface.
   *
   * @default {true}
   */
  multicastRoute?: boolean;
}

/**
 * A set of namespaces, links and processes that lives for one test. Dispose it (`await using`)
 * to kill its processes and delete its namespaces; this also happens from a safety net on
 * SIGINT, SIGTERM and `unload` while it is alive.
 *
 * @example
 * ```ts ignore
 * import { Lab } from "./mod.ts";
 * await using lab = await Lab.create();
 * const lan = await lab.addLan("lan", [
 *   await lab.addNamespace("h1"),
 *   await lab.addNamespace("h2"),
 *   await lab.addNamespace("h3"),
 * ]);
 * console.log(lan.members.map((m) => `${m.ns.label} ${m.name} ${m.ipv4} ${m.ipv6}`));
 * ```
 */
export class Lab implements AsyncDisposable {
  /** `<prefix><pid>-<n>` (`mcl-1234-1`): the prefix of all of this lab's namespace names. */
  readonly id: string;
  /** The prefix of the lab's namespace names (`mcl-` unless {@linkcode LabOptions.prefix}). */
  readonly prefix: string;
  /** The namespaces created so far, in creation order. */
  readonly namespaces: Namespace[] = [];
  #processes = new Set<LabProcess>();
  #subnets = 0;
  #scratch: string | undefined;
  #keepFiles: boolean;
  #closing: Promise<void> | undefined;

  private constructor(prefix: string, options: LabOptions) {
    this.prefix = prefix;
    this.id = `${prefix}${Deno.pid}-${++labCounter}`;
    this.#keepFiles = options.keepFiles ?? false;
  }

  /**
   * Create an empty lab (no namespaces yet). Requires root and `ip`. The first call in a
   * process for a prefix also runs {@linkcode cleanupStaleLabs} for that prefix (namespaces of
   * dead processes only).
   *
   * @param options Scratch-file handling, namespace prefix.
   * @returns The lab.
   * @throws {LabError} When the prefix is not letters and digits followed by `-`.
   */
  static async create(options: LabOptions = {}): Promise<Lab> {
    const prefix = checkPrefix(options.prefix ?? LAB_PREFIX);
    // The first lab of a process removes what crashed or interrupted runs left behind (deno
    // test exits on SIGINT without running any JS clean-up).
    let stale = staleCleanups.get(prefix);
    if (stale === undefined) {
      stale = cleanupStaleLabs({ prefix }).catch(() => []);
      staleCleanups.set(prefix, stale);
    }
    await stale;
    const lab = new Lab(prefix, options);
    registerLab(lab);
    return lab;
  }

  /** True once {@linkcode Lab.close} has started. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Create a namespace with `lo` up, IPv6 duplicate address detection off (so addresses are
   * usable immediately) and the given sysctls.
   *
   * @param label Short name, unique in this lab (letters, digits, `-`, `_`).
   * @param options Router mode, sysctls.
   * @returns The namespace.
   */
  async addNamespace(label: string, options: NamespaceOptions = {}): Promise<Namespace> {
    this.#assertOpen();
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(label)) {
      throw new LabError(`Invalid namespace label: ${JSON.stringify(label)}`);
    }
    if (this.namespaces.some((n) => n.label === label)) {
      throw new LabError(`Duplicate namespace label: ${label}`);
    }
    const ns = new Namespace(this, label, `${this.id}-${label}`);
    await runCommand([IP, "netns", "add", ns.name], { check: true, timeoutMs: IP_TIMEOUT_MS });
    this.namespaces.push(ns);
    await ns.ip(["link", "set", "lo", "up"]);
    const sysctls: Record<string, string | number> = {
      "net.ipv6.conf.all.accept_dad": 0,
      "net.ipv6.conf.default.accept_dad": 0,
    };
    if (options.router) {
      Object.assign(sysctls, {
        "net.ipv4.ip_forward": 1,
        "net.ipv6.conf.all.forwarding": 1,
        "net.ipv4.conf.all.rp_filter": 0,
        "net.ipv4.conf.default.rp_filter": 0,
      });
    }
    Object.assign(sysctls, options.sysctls ?? {});
    const script = Object.entries(sysctls)
      .map(([key, value]) => `printf '%s\\n' '${value}' > ${sysctlPath(key)}`)
      .join(" && ");
    await ns.run(["sh", "-c", script], { check: true, timeoutMs: IP_TIMEOUT_MS });
    return ns;
  }

  /**
   * Create a router namespace: {@linkcode Lab.addNamespace} with `router: true`.
   *
   * @param label Short name.
   * @param options Extra sysctls.
   * @returns The namespace.
   */
  addRouter(label: string, options: Omit<NamespaceOptions, "router"> = {}): Promise<Namespace> {
    return this.addNamespace(label, { ...options, router: true });
  }

  /**
   * Join two namespaces with a veth pair, bring both ends up, assign addresses and (by default)
   * an IPv4 multicast route in each namespace that has none.
   *
   * @param a First namespace.
   * @param b Second namespace.
   * @param options Addresses, names, MTU.
   * @returns Both ends with their addresses.
   */
  async link(a: Namespace, b: Namespace, options: LinkOptions = {}): Promise<Link> {
    this.#assertOpen();
    if (a === b) throw new LabError(`Cannot link namespace ${a.label} to itself`);
    const subnet = this.#nextSubnet();
    const nameA = checkIfName(options.names?.[0] ?? a.nextVethName());
    const nameB = checkIfName(options.names?.[1] ?? b.nextVethName());
    await a.ip(["link", "add", nameA, "type", "veth", "peer", "name", nameB, "netns", b.name]);
    const ends: [LabInterface, LabInterface] = [{ ns: a, name: nameA }, { ns: b, name: nameB }];
    a.interfaces.push(ends[0]);
    b.interfaces.push(ends[1]);
    const v4 = options.ipv4 ?? true;
    const v6 = options.ipv6 ?? true;
    const v4Cidrs = v4 === true ? [`10.100.${subnet}.1/24`, `10.100.${subnet}.2/24`] : v4 || [];
    const hex = subnet.toString(16);
    const v6Cidrs = v6 === true ? [`fd00:100:${hex}::1/64`, `fd00:100:${hex}::2/64`] : v6 || [];
    for (const [i, end] of ends.entries()) {
      if (options.mtu) await end.ns.ip(["link", "set", end.name, "mtu", String(options.mtu)]);
      if (v4Cidrs[i]) {
        end.ipv4Cidr = v4Cidrs[i];
        end.ipv4 = stripPrefixLength(v4Cidrs[i]);
        await end.ns.addAddress(end.name, v4Cidrs[i]);
      }
      if (v6Cidrs[i]) {
        end.ipv6Cidr = v6Cidrs[i];
        end.ipv6 = stripPrefixLength(v6Cidrs[i]);
        await end.ns.addAddress(end.name, v6Cidrs[i]);
      }
      await end.ns.ip(["link", "set", end.name, "up"]);
      if ((options.multicastRoute ?? true) && !end.ns.hasMulticastRoute4) {
        await end.ns.setMulticastRoute(end.name, 4);
      }
    }
    await waitLinkUp(a, nameA);
    await waitLinkUp(b, nameB);
    return { a: ends[0], b: ends[1] };
  }

  /**
   * Create a LAN: a namespace `label` holding bridge `br0` (multicast snooping off unless asked)
   * and attach each member to it.
   *
   * @param label Short name of the bridge namespace.
   * @param members Namespaces to attach now (more later with {@linkcode Lan.attach}).
   * @param options Addresses, snooping.
   * @returns The LAN with its member interfaces.
   */
  async addLan(label: string, members: Namespace[], options: LanOptions = {}): Promise<Lan> {
    const ns = await this.addNamespace(label);
    const snooping = options.snooping ? "1" : "0";
    await ns.ip([
      "link",
      "add",
      "br0",
      "type",
      "bridge",
      "mcast_snooping",
      snooping,
      "stp_state",
      "0",
    ]);
    ns.interfaces.push({ ns, name: "br0" });
    await ns.ip(["link", "set", "br0", "up"]);
    const lan = new Lan(ns, this.#nextSubnet(), options);
    for (const member of members) await lan.attach(member);
    return lan;
  }

  /** Internal: the lab's scratch directory (created on first use). */
  async scratchDir(): Promise<string> {
    this.#scratch ??= await Deno.makeTempDir({ prefix: `${this.id}-` });
    return this.#scratch;
  }

  /**
   * Internal: kill this process when the lab is disposed.
   *
   * @param process The process.
   */
  track(process: LabProcess): void {
    this.#assertOpen();
    this.#processes.add(process);
    process.wait().finally(() => this.#processes.delete(process));
  }

  /**
   * Kill the lab's processes (SIGTERM, then SIGKILL), kill anything else still running in its
   * namespaces, and delete the namespaces (which deletes their veths and bridges). Safe to call
   * twice; the second call waits for the first.
   *
   * @throws {LabError} When a namespace could not be deleted.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Same as {@linkcode Lab.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Internal: synchronous last-resort clean-up (signal or unload). */
  closeSync(): void {
    for (const process of this.#processes) process.kill("SIGKILL");
    for (const ns of this.namespaces) deleteNamespaceSync(ns.name);
    unregisterLab(this);
  }

  async #close(): Promise<void> {
    try {
      await Promise.all([...this.#processes].map((p) => p.stop(2_000)));
      const failures: string[] = [];
      for (const ns of [...this.namespaces].reverse()) {
        try {
          await deleteNamespace(ns.name);
        } catch (error) {
          failures.push(`${ns.name}: ${(error as Error).message}`);
        }
      }
      if (this.#scratch && !this.#keepFiles) {
        await Deno.remove(this.#scratch, { recursive: true }).catch(() => {});
      }
      if (failures.length > 0) {
        throw new LabError(`Failed to delete lab namespaces: ${failures.join("; ")}`);
      }
    } finally {
      unregisterLab(this);
    }
  }

  #nextSubnet(): number {
    if (++this.#subnets > 255) throw new LabError("Too many links in one lab: at most 255");
    return this.#subnets;
  }

  #assertOpen(): void {
    if (this.closed) throw new LabError(`Lab ${this.id} is closed`);
  }
}
