// Private helper of the firewall tests: the probe datagram from address text.

import { parseAddress } from "../../../lib/address.ts";
import type { Probe } from "../../../lib/diagnosis/_probe.ts";

/**
 * UDP to `group`:`port` from `sources` (null: any source) arriving on `iface`.
 *
 * @param group The group.
 * @param port The port.
 * @param sources The INCLUDE sources, or null.
 * @param iface The receiving interface.
 * @returns The probe.
 */
export function probe(
  group: string,
  port: number,
  sources: string[] | null = null,
  iface: string | null = "veth0",
): Probe {
  const { family, bytes } = parseAddress(group);
  return {
    family,
    group: bytes,
    sources: sources === null ? null : sources.map((s) => parseAddress(s).bytes),
    port,
    iface,
  };
}
