/**
 * The network-namespace lab harness: builds throw-away topologies of Linux network namespaces
 * (veth links, bridged LANs, routers), runs commands and Deno scripts inside them, captures
 * packets with tcpdump and decodes them, and deletes everything afterwards — also when the test
 * throws or times out, and on SIGTERM/SIGHUP/unload as a safety net. (`deno test` exits on SIGINT
 * without running JS handlers; what that leaves behind is removed by the next run's first
 * `Lab.create()`, see {@linkcode cleanupStaleLabs}.)
 *
 * All traffic stays inside namespaces the lab creates; the host's own interfaces are never
 * touched (veth pairs are created directly inside their namespaces with `ip -n A link add …
 * peer … netns B`, so nothing ever appears in the root namespace).
 *
 * Namespace names are `mcl-<pid>-<lab>-<label>`; interface names are short (`veth0`, `p1`,
 * `br0`), which only have to be unique inside their own namespace.
 *
 * @example Two hosts on a veth link
 * ```ts ignore
 * import { labTest } from "./mod.ts";
 *
 * labTest("hosts talk", async (lab) => {
 *   const a = await lab.addNamespace("a");
 *   const b = await lab.addNamespace("b");
 *   const link = await lab.link(a, b); // 10.100.1.1/24 + fd00:100:1::1/64 ⇄ .2 / ::2
 *   await a.run(["bash", "-c", `echo hi > /dev/udp/${link.b.ipv4}/9000`], { check: true });
 * }, { requires: ["bash"] });
 * ```
 *
 * @module
 */

import {
  type CommandResult,
  findOnPath,
  formatArgv,
  LabError,
  LabProcess,
  runCommand,
  type RunOptions,
  type SpawnOptions,
} from "./_command.ts";
import { Capture, hasTshark, tcpdumpArgv, tsharkPackets } from "./_capture.ts";
import { type CapturedPacket, formatIpv6, parsePcap, readPcap } from "./_pcap.ts";

export {
  Capture,
  type CapturedPacket,
  type CommandResult,
  findOnPath,
  formatIpv6,
  hasTshark,
  LabError,
  LabProcess,
  parsePcap,
  readPcap,
  type RunOptions,
  type SpawnOptions,
  tsharkPackets,
};

/** The prefix of every namespace a lab creates. {@linkcode cleanupStaleLabs} only touches these. */
export const LAB_PREFIX = "mcl-";

const IP = findOnPath("ip") ?? "ip";
const IP_TIMEOUT_MS = 15_000;
let labCounter = 0;
let staleCleanup: Promise<string[]> | undefined;
const liveLabs = new Set<Lab>();

/** Options of {@linkcode Lab.create}. */
export interface LabOptions {
  /**
   * Keep the lab's scratch directory (pcap files, scripts) after disposal, for debugging.
   *
   * @default {false}
   */
  keepFiles?: boolean;
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

/** One end of a veth link (or a LAN member's port), as seen from its namespace. */
export interface LabInterface {
  /** The namespace this interface lives in. */
  ns: Namespace;
  /** Interface name inside that namespace (`veth0`, `veth1`, …). */
  name: string;
  /** IPv4 address without prefix length, if one was assigned. */
  ipv4?: string;
  /** IPv4 address with prefix length (`10.100.1.1/24`). */
  ipv4Cidr?: string;
  /** IPv6 address without prefix length, if one was assigned. */
  ipv6?: string;
  /** IPv6 address with prefix length (`fd00:100:1::1/64`). */
  ipv6Cidr?: string;
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

/** Options of {@linkcode Lab.addLan}. */
export interface LanOptions {
  /**
   * IPv4: `true` gives member i (0-based) `10.100.<n>.<i+1>/24`; `false` none.
   *
   * @default {true}
   */
  ipv4?: boolean;
  /**
   * IPv6: `true` gives member i `fd00:100:<n>::<i+1>/64` (nodad); `false` none.
   *
   * @default {true}
   */
  ipv6?: boolean;
  /**
   * IGMP/MLD snooping on the bridge. Off by default, so the bridge floods multicast like a hub.
   *
   * @default {false}
   */
  snooping?: boolean;
  /**
   * Add a multicast route on each member's port when the member has none yet (see
   * {@linkcode LinkOptions.multicastRoute}).
   *
   * @default {true}
   */
  multicastRoute?: boolean;
}

/** Options of {@linkcode Namespace.runDeno} and {@linkcode Namespace.spawnDeno}. */
export interface DenoOptions extends RunOptions {
  /** Arguments after the script. */
  args?: string[];
  /**
   * Deno flags before the script.
   *
   * @default {["--allow-all"]}
   */
  flags?: string[];
}

/** Options of {@linkcode Namespace.capture}. */
export interface CaptureOptions {
  /** A pcap filter expression, for example `"udp port 19779"`. */
  filter?: string;
  /**
   * Snapshot length (0 = whole packet).
   *
   * @default {0}
   */
  snaplen?: number;
  /**
   * Put the interface into promiscuous mode.
   *
   * @default {true}
   */
  promiscuous?: boolean;
  /**
   * How long to wait for tcpdump to report "listening on".
   *
   * @default {10000}
   */
  timeoutMs?: number;
}

function checkIfName(name: string): string {
  if (name.length === 0 || name.length > 15 || /[\s/:]/.test(name)) {
    throw new LabError(`Invalid interface name: ${JSON.stringify(name)} (at most 15 characters)`);
  }
  return name;
}

function stripPrefixLength(cidr: string): string {
  return cidr.split("/")[0];
}

/**
 * One network namespace of a lab. Created by {@linkcode Lab.addNamespace}; deleted when the lab
 * is disposed.
 */
export class Namespace {
  /** The lab that owns it. */
  readonly lab: Lab;
  /** The short name the test gave it (`"sender"`). */
  readonly label: string;
  /** The real namespace name (`mcl-1234-1-sender`), for `ip netns exec`. */
  readonly name: string;
  /** The interfaces the lab created in it, in creation order. */
  readonly interfaces: LabInterface[] = [];
  #nextVeth = 0;
  #hasMulticastRoute4 = false;

