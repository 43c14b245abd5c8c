/**
 * Source-specific multicast range misuse (`ssm-range`, warnings: Linux itself accepts any
 * join): an any-source or EXCLUDE join inside 232.0.0.0/8 or `ff3x::/32`, where RFC 4607 routers
 * ignore them, or a source-specific join outside it, which PIM-SM routers treat as any-source.
 *
 * @module
 */

import { formatAddress, isSsmGroup } from "../address.ts";
import type { Finding } from "./finding.ts";
import { describeJoin, receiveCommand, type Reception } from "./reception.ts";

/**
 * An SSM group near `group` (same low bits): 239.1.2.3 → 232.1.2.3, ff3e::… for IPv6.
 *
 * @example
 * ```ts
 * import { ssmCounterpart } from "./ssm_check.ts";
 * ssmCounterpart(Uint8Array.of(239, 1, 2, 3)); // "232.1.2.3"
 * ```
 *
 * @param group The group's bytes.
 * @returns The SSM group, as text.
 */
export function ssmCounterpart(group: Uint8Array): string {
  const bytes = Uint8Array.from(group);
  if (bytes.length === 4) bytes[0] = 232;
  else {
    bytes[1] = 0x30 | (bytes[1] & 0x0f);
    bytes.fill(0, 2, 12);
  }
  return formatAddress(bytes);
}

/**
 * Checks the join against the SSM range.
 *
 * @example
 * ```ts
 * import { resolveReception } from "./reception.ts";
 * import { checkSsmRange } from "./ssm_check.ts";
 * checkSsmRange(resolveReception({ group: "232.1.1.1" }))[0].id; // "ssm-range"
 * checkSsmRange(resolveReception({ group: "232.1.1.1", sources: ["10.0.0.1"] })); // []
 * ```
 *
 * @param reception The checked request.
 * @returns The findings (`ssm-range`).
 */
export function checkSsmRange(reception: Reception): Finding[] {
  const ssm = isSsmGroup(reception.groupBytes);
  const range = reception.family === "IPv4" ? "232.0.0.0/8" : "ff3x::/32";
  const join = describeJoin(reception);
  const iface = reception.interface?.name ?? null;
  if (ssm && reception.sources.length === 0) {
    const exclude = reception.exclude.length > 0;
    return [{
      id: "ssm-range",
      severity: "warning",
      message: `${join} is ${exclude ? "an EXCLUDE-mode" : "an any-source"} join inside the SSM ` +
        `range ${range}: routers ignore it there (RFC 4607), so only senders on this link reach ` +
        "the receiver",
      fix: receiveCommand({ ...reception, sources: ["SOURCE"], exclude: [] }, iface),
    }];
  }
  if (!ssm && reception.sources.length > 0) {
    return [{
      id: "ssm-range",
      severity: "warning",
      message: `${join} is a source-specific join outside the SSM range ${range}: it works on ` +
        "this link and with IGMPv3/MLDv2 routers, but PIM-SM routers treat the group as " +
        "any-source (through a rendezvous point)",
      fix: receiveCommand({ ...reception, group: ssmCounterpart(reception.groupBytes) }, iface),
    }];
  }
  return [];
}
