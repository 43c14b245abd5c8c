/**
 * mcast: a small, exact IPv4/IPv6 multicast sender and receiver library, and the MCAS lab
 * protocol that `mcast-send`, `mcast-receive` and `mcast-status` speak.
 *
 * Sending follows mctx-core's model: an immutable {@linkcode PublicationConfig}, a ready
 * {@linkcode Publication} owning one non-blocking connected socket, a {@linkcode Context} that
 * owns many. Receiving: a {@linkcode Subscription} (ASM or SSM join, batched receive with TTL,
 * DSCP and kernel timestamps), the MCAS codec and {@linkcode ReceiverStats}.
 *
 * Sender metrics live in the `./metrics` subpath so the core does not pay for them.
 *
 * Diagnosis: {@linkcode checkReception} says what stops this host from receiving a group (what
 * `mcast-status --check` prints), {@linkcode diagnoseReceiver} adds what reaches the interface
 * but not the socket, and {@linkcode QuerierWatcher} names the LAN's querier.
 *
 * @example Send one datagram
 * ```ts ignore
 * import { Context, PublicationConfig } from "./mod.ts";
 *
 * const ctx = new Context();
 * const id = ctx.addPublication(
 *   new PublicationConfig("239.1.2.3", 5000).withSourceAddr("127.0.0.1").withTtl(4),
 * );
 * const report = ctx.send(id, new TextEncoder().encode("hello"));
 * console.log(report.bytesSent);
 * ```
 *
 * @example Receive and count MCAS datagrams, as `mcast-receive` does
 * ```ts ignore
 * import { BatchRecorder, ReceiverStats, Subscription } from "./mod.ts";
 *
 * using sub = new Subscription("232.1.1.1", { source: "10.0.0.1", interface: "eth1" });
 * const stats = new ReceiverStats();
 * const recorder = new BatchRecorder(stats);
 * for await (const batch of sub.batches({ signal: AbortSignal.timeout(5000) })) {
 *   recorder.record(batch);
 * }
 * console.log(stats.summary().totals);
 * ```
 *
 * @module
 */

export * from "./lib/errors.ts";
export * from "./lib/address.ts";
export * from "./lib/rate.ts";
export * from "./lib/dscp.ts";
export * from "./lib/mcas.ts";
export * from "./lib/publication_config.ts";
export * from "./lib/publication.ts";
export * from "./lib/context.ts";
export * from "./lib/async_publication.ts";
export * from "./lib/heimdall_jsonl.ts";
export * from "./lib/pacer.ts";
export * from "./lib/mcas_sender.ts";
export * from "./lib/subscription.ts";
export * from "./lib/source_filter.ts";
export * from "./lib/receiver_stats.ts";
export * from "./lib/receiver_summary.ts";
export * from "./lib/expectations.ts";
export * from "./lib/batch_recorder.ts";
export * from "./lib/igmp_version.ts";
export * from "./lib/proc_igmp.ts";
export * from "./lib/multicast_state.ts";
export * from "./lib/interfaces.ts";
export * from "./lib/proc_counters.ts";
export * from "./lib/diagnosis/finding.ts";
export * from "./lib/diagnosis/reception.ts";
export * from "./lib/diagnosis/check_reception.ts";
export * from "./lib/diagnosis/receiver_diagnosis.ts";
export * from "./lib/diagnosis/self_diagnosis.ts";
export * from "./lib/diagnosis/querier_watcher.ts";
export * from "./lib/diagnosis/wire_tap.ts";
export type { QuerierObservation } from "./lib/diagnosis/version_check.ts";
// Types only: the metrics implementation stays in the `./metrics` subpath.
export type {
  ContextMetricsDelta,
  ContextMetricsSnapshot,
  PublicationMetricsDelta,
  PublicationMetricsSnapshot,
} from "./lib/metrics.ts";