  /**
   * Internal: use {@linkcode Lab.addNamespace}.
   *
   * @param lab The owning lab.
   * @param label The short name.
   * @param name The full namespace name.
   */
  constructor(lab: Lab, label: string, name: string) {
    this.lab = lab;
    this.label = label;
    this.name = name;
  }

  /** Internal: the next free `vethN` name in this namespace. */
  nextVethName(): string {
    let name: string;
    do name = `veth${this.#nextVeth++}`; while (this.interfaces.some((i) => i.name === name));
    return name;
  }

  /**
   * Look up an interface the lab created here, by name.
   *
   * @param name Interface name.
   * @returns The interface.
   */
  iface(name: string): LabInterface {
    const found = this.interfaces.find((i) => i.name === name);
    if (!found) throw new LabError(`No interface ${name} in namespace ${this.label}`);
    return found;
  }

  /**
   * Run `ip -n <ns> <args…>`; throws on failure.
   *
   * @param args Arguments after `ip -n <ns>`, for example `["-6", "route"]`.
   * @returns stdout.
   */
  async ip(args: string[]): Promise<string> {
    const result = await runCommand([IP, "-n", this.name, ...args], {
      check: true,
      timeoutMs: IP_TIMEOUT_MS,
    });
    return result.stdout;
  }

  /**
   * Run a command inside the namespace to completion (`ip netns exec <ns> …`).
   *
   * @param argv Program and arguments.
   * @param options Time limit (default 30 s), `check`, environment, stdin.
   * @returns Exit status and output.
   */
  run(argv: string[], options?: RunOptions): Promise<CommandResult> {
    return runCommand([IP, "netns", "exec", this.name, ...argv], options);
  }

  /**
   * Start a long-running command inside the namespace. The lab kills it on disposal.
   *
   * @param argv Program and arguments.
   * @param options Environment, working directory.
   * @returns A handle: `stdout`, `stderr`, `waitForOutput()`, `kill()`, `stop()`, `wait()`.
   */
  spawn(argv: string[], options?: SpawnOptions): LabProcess {
    const process = new LabProcess([IP, "netns", "exec", this.name, ...argv], options);
    this.lab.track(process);
    return process;
  }

  /**
   * Run a Deno script inside the namespace with this same Deno (`Deno.execPath()`).
   *
   * @param script Path or URL of the script.
   * @param options `args`, `flags` (default `["--allow-all"]`), time limit, `check`.
   * @returns Exit status and output.
   */
  runDeno(script: string | URL, options: DenoOptions = {}): Promise<CommandResult> {
    return this.run(denoArgv(script, options), options);
  }

