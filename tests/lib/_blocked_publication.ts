// Lab peer for context_test.ts and async_publication_test.ts, run inside the sender namespace of
// `blockedEgress()` (_lab_peers.ts): publications whose socket has a 4 KiB SO_SNDBUF send 64-byte
// datagrams into a qdisc that never drains, so their buffer fills and stays full.
//
//   deno run --allow-all _blocked_publication.ts context <group> <port>
//   deno run --allow-all _blocked_publication.ts async <group> <port>
//
// context: publication 1 has the default buffer, publication 2 the tiny one; sends through
//   publication 2 until WouldBlockError, then sendAll once. Steps: "filled", "sendAll".
// async: takes the tiny-buffer publication into an AsyncPublication, fills it with trySend, then
//   tries the time limit, abort and invalid-option paths; prints "waiting" and sends with a 20 s
//   limit, which completes once the test deletes the qdisc. Steps: "filled", "timeout",
//   "timeoutZero", "invalid", "abort", "preAborted", "signalTimeout", "counters", "waiting",
//   "unblocked".
//
// Every loop is bounded by a count; every wait by a time limit.

import { AsyncPublication } from "../../lib/async_publication.ts";
import { Context } from "../../lib/context.ts";
import type { Publication, SendReport } from "../../lib/publication.ts";
import { PublicationConfig } from "../../lib/publication_config.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { borrow } from "../ffi/_sockets.ts";
import { describeError, emit, thrownBy } from "./_peer_report.ts";

const [mode, group, portText] = Deno.args;
const port = Number(portText);
const payload = new Uint8Array(64).fill(0x5a);
const MAX_FILL = 10_000;

function shrinkSendBuffer(publication: Publication): number {
  return borrow(publication.fd, (socket) => {
    socket.setInt(P.SOL_SOCKET, P.SO_SNDBUF, 4096, "SO_SNDBUF");
    return socket.getInt(P.SOL_SOCKET, P.SO_SNDBUF, "SO_SNDBUF");
  });
}

function counters(ctx: Context): Record<string, number> {
  const { capturedAt: _, ...rest } = ctx.metricsSnapshot();
  return rest;
}

if (mode === "context") {
  using ctx = new Context();
  const roomy = ctx.addPublication(new PublicationConfig(group, port));
  const tiny = ctx.addPublication(new PublicationConfig(group, port + 1));
  const sndbuf = shrinkSendBuffer(ctx.getPublication(tiny)!);
  let sent = 0;
  let error = null;
  while (sent < MAX_FILL) {
    try {
      ctx.send(tiny, payload);
      sent++;
    } catch (caught) {
      error = describeError(caught);
      break;
    }
  }
  emit("filled", { roomy, tiny, sndbuf, sent, error, counters: counters(ctx) });
  const out: SendReport[] = [];
  const sendAllError = await thrownBy(() => ctx.sendAll(payload, out));
  emit("sendAll", {
    error: sendAllError,
    reports: out.map((r) => ({ publicationId: r.publicationId, bytesSent: r.bytesSent })),
    counters: counters(ctx),
    tinyCounters: { ...ctx.getPublication(tiny)!.counters },
  });
} else if (mode === "async") {
  const ctx = new Context();
  const id = ctx.addPublication(new PublicationConfig(group, port));
  const sndbuf = shrinkSendBuffer(ctx.getPublication(id)!);
  using pub = new AsyncPublication(ctx.takePublication(id)!);
  let filled = 0;
  while (filled < MAX_FILL && pub.publication.trySend(payload) !== null) filled++;
  emit("filled", { sndbuf, filled, wouldBlocks: pub.publication.counters.wouldBlocks });

  const timed = async (step: string, fn: () => Promise<unknown>, extra = {}) => {
    const waitsBefore = pub.waits;
    const start = performance.now();
    const error = await thrownBy(fn);
    emit(step, {
      error,
      elapsedMs: performance.now() - start,
      waits: pub.waits - waitsBefore,
      ...extra,
    });
  };
  await timed("timeout", () => pub.send(payload, { timeoutMs: 300 }));
  await timed("timeoutZero", () => pub.send(payload, { timeoutMs: 0 }));
  const invalid = [];
  for (const timeoutMs of [-1, Number.NaN]) {
    invalid.push(await thrownBy(() => pub.send(payload, { timeoutMs })));
  }
  emit("invalid", { errors: invalid });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort("stop-now"), 150);
  // The time limit only bounds the run if the abort were ignored.
  await timed("abort", () => pub.send(payload, { signal: controller.signal, timeoutMs: 10_000 }));
  clearTimeout(timer);
  await timed("preAborted", () => pub.send(payload, { signal: AbortSignal.abort("early") }));
  await timed("signalTimeout", () => pub.send(payload, { signal: AbortSignal.timeout(150) }));
  emit("counters", { ...pub.publication.counters, waits: pub.waits });
  emit("waiting", {});
  const start = performance.now();
  try {
    const report = await pub.send(payload, { timeoutMs: 20_000 });
    emit("unblocked", {
      bytesSent: report.bytesSent,
      publicationId: report.publicationId,
      waitedMs: performance.now() - start,
      counters: { ...pub.publication.counters },
    });
  } catch (error) {
    emit("unblocked", { error: describeError(error) });
  }
} else {
  throw new Error(`Unknown mode: ${mode}`);
}
