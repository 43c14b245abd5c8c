/**
 * Private test helper, run inside lab namespaces by `subscription_lab_test.ts`: runs one
 * {@linkcode Subscription} for a bounded time and prints what it received, per source.
 *
 * ```
 * deno run --allow-all _subscription_receiver.ts <group> [--source S] [--interface I]
 *     [--port 19779] [--duration-ms 10000] [--expect N] [--linger-ms 500]
 *     [--igmp-version V | --mld-version V]
 * ```
 *
 * Prints `{"ready": …}` once joined, then, when `--duration-ms` has passed, or `--linger-ms`
 * after `--expect` datagrams arrived, or on SIGUSR1, one JSON line:
 * `{"done": true, "counts": {source: datagrams}, "mcas": {source: MCAS datagrams},
 * "unique": {source: distinct sequence numbers}, "foreign", "truncated", "ttl": {source: last},
 * "tos": {source: last}, "destinations": [...], "interfaces": [...], "forced": status or null}`.
 * With `--igmp-version` / `--mld-version` the version is forced on the interface for the run
 * (lib/igmp_version.ts) and restored before exit — after the subscription has left, so the leave
 * goes out in the forced version too. (SIGUSR1 rather than SIGTERM is the graceful stop because
 * `ForcedMembershipVersion` restores at once on SIGTERM, which would send the leave in the
 * kernel's own version; SIGTERM still restores, it just makes the leave a v3 one.)
 *
 * @module
 */

import { formatAddress } from "../../lib/address.ts";
import { ForcedMembershipVersion } from "../../lib/igmp_version.ts";
import { createMcasHeader, decodeMcas } from "../../lib/mcas.ts";
import { ReceivedMetadata, Subscription } from "../../lib/subscription.ts";

const [group, ...rest] = Deno.args;
const options = new Map<string, string>();
for (let i = 0; i + 1 < rest.length; i += 2) options.set(rest[i].replace(/^--/, ""), rest[i + 1]);
if (!group) {
  console.error("usage: _subscription_receiver.ts <group> [--source S] [--interface I] …");
  Deno.exit(2);
}
const durationMs = Number(options.get("duration-ms") ?? 10_000);
const expect = options.has("expect") ? Number(options.get("expect")) : null;
const lingerMs = Number(options.get("linger-ms") ?? 500);
const iface = options.get("interface");
const igmpVersion = options.get("igmp-version");
const mldVersion = options.get("mld-version");

let forced: ForcedMembershipVersion | null = null;
if ((igmpVersion !== undefined || mldVersion !== undefined) && iface !== undefined) {
  forced = ForcedMembershipVersion.apply(iface, {
    protocol: igmpVersion !== undefined ? "igmp" : "mld",
    version: Number(igmpVersion ?? mldVersion),
    onSignal: "restore",
    onWarning: (message) => console.error(message),
  });
}

try {
  using sub = new Subscription(group, {
    source: options.get("source"),
    interface: iface,
    port: Number(options.get("port") ?? 19779),
  });
  const stop = new AbortController();
  const onStop = () => stop.abort();
  Deno.addSignalListener("SIGUSR1", onStop);
  let timer = setTimeout(() => stop.abort(), durationMs);
  console.log(JSON.stringify({
    ready: true,
    group: sub.group,
    source: sub.source,
    interface: sub.interfaceName,
    receive_buffer: sub.receiveBufferBytes,
  }));

  const counts: Record<string, number> = {};
  const mcas: Record<string, number> = {};
  const sequences = new Map<string, Set<bigint>>();
  const ttl: Record<string, number> = {};
  const tos: Record<string, number> = {};
  const destinations = new Set<string>();
  const interfaces = new Set<number>();
  let foreign = 0;
  let truncated = 0;
  let total = 0;
  let lingering = false;
  const header = createMcasHeader();
  const meta = new ReceivedMetadata();
  for await (const batch of sub.batches({ signal: stop.signal, waitMs: 20 })) {
    for (let i = 0; i < batch.length; i++) {
      const source = batch.sourceAddress(i);
      counts[source] = (counts[source] ?? 0) + 1;
      if (batch.truncated(i)) truncated++;
      batch.metadata(i, meta);
      ttl[source] = meta.ttl;
      tos[source] = meta.tos;
      interfaces.add(meta.interfaceIndex);
      if (meta.destinationFamily !== null) {
        const size = meta.destinationFamily === "IPv4" ? 4 : 16;
        destinations.add(formatAddress(meta.destination.slice(0, size)));
      }
      if (decodeMcas(batch.payload(i), header) === "ok") {
        mcas[source] = (mcas[source] ?? 0) + 1;
        let seen = sequences.get(source);
        if (seen === undefined) sequences.set(source, seen = new Set());
        if (seen.size < 100_000) seen.add(header.sequence);
      } else {
        foreign++;
      }
      total++;
    }
    if (expect !== null && total >= expect && !lingering) {
      // Everything expected is here: keep listening a little for datagrams that must not come.
      lingering = true;
      clearTimeout(timer);
      timer = setTimeout(() => stop.abort(), lingerMs);
    }
  }
  clearTimeout(timer);
  Deno.removeSignalListener("SIGUSR1", onStop);
  console.log(JSON.stringify({
    done: true,
    counts,
    mcas,
    unique: Object.fromEntries([...sequences].map(([source, seen]) => [source, seen.size])),
    foreign,
    truncated,
    ttl,
    tos,
    destinations: [...destinations],
    interfaces: [...interfaces],
    forced: forced?.status ?? null,
    previous: forced?.previous ?? null,
  }));
} finally {
  forced?.restore();
}
