/**
 * Bridged LANs (a namespace holding bridge `br0`, one veth port per member) and the helpers every
 * veth needs — interface-name checks, addresses without prefix length, waiting for the carrier.
 *
 * @example
 * ```ts ignore
 * import { Lab } from "./lab.ts";
 * await using lab = await Lab.create();
 * const lan = await lab.addLan("sw", [await lab.addNamespace("h1")], { snooping: true });
 * await lan.attach(await lab.addNamespace("h2"), { name: "eth0", ipv4: "10.0.1.12/24" });
 * ```
 *
 * @module
 */

import { LabError } from "../errors.ts";
import type { LabInterface, Namespace } from "./namespace.ts";

/** Options of `LabNetwork.addLan`. */
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

/** Options of {@linkcode Lan.attach}: names and addresses other than the automatic ones. */
export interface AttachOptions {
  /** The member-side interface name; default the member's next `vethN`. */
  name?: string;
  /** The bridge-side port name; default `p<i>`. */
  port?: string;
  /** The member's IPv4 address with prefix length, instead of the LAN's automatic one. */
  ipv4?: string;
  /** The member's IPv6 address with prefix length, instead of the LAN's automatic one. */
  ipv6?: string;
}

/**
 * Check an interface name (at most 15 characters, no blanks, `/` or `:`).
 *
 * @example
 * ```ts
 * import { checkIfName } from "./lan.ts";
 * checkIfName("eth0"); // "eth0"
 * ```
 *
 * @param name The name.
 * @returns The name.
 * @throws {LabError} When it is not a valid interface name.
 */
export function checkIfName(name: string): string {
  if (name.length === 0 || name.length > 15 || /[\s/:]/.test(name)) {
    throw new LabError(`Invalid interface name: ${JSON.stringify(name)} (at most 15 characters)`);
  }
  return name;
}

/**
 * The address of a CIDR, without its prefix length.
 *
 * @example
 * ```ts
 * import { stripPrefixLength } from "./lan.ts";
 * stripPrefixLength("10.100.1.1/24"); // "10.100.1.1"
 * ```
 *
 * @param cidr `10.100.1.1/24`.
 * @returns `10.100.1.1`.
 */
export function stripPrefixLength(cidr: string): string {
  return cidr.split("/")[0];
}

/**
 * A bridged LAN: a namespace holding bridge `br0`, with one veth port per member.
 *
 * @example
 * ```ts ignore
 * import { Lab } from "./lab.ts";
 * await using lab = await Lab.create();
 * const lan = await lab.addLan("lan", [await lab.addNamespace("h1"), await lab.addNamespace("h2")]);
 * console.log(lan.members.map((m) => m.ipv4)); // ["10.100.1.1", "10.100.1.2"]
 * ```
 */
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
   * Internal: use `LabNetwork.addLan`.
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
   * Attach a namespace to the LAN with a new veth (`vethN` in the member, `p<i>` on the bridge,
   * unless `options` names them).
   *
   * @param member The namespace to attach.
   * @param options Interface names and addresses other than the automatic ones.
   * @returns The member-side interface with its addresses.
   */
  async attach(member: Namespace, options: AttachOptions = {}): Promise<LabInterface> {
    const index = this.members.length + 1;
    const port = checkIfName(options.port ?? `p${index}`);
    const name = checkIfName(options.name ?? member.nextVethName());
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
    const ipv4 = options.ipv4 ??
      ((this.#options.ipv4 ?? true) ? `10.100.${this.#subnet}.${index}/24` : undefined);
    if (ipv4 !== undefined) {
      iface.ipv4Cidr = ipv4;
      iface.ipv4 = stripPrefixLength(ipv4);
      await member.addAddress(name, ipv4);
    }
    const ipv6 = options.ipv6 ??
      ((this.#options.ipv6 ?? true)
        ? `fd00:100:${this.#subnet.toString(16)}::${index.toString(16)}/64`
        : undefined);
    if (ipv6 !== undefined) {
      iface.ipv6Cidr = ipv6;
      iface.ipv6 = stripPrefixLength(ipv6);
      await member.addAddress(name, ipv6);
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

/**
 * Wait until an interface reports carrier (`LOWER_UP`).
 *
 * @example
 * ```ts ignore
 * import { waitLinkUp } from "./lan.ts";
 * await waitLinkUp(ns, "veth0");
 * ```
 *
 * @param ns The namespace holding it.
 * @param iface The interface name.
 * @param timeoutMs Give up after this many milliseconds.
 * @throws {LabError} When the link is not up in time.
 */
export async function waitLinkUp(ns: Namespace, iface: string, timeoutMs = 5_000): Promise<void> {
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
