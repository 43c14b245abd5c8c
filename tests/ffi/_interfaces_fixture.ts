// Private helpers of the interface tests (this folder's interfaces_test.ts for the C library's
// lists, ../lib/interfaces_test.ts for finding an interface by text): an index this host does
// not have, and the lab namespace both lab tests read — a veth with two IPv4 addresses, a ULA
// and a link-local IPv6 address.

import { readInterfaces } from "../../ffi/interfaces.ts";
import type { Lab, Link, Namespace } from "../lab/mod.ts";
import { ifindex, linkLocal } from "../lib/_lab_peers.ts";

/**
 * An index no interface of this host has.
 *
 * @returns The index.
 */
export function unusedIndex(): number {
  const used = new Set(readInterfaces().map((i) => i.index));
  let index = 100_000;
  while (used.has(index)) index++;
  return index;
}

/** The namespace of {@linkcode vethWithAddresses} and what it holds. */
export interface VethWithAddresses {
  /** The namespace the peer runs in. */
  ns: Namespace;
  /** The link; `link.a` is the veth in {@linkcode VethWithAddresses.ns}. */
  link: Link;
  /** The veth's name. */
  iface: string;
  /** Its index. */
  index: number;
  /** Its second IPv4 address. */
  second: string;
  /** Its link-local IPv6 address. */
  local: string;
}

/**
 * Two namespaces on a veth link; the `a` end gets a second IPv4 address (`….11/24`) besides the
 * lab's IPv4 and ULA ones, and its link-local address is waited for.
 *
 * @param lab The test's lab.
 * @returns The namespace, link, interface and addresses.
 */
export async function vethWithAddresses(lab: Lab): Promise<VethWithAddresses> {
  const ns = await lab.addNamespace("a");
  const b = await lab.addNamespace("b");
  const link = await lab.link(ns, b);
  const iface = link.a.name;
  const second = link.a.ipv4!.replace(/\.1$/, ".11");
  await ns.addAddress(iface, `${second}/24`);
  return {
    ns,
    link,
    iface,
    index: await ifindex(ns, iface),
    second,
    local: await linkLocal(ns, iface),
  };
}
