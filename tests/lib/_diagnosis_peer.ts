/**
 * Private test peer for the diagnosis lab tests, run inside a namespace (root): a receiver as
 * mcast-receive will be one — it joins, listens for queriers from the join, receives for a
 * while, then runs the receiver diagnosis — or a querier listener alone.
 *
 * ```
 * deno run -A _diagnosis_peer.ts diagnose <group> <sources|-> <iface> <port> <waitMs> <wireMs>
 *     joins (a comma list of sources, or - for any source), prints READY, counts what the socket
 *     receives for waitMs, then runs diagnoseReceiver (the wire watched for wireMs, the socket
 *     still counting) and prints one JSON line { received, diagnosis, querier }.
 * deno run -A _diagnosis_peer.ts receive <group> <sources|-> <iface|-> <port> <ms>
 *     joins (- for the routing default interface), prints READY, counts what the socket receives
 *     for ms and prints one JSON line { received } — or { error } when the join fails.
 * deno run -A _diagnosis_peer.ts querier <iface> <IPv4|IPv6> <timeoutMs>
 *     prints READY, listens until a querier is heard (or timeoutMs), then prints one JSON line
 *     { querier, queries, listenedS }.
 * ```
 *
 * Bounded in time: every wait has a limit.
 *
 * @module
 */

import { diagnoseReceiver } from "../../lib/diagnosis/receiver_diagnosis.ts";
import { QuerierWatcher } from "../../lib/diagnosis/querier_watcher.ts";
import { parseAddress } from "../../lib/address.ts";
import { Subscription } from "../../lib/subscription.ts";

const [mode, ...args] = Deno.args;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (mode === "diagnose") {
  const [group, sourceList, iface, portText, waitText, wireText] = args;
  const sources = sourceList === "-" ? [] : sourceList.split(",");
  const port = Number(portText);
  using sub = new Subscription(group, { sources, interface: iface, port });
  await using watcher = QuerierWatcher.start(iface, parseAddress(group).family);
  console.log("READY");
  let received = 0;
  let counting = true;
  const counter = (async () => {
    while (counting) {
      if (await sub.waitReadable(50)) received += sub.receiveBatch();
    }
  })();
  await sleep(Number(waitText));
  const diagnosis = await diagnoseReceiver(
    { group, sources, interface: iface, port },
    { querier: watcher, wireMs: Number(wireText) },
  );
  counting = false;
  await counter;
  console.log(JSON.stringify({ received, diagnosis, querier: watcher.querier }));
} else if (mode === "receive") {
  const [group, sourceList, iface, portText, msText] = args;
  const sources = sourceList === "-" ? [] : sourceList.split(",");
  let sub: Subscription;
  try {
    sub = new Subscription(group, {
      sources,
      interface: iface === "-" ? undefined : iface,
      port: Number(portText),
    });
  } catch (error) {
    console.log(JSON.stringify({ error: (error as Error).message }));
    Deno.exit(0);
  }
  console.log("READY");
  let received = 0;
  const deadline = Date.now() + Number(msText);
  while (Date.now() < deadline) {
    if (await sub.waitReadable(50)) received += sub.receiveBatch();
  }
  sub.close();
  console.log(JSON.stringify({ received }));
} else if (mode === "querier") {
  const [iface, family, timeoutText] = args;
  await using watcher = QuerierWatcher.start(iface, family === "IPv6" ? "IPv6" : "IPv4");
  console.log("READY");
  const deadline = Date.now() + Number(timeoutText);
  while (watcher.querier === null && Date.now() < deadline) await sleep(100);
  console.log(JSON.stringify({
    querier: watcher.querier,
    queries: watcher.queries,
    listenedS: watcher.listenedS,
  }));
} else {
  console.error("usage: _diagnosis_peer.ts diagnose|querier …");
  Deno.exit(2);
}