  /**
   * Start a Deno script inside the namespace; the lab kills it on disposal.
   *
   * @param script Path or URL of the script.
   * @param options `args`, `flags` (default `["--allow-all"]`), environment.
   * @returns The process handle.
   */
  spawnDeno(script: string | URL, options: DenoOptions = {}): LabProcess {
    return this.spawn(denoArgv(script, options), { env: options.env, cwd: options.cwd });
  }

  /**
   * Set a sysctl inside the namespace (only `net.*` keys are per namespace).
   *
   * @param key Dotted (`net.ipv4.ip_forward`) or slash form (`net/ipv4/conf/veth0.10/rp_filter`).
   * @param value The value.
   */
  async sysctl(key: string, value: string | number): Promise<void> {
    const path = sysctlPath(key);
    await this.run(["sh", "-c", 'printf "%s\\n" "$1" > "$2"', "sh", String(value), path], {
      check: true,
      timeoutMs: IP_TIMEOUT_MS,
    });
  }

  /**
   * Read a sysctl inside the namespace.
   *
   * @param key Dotted or slash form.
   * @returns The value, trimmed.
   */
  async readSysctl(key: string): Promise<string> {
    const result = await this.run(["cat", sysctlPath(key)], { check: true });
    return result.stdout.trim();
  }

  /**
   * Add an address (IPv6 addresses get `nodad`, so they are usable at once).
   *
   * @param iface Interface name.
   * @param cidr Address with prefix length.
   */
  async addAddress(iface: string, cidr: string): Promise<void> {
    if (cidr.includes(":")) await this.ip(["-6", "addr", "add", cidr, "dev", iface, "nodad"]);
    else await this.ip(["addr", "add", cidr, "dev", iface]);
  }

  /**
   * Route a family's multicast range out of `iface` (replacing an earlier choice).
   * IPv4: `224.0.0.0/4 dev iface` in the main table — a fresh namespace has no route at all for
   * multicast, so sending or joining without naming an interface fails with ENETUNREACH.
   * IPv6: the kernel already adds `multicast ff00::/8 dev X table local` for every multicast
   * interface; this adds a preferred (metric 1) one for `iface`.
   *
   * @param iface Interface name.
   * @param family 4 or 6.
   */
  async setMulticastRoute(iface: string, family: 4 | 6 = 4): Promise<void> {
    if (family === 4) {
      await this.ip(["route", "replace", "224.0.0.0/4", "dev", iface]);
      this.#hasMulticastRoute4 = true;
    } else {
      await this.ip([
        "-6",
        "route",
        "replace",
        "multicast",
        "ff00::/8",
        "dev",
        iface,
        "table",
        "local",
        "metric",
        "1",
      ]);
    }
  }

  /** Internal: true once an IPv4 multicast route was added by the lab. */
  get hasMulticastRoute4(): boolean {
    return this.#hasMulticastRoute4;
  }

  /**
   * Add a unicast route (`ip route replace <destination> via <gateway>`).
   *
   * @param destination Prefix or `default`.
   * @param via Gateway address (its family selects IPv4 or IPv6).
   */
  async addRoute(destination: string, via: string): Promise<void> {
    const family = via.includes(":") ? ["-6"] : [];
    await this.ip([...family, "route", "replace", destination, "via", via]);
  }

  /**
   * Start tcpdump on an interface of this namespace and wait until it is listening.
   *
   * @param iface Interface name (or `any`: the file then uses Linux cooked framing).
   * @param options Filter, snaplen, promiscuous mode.
   * @returns The running capture; `stop()` gives the pcap path, `packets()` decodes it.
   */
  async capture(iface: string, options: CaptureOptions = {}): Promise<Capture> {
    const dir = await this.lab.scratchDir();
    const path = `${dir}/${this.label}-${iface}-${++captureCounter}.pcap`;
    const process = this.spawn(tcpdumpArgv(iface, path, options));
    try {
      await process.waitForOutput(/listening on/, options.timeoutMs ?? 10_000);
    } catch (error) {
      await process.stop(500);
      throw error;
    }
    return new Capture(process, path, iface);
  }
}

let captureCounter = 0;

function sysctlPath(key: string): string {
  const rel = key.includes("/") ? key : key.replaceAll(".", "/");
  if (!/^net\/[\w./-]+$/.test(rel)) {
    throw new LabError(`Invalid sysctl key: ${key} (expected a net.* key)`);
  }
  return `/proc/sys/${rel}`;
}

function denoArgv(script: string | URL, options: DenoOptions): string[] {
  const flags = options.flags ?? ["--allow-all"];
  return [Deno.execPath(), "run", ...flags, String(script), ...(options.args ?? [])];
}

/** A bridged LAN: a namespace holding bridge `br0`, with one veth port per member. */
export class Lan {
  /** The namespace holding the bridge. */
  readonly ns: Namespace;
  /** The bridge's name inside {@linkcode Lan.ns}. */
  readonly bridge = "br0";
  /** Member-side interfaces, in attach order. */
  readonly members: LabInterface[] = [];
  readonly #subnet: number;
  readonly #options: LanOptions;

