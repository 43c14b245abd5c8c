/**
 * Private: bridged LANs (a namespace holding bridge `br0`, one veth port per member) and the
 * helpers every veth needs — interface-name checks, addresses without prefix length, waiting for
 * the carrier.
 *
 * @module
 */

import { LabError } from "./_command.ts";
import type { LabInterface, Namespace } from "./_namespace.ts";

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

/**
 * Check an interface name (at most 15 characters, no blanks, `/` or `:`).
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
 * @param cidr `10.100.1.1/24`.
 * @returns `10.100.1.1`.
 */
export function stripPrefixLength(cidr: string): string {
  return cidr.split("/")[0];
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

/**
 * Wait until an interface reports carrier (`LOWER_UP`).
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
