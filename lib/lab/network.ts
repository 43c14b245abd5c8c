/**
 * A lab network: a set of namespaces, veth links, bridged LANs and processes, with one name
 * prefix, that it deletes when closed. Two kinds build on it: the throw-away {@linkcode Lab} of
 * tests and benchmarks (`./lab.ts`), and the named classroom labs of `mcast-lab`, which outlive
 * the process that built them (`../classroom/`).
 *
 * @example
 * ```ts ignore
 * import { LabNetwork } from "./network.ts";
 * const net = new LabNetwork("mlab-demo");
 * const [a, b] = [await net.addNamespace("a"), await net.addNamespace("b")]; // mlab-demo-a, -b
 * await net.link(a, b, { names: ["eth0", "eth0"] });
 * await net.close(); // deletes both namespaces
 * ```
 *
 * @module
 */

import { LabError } from "../errors.ts";
import { type LabProcess, runCommand } from "./command.ts";
import { IP, IP_TIMEOUT_MS } from "./programs.ts";
import { deleteNamespace } from "./cleanup.ts";
import { checkIfName, Lan, type LanOptions, stripPrefixLength, waitLinkUp } from "./lan.ts";
import { type LabInterface, Namespace, type ProcessOwner, sysctlPath } from "./namespace.ts";

/** Options of {@linkcode LabNetwork.addNamespace}. */
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

/** Options of {@linkcode LabNetwork.link}. */
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
 * Namespaces, links, LANs and processes under one name prefix (`<id>-<label>`). Closing it
 * kills its processes and deletes its namespaces (which deletes their veths and bridges).
 *
 * @example
 * ```ts ignore
 * import { LabNetwork } from "./network.ts";
 * const net = new LabNetwork("mlab-lab");
 * const sw = await net.addLan("sw", [], { snooping: true });
 * await sw.attach(await net.addNamespace("r1"), { name: "eth0", ipv4: "10.0.1.11/24" });
 * ```
 */
export class LabNetwork implements ProcessOwner {
  /** The prefix of all of this network's namespace names (`mcl-1234-1`, `mlab-lab`). */
  readonly id: string;
  /** The namespaces created so far, in creation order. */
  readonly namespaces: Namespace[] = [];
  #processes = new Set<LabProcess>();
  #subnets = 0;
  #closing: Promise<void> | undefined;

  /**
   * An empty network (no namespaces yet). Requires root and `ip` once namespaces are added.
   *
   * @param id The prefix of its namespace names: `<id>-<label>`.
   */
  constructor(id: string) {
    this.id = id;
  }

  /** True once {@linkcode LabNetwork.close} has started. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Create a namespace `<id>-<label>` with `lo` up, IPv6 duplicate address detection off (so
   * addresses are usable immediately) and the given sysctls.
   *
   * @param label Short name, unique in this network (letters, digits, `-`, `_`).
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
    const ns = this.newNamespace(label, `${this.id}-${label}`);
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
   * Create a router namespace: {@linkcode LabNetwork.addNamespace} with `router: true`.
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

  /**
   * Internal: kill this process when the network is closed.
   *
   * @param process The process.
   */
  track(process: LabProcess): void {
    this.#assertOpen();
    this.#processes.add(process);
    process.wait().finally(() => this.#processes.delete(process));
  }

  /**
   * Kill the network's processes (SIGTERM, then SIGKILL), kill anything else still running in
   * its namespaces, and delete the namespaces. Safe to call twice; the second call waits for the
   * first.
   *
   * @throws {LabError} When a namespace could not be deleted.
   */
  close(): Promise<void> {
    this.#closing ??= this.closeNow();
    return this.#closing;
  }

  /** The processes started in its namespaces that are still running. */
  protected get processes(): ReadonlySet<LabProcess> {
    return this.#processes;
  }

  /**
   * Make the object for a new namespace; subclasses return a subclass of {@linkcode Namespace}.
   *
   * @param label The short name.
   * @param name The full namespace name.
   * @returns The namespace object (not created in the kernel yet).
   */
  protected newNamespace(label: string, name: string): Namespace {
    return new Namespace(this, label, name);
  }

  /** What {@linkcode LabNetwork.close} does, once; subclasses add their own clean-up. */
  protected async closeNow(): Promise<void> {
    await Promise.all([...this.#processes].map((p) => p.stop(2_000)));
    const failures: string[] = [];
    for (const ns of [...this.namespaces].reverse()) {
      try {
        await deleteNamespace(ns.name);
      } catch (error) {
        failures.push(`${ns.name}: ${(error as Error).message}`);
      }
    }
    if (failures.length > 0) {
      throw new LabError(`Failed to delete lab namespaces: ${failures.join("; ")}`);
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
