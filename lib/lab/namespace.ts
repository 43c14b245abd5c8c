/**
 * One network namespace of a lab — `ip -n`, commands and Deno scripts run inside it, sysctls,
 * addresses and routes.
 *
 * @example
 * ```ts ignore
 * import { Lab } from "./lab.ts";
 * await using lab = await Lab.create();
 * const ns = await lab.addNamespace("h1");
 * await ns.sysctl("net.ipv4.conf.all.rp_filter", 1);
 * console.log((await ns.run(["ip", "-o", "addr"])).stdout);
 * ```
 *
 * @module
 */

import { LabError } from "../errors.ts";
import {
  type CommandResult,
  LabProcess,
  pinnedArgv,
  runCommand,
  type RunOptions,
  type SpawnOptions,
} from "./command.ts";
import { IP, IP_TIMEOUT_MS } from "./programs.ts";

/** What owns a namespace: it kills the namespace's processes when it closes. */
export interface ProcessOwner {
  /**
   * Kill this process when the owner closes.
   *
   * @param process The process.
   */
  track(process: LabProcess): void;
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

/**
 * One network namespace of a lab. Created by `LabNetwork.addNamespace` (of a `Lab` or a
 * classroom lab); deleted when its lab closes.
 *
 * @example
 * ```ts ignore
 * import { Lab } from "./lab.ts";
 * await using lab = await Lab.create();
 * const [a, b] = [await lab.addNamespace("a"), await lab.addNamespace("b")];
 * const link = await lab.link(a, b);
 * await a.run(["ping", "-c", "1", link.b.ipv4!], { check: true });
 * ```
 */
export class Namespace {
  /** What owns it (its lab), which kills its processes on close. */
  readonly owner: ProcessOwner;
  /** The short name the lab gave it (`"sender"`). */
  readonly label: string;
  /** The real namespace name (`mcl-1234-1-sender`), for `ip netns exec`. */
  readonly name: string;
  /** The interfaces the lab created in it, in creation order. */
  readonly interfaces: LabInterface[] = [];
  #nextVeth = 0;
  #hasMulticastRoute4 = false;

  /**
   * Internal: use `LabNetwork.addNamespace`.
   *
   * @param owner The owning lab.
   * @param label The short name.
   * @param name The full namespace name.
   */
  constructor(owner: ProcessOwner, label: string, name: string) {
    this.owner = owner;
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
   * The command line that {@linkcode Namespace.run} and {@linkcode Namespace.spawn} execute for
   * `argv`: `ip netns exec <ns> [taskset -c <cpu>] argv…`.
   *
   * @param argv Program and arguments.
   * @param cpu Pin the program to this CPU (`taskset -c`); undefined leaves it to the scheduler.
   * @returns The full command line.
   */
  execArgv(argv: readonly string[], cpu?: number): string[] {
    return [IP, "netns", "exec", this.name, ...pinnedArgv(argv, cpu)];
  }

  /**
   * Run a command inside the namespace to completion (`ip netns exec <ns> …`). A run that
   * exceeds its time limit is killed and returned with `timedOut: true`; it throws only with
   * `check`.
   *
   * @param argv Program and arguments.
   * @param options Time limit (default 30 s), `check`, environment, stdin, CPU pinning.
   * @returns Exit status and output.
   */
  run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
    const { cpu, ...rest } = options;
    return runCommand(this.execArgv(argv, cpu), rest);
  }

  /**
   * Start a long-running command inside the namespace. The lab kills it on disposal.
   *
   * @param argv Program and arguments.
   * @param options Environment, working directory, piped stdin, time limit, CPU pinning.
   * @returns A handle: `stdout`, `stderr`, `waitForOutput()`, `write()`, `kill()`, `stop()`,
   *   `wait()`.
   */
  spawn(argv: string[], options: SpawnOptions = {}): LabProcess {
    const { cpu, ...rest } = options;
    const process = new LabProcess(this.execArgv(argv, cpu), rest);
    this.owner.track(process);
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
   * @param options `args`, `flags` (default `["--allow-all"]`), environment, CPU pinning.
   * @returns The process handle.
   */
  spawnDeno(script: string | URL, options: DenoOptions = {}): LabProcess {
    const { env, cwd, cpu } = options;
    return this.spawn(denoArgv(script, options), { env, cwd, cpu });
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
}

/**
 * The /proc/sys path of a per-namespace sysctl.
 *
 * @example
 * ```ts
 * import { sysctlPath } from "./namespace.ts";
 * sysctlPath("net.ipv4.ip_forward"); // "/proc/sys/net/ipv4/ip_forward"
 * ```
 *
 * @param key Dotted (`net.ipv4.ip_forward`) or slash form (`net/ipv4/conf/veth0.10/rp_filter`).
 * @returns `/proc/sys/net/…`.
 * @throws {LabError} When the key is not a `net.*` key.
 */
export function sysctlPath(key: string): string {
  const rel = key.includes("/") ? key : key.replaceAll(".", "/");
  if (!/^net\/[\w./-]+$/.test(rel)) {
    throw new LabError(`Invalid sysctl key: ${key} (expected a net.* key)`);
  }
  return `/proc/sys/${rel}`;
}

/**
 * The command line that runs a Deno script with this same Deno.
 *
 * @param script Path or URL of the script.
 * @param options `flags` (default `["--allow-all"]`) and `args`.
 * @returns `deno run <flags…> <script> <args…>`.
 */
function denoArgv(script: string | URL, options: DenoOptions): string[] {
  const flags = options.flags ?? ["--allow-all"];
  return [Deno.execPath(), "run", ...flags, String(script), ...(options.args ?? [])];
}