  /**
   * Internal: use {@linkcode Lab.addLan}.
   *
   * @param ns The bridge namespace.
   * @param subnet The subnet number.
   * @param options Address and snooping options.
   */
  constructor(ns: Namespace, subnet: number, options: LanOptions) {
    this.ns = ns;
    this.#subnet = subnet;
    this.#options = options;
  }

  /**
   * Attach a namespace to the LAN with a new veth (`vethN` in the member, `p<i>` on the bridge).
   *
   * @param member The namespace to attach.
   * @returns The member-side interface with its addresses.
   */
  async attach(member: Namespace): Promise<LabInterface> {
    const index = this.members.length + 1;
    const port = checkIfName(`p${index}`);
    const name = checkIfName(member.nextVethName());
    await member.ip([
      "link",
      "add",
      name,
      "type",
      "veth",
      "peer",
      "name",
      port,
      "netns",
      this.ns.name,
    ]);
    const iface: LabInterface = { ns: member, name };
    member.interfaces.push(iface);
    this.ns.interfaces.push({ ns: this.ns, name: port });
    await this.ns.ip(["link", "set", port, "master", this.bridge]);
    await this.ns.ip(["link", "set", port, "up"]);
    if (this.#options.ipv4 ?? true) {
      iface.ipv4Cidr = `10.100.${this.#subnet}.${index}/24`;
      iface.ipv4 = stripPrefixLength(iface.ipv4Cidr);
      await member.addAddress(name, iface.ipv4Cidr);
    }
    if (this.#options.ipv6 ?? true) {
      iface.ipv6Cidr = `fd00:100:${this.#subnet.toString(16)}::${index.toString(16)}/64`;
      iface.ipv6 = stripPrefixLength(iface.ipv6Cidr);
      await member.addAddress(name, iface.ipv6Cidr);
    }
    await member.ip(["link", "set", name, "up"]);
    if ((this.#options.multicastRoute ?? true) && !member.hasMulticastRoute4) {
      await member.setMulticastRoute(name, 4);
    }
    this.members.push(iface);
    await waitLinkUp(member, name);
    await waitLinkUp(this.ns, port);
    return iface;
  }
}

async function waitLinkUp(ns: Namespace, iface: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const out = await ns.ip(["-o", "link", "show", "dev", iface]);
    if (/[<,]LOWER_UP[,>]/.test(out)) return;
    if (Date.now() > deadline) {
      throw new LabError(
        `Link did not come up within ${timeoutMs} ms: ${ns.label}/${iface}: ${out.trim()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
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
  /** `mcl-<pid>-<n>`: the prefix of all of this lab's namespace names. */
  readonly id: string;
  /** The namespaces created so far, in creation order. */
  readonly namespaces: Namespace[] = [];
  #processes = new Set<LabProcess>();
  #subnets = 0;
  #scratch: string | undefined;
  #keepFiles: boolean;
  #closing: Promise<void> | undefined;

  private constructor(id: string, options: LabOptions) {
    this.id = id;
    this.#keepFiles = options.keepFiles ?? false;
  }

  /**
   * Create an empty lab (no namespaces yet). Requires root and `ip`. The first call in a
   * process also runs {@linkcode cleanupStaleLabs} (namespaces of dead processes only).
   *
   * @param options Scratch-file handling.
   * @returns The lab.
   */
  static async create(options: LabOptions = {}): Promise<Lab> {
    // The first lab of a process removes what crashed or interrupted runs left behind (deno
    // test exits on SIGINT without running any JS clean-up).
    staleCleanup ??= cleanupStaleLabs().catch(() => []);
    await staleCleanup;
    const lab = new Lab(`${LAB_PREFIX}${Deno.pid}-${++labCounter}`, options);
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
    liveLabs.delete(this);
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

async function listNamespaces(): Promise<string[]> {
  const result = await runCommand([IP, "netns", "list"], { timeoutMs: IP_TIMEOUT_MS });
  return parseNetnsList(result.stdout);
}

function parseNetnsList(stdout: string): string[] {
  return stdout.split("\n").map((line) => line.trim().split(/\s+/)[0]).filter((n) => n);
}

async function deleteNamespace(name: string): Promise<void> {
  // Processes left inside (daemons that forked away) would keep the namespace alive.
  const pids = await runCommand([IP, "netns", "pids", name], { timeoutMs: IP_TIMEOUT_MS });
  for (const pid of pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch { /* gone */ }
  }
  const result = await runCommand([IP, "netns", "del", name], { timeoutMs: IP_TIMEOUT_MS });
  if (!result.success && !/No such file|Invalid netns|does not exist/i.test(result.stderr)) {
    throw new LabError(
      `Command failed: ${formatArgv([IP, "netns", "del", name])}: ${result.stderr.trim()}`,
    );
  }
}

function deleteNamespaceSync(name: string): void {
  try {
    const pids = new Deno.Command(IP, { args: ["netns", "pids", name], stderr: "null" })
      .outputSync();
    for (
      const pid of new TextDecoder().decode(pids.stdout).split(/\s+/).filter((p) => /^\d+$/.test(p))
    ) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch { /* gone */ }
    }
    new Deno.Command(IP, { args: ["netns", "del", name], stdout: "null", stderr: "null" })
      .outputSync();
  } catch { /* best effort */ }
}

/** Options of {@linkcode cleanupStaleLabs}. */
export interface CleanupOptions {
  /**
   * Delete every `mcl-` namespace, including those of processes that are still running (use
   * only when no other lab run can be active, for example at the start of CI).
   *
   * @default {false}
   */
  all?: boolean;
}

/**
 * Delete namespaces left behind by crashed lab runs: `mcl-<pid>-…` whose process is gone (and,
 * with `all`, every `mcl-` namespace). Never touches namespaces without the prefix, nor those of
 * labs that are alive in this process.
 *
 * @param options `all` to ignore whether the owner is alive.
 * @returns The names deleted.
 * @example
 * ```ts ignore
 * import { cleanupStaleLabs } from "./mod.ts";
 * console.log(await cleanupStaleLabs());
 * ```
 */
export async function cleanupStaleLabs(options: CleanupOptions = {}): Promise<string[]> {
  const mine = new Set([...liveLabs].flatMap((lab) => lab.namespaces.map((n) => n.name)));
  const deleted: string[] = [];
  for (const name of await listNamespaces()) {
    if (!name.startsWith(LAB_PREFIX) || mine.has(name)) continue;
    const pid = Number(/^mcl-(\d+)-/.exec(name)?.[1] ?? NaN);
    const ownerAlive = Number.isInteger(pid) && pid !== Deno.pid && processAlive(pid);
    if (ownerAlive && !options.all) continue;
    await deleteNamespace(name);
    deleted.push(name);
  }
  return deleted;
}

/**
 * The lab namespaces (`mcl-` prefix) that currently exist on this host.
 *
 * @returns Namespace names.
 */
export async function listLabNamespaces(): Promise<string[]> {
  return (await listNamespaces()).filter((n) => n.startsWith(LAB_PREFIX));
}

function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

// --- safety net: SIGINT/SIGTERM/unload while labs are alive ---------------------------------

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const signalHandlers = new Map<Deno.Signal, () => void>();

function onUnload(): void {
  for (const lab of [...liveLabs]) lab.closeSync();
}

function registerLab(lab: Lab): void {
  if (liveLabs.size === 0) {
    globalThis.addEventListener("unload", onUnload);
    for (const signal of SIGNALS) {
      const handler = () => {
        onUnload();
        Deno.exit(signal === "SIGINT" ? 130 : 143);
      };
      try {
        Deno.addSignalListener(signal, handler);
        signalHandlers.set(signal, handler);
      } catch { /* not supported here */ }
    }
  }
  liveLabs.add(lab);
}

function unregisterLab(lab: Lab): void {
  liveLabs.delete(lab);
  if (liveLabs.size === 0) {
    globalThis.removeEventListener("unload", onUnload);
    for (const [signal, handler] of signalHandlers) Deno.removeSignalListener(signal, handler);
    signalHandlers.clear();
  }
}

// --- labTest ---------------------------------------------------------------------------------

/** Options of {@linkcode labTest}. */
export interface LabTestOptions {
  /** Programs that must be on PATH besides `ip`, for example `["tcpdump", "smcroute"]`. */
  requires?: string[];
  /**
   * Fail (after cleaning up) when the test takes longer than this.
   *
   * @default {60000}
   */
  timeoutMs?: number;
  /** Ignore the test (as `Deno.test`'s `ignore`). */
  ignore?: boolean;
  /** Run only this test (as `Deno.test`'s `only`). */
  only?: boolean;
  /**
   * Deno's op sanitizer.
   *
   * @default {true}
   */
  sanitizeOps?: boolean;
  /**
   * Deno's resource sanitizer.
   *
   * @default {true}
   */
  sanitizeResources?: boolean;
}

/**
 * What is missing to run lab tests here: `"root"`, `"ip"` and any of `requires` not on PATH.
 *
 * @param requires Extra programs.
 * @returns Missing things; empty when lab tests can run.
 */
export function missingLabRequirements(requires: readonly string[] = []): string[] {
  const missing: string[] = [];
  let uid: number | null = null;
  try {
    uid = Deno.uid();
  } catch { /* no permission to ask: treat as not root */ }
  if (uid !== 0) missing.push("root");
  for (const program of ["ip", ...requires]) {
    if (!findOnPath(program) && !missing.includes(program)) missing.push(program);
  }
  return missing;
}

/**
 * Register a Deno test that gets a fresh {@linkcode Lab}, disposed after the body (also when it
 * throws or exceeds `timeoutMs`); labs the body creates itself are cleaned up too.
 *
 * When root, `ip` or a `requires` program is missing: outside CI the test is registered as
 * ignored and a `SKIP lab test …` notice is printed; with `CI=true` it is registered and fails,
 * naming what is missing.
 *
 * @param name Test name.
 * @param fn The body; gets the lab and Deno's test context.
 * @param options Requirements, time limit, sanitizers.
 * @example
 * ```ts ignore
 * import { labTest } from "./mod.ts";
 * labTest("capture on a link", async (lab) => {
 *   const [a, b] = [await lab.addNamespace("a"), await lab.addNamespace("b")];
 *   const link = await lab.link(a, b);
 *   const capture = await b.capture(link.b.name, { filter: "udp" });
 *   await a.run(["bash", "-c", `echo hi > /dev/udp/${link.b.ipv4}/9000`]);
 *   const packets = await capture.packets();
 *   if (packets[0]?.dstPort !== 9000) throw new Error("not captured");
 * }, { requires: ["tcpdump", "bash"] });
 * ```
 */
export function labTest(
  name: string,
  fn: (lab: Lab, t: Deno.TestContext) => void | Promise<void>,
  options: LabTestOptions = {},
): void {
  const base = {
    name,
    only: options.only,
    sanitizeOps: options.sanitizeOps,
    sanitizeResources: options.sanitizeResources,
  };
  const missing = options.ignore ? [] : missingLabRequirements(options.requires);
  if (missing.length > 0) {
    const what = missing.join(", ");
    if (Deno.env.get("CI") === "true") {
      Deno.test({
        ...base,
        fn() {
          throw new LabError(`Lab test cannot run under CI=true: missing ${what}`);
        },
      });
    } else {
      console.warn(`SKIP lab test ${name}: needs root and ip netns; missing ${what}`);
      Deno.test({ ...base, ignore: true, fn() {} });
    }
    return;
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  Deno.test({
    ...base,
    ignore: options.ignore,
    async fn(t) {
      const before = new Set(liveLabs);
      const lab = await Lab.create();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      let outcome: unknown;
      let bodyError: unknown;
      const body = Promise.resolve().then(() => fn(lab, t));
      body.catch(() => {}); // after a time-out nobody awaits the body any more
      try {
        outcome = await Promise.race([body, timeout]);
      } catch (error) {
        bodyError = error ?? new LabError("Lab test body threw a nullish value");
      } finally {
        clearTimeout(timer);
      }
      const created = [...liveLabs].filter((l) => !before.has(l));
      const results = await Promise.allSettled([lab, ...created].map((l) => l.close()));
      if (bodyError !== undefined) throw bodyError;
      if (outcome === "timeout") {
        throw new LabError(
          `Lab test timed out after ${timeoutMs} ms (namespaces deleted): ${name}`,
        );
      }
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    },
  });
}
