// Unit tests of mcast-receive's views (cli/_receive_view.ts): dashboard, status line and the
// sender texts, from hand-made summaries; no terminal needed.

import assert from "node:assert/strict";
import pc from "picocolors";
import {
  describeDscp,
  describeHops,
  NO_COLORS,
  RateHistory,
  type ReceiveViewState,
  renderDashboard,
  renderStartLine,
  renderStatusLine,
} from "../../cli/_receive_view.ts";
import type { ReceiverSummaryJson, SenderJson } from "../../lib/receiver_summary.ts";

const ESCAPE = new RegExp(String.fromCharCode(0x1b));

function sender(overrides: Partial<SenderJson> = {}): SenderJson {
  return {
    sender_id: "0123456789abcdef",
    source: "10.100.1.1",
    packets: 64,
    lost: 1,
    duplicates: 0,
    reordered: 0,
    first_seq: 0,
    last_seq: 64,
    ttl: { received: 63, original: 64, hops: 1 },
    dscp: { received: "af11", original: "ef", remarked: true },
    jitter_ms: 0.123,
    ...overrides,
  };
}

function state(overrides: Partial<ReceiveViewState> = {}, summary?: Partial<ReceiverSummaryJson>) {
  const base: ReceiveViewState = {
    version: "0.1.0",
    group: "239.1.2.3",
    source: null,
    port: 19779,
    interface: "veth0",
    membership: "IGMPv3",
    elapsedS: 12.5,
    durationS: 0,
    rate: { pps: 25, bps: 40_000, history: [0, 10, 25, 25] },
    summary: {
      status: "RECEIVING",
      totals: {
        packets: 64,
        bytes: 12_800,
        lost: 1,
        duplicates: 0,
        reordered: 0,
        restarts: 0,
        foreign: 2,
        stalls: 1,
      },
      senders: [sender()],
      gaps: [{ started_at: "2024-05-01T12:00:03.250Z", duration_s: 3.5 }],
      ...summary,
    },
    expectations: null,
    final: false,
  };
  return { ...base, ...overrides };
}

Deno.test("view: hop texts", () => {
  assert.equal(
    describeHops({ received: 63, original: 64, hops: 1 }),
    "recv 63, sender set 64 — 1 hop away",
  );
  assert.equal(
    describeHops({ received: 96, original: 100, hops: 4 }),
    "recv 96, sender set 100 — 4 hops away",
  );
  assert.match(describeHops({ received: 64, original: 64, hops: 0 }), /same link \(0 hops\)/);
  assert.match(describeHops({ received: null, original: 64, hops: null }), /not reported/);
  assert.match(describeHops({ received: 70, original: 64, hops: -6 }), /above the original/);
});

Deno.test("view: DSCP texts", () => {
  assert.equal(
    describeDscp({ received: "af11", original: "ef", remarked: true }),
    "AF11, sender set EF — REMARKED",
  );
  assert.equal(
    describeDscp({ received: "be", original: "ef", remarked: true }),
    "BE, sender set EF — REMARKED",
  );
  assert.equal(
    describeDscp({ received: "ef", original: "ef", remarked: false }),
    "EF, sender set EF — preserved",
  );
  assert.equal(
    describeDscp({ received: 13, original: 13, remarked: false }),
    "13, sender set 13 — preserved",
  );
  assert.match(describeDscp({ received: null, original: "ef", remarked: null }), /not reported/);
});

Deno.test("view: dashboard without colours has no escape codes and shows the essentials", () => {
  const text = renderDashboard(state(), { colors: NO_COLORS });
  assert.doesNotMatch(text, ESCAPE);
  for (
    const expected of [
      "RECEIVING",
      "(*, 239.1.2.3) ASM",
      "port 19779",
      "on veth0",
      "IGMPv3",
      "25 pps",
      "40.00 kbps",
      "recv 63, sender set 64 — 1 hop away",
      "AF11, sender set EF — REMARKED",
      "lost 1 (1.54%)",
      "foreign 2",
      "stalls 1",
      "jitter 0.123 ms",
      "12:00:03.250 UTC",
      "silent 3.5s",
      "Ctrl-C to stop",
    ]
  ) {
    assert.ok(text.includes(expected), `missing ${JSON.stringify(expected)} in:\n${text}`);
  }
  // A sparkline of the recent rate.
  assert.match(text, /[▁▂▃▄▅▆▇█]{4}/);
});

Deno.test("view: dashboard with colours colours the status", () => {
  const colored = pc.createColors(true);
  const text = renderDashboard(state(), { colors: colored });
  assert.match(text, ESCAPE);
  assert.ok(text.includes(colored.green(" RECEIVING ")));
  const stalled = renderDashboard(state({}, { status: "STALLED" }), { colors: colored });
  assert.ok(stalled.includes(colored.red(" STALLED ")));
  const waiting = renderDashboard(
    state({}, { status: "WAITING", senders: [], gaps: [] }),
    { colors: colored },
  );
  assert.ok(waiting.includes(colored.yellow(" WAITING ")));
});

Deno.test("view: waiting, SSM, many senders, final frame with expectations", () => {
  const waiting = renderDashboard(
    state({ source: "10.0.0.1", group: "232.1.1.1" }, { status: "WAITING", senders: [], gaps: [] }),
    { colors: NO_COLORS },
  );
  assert.ok(waiting.includes("(10.0.0.1, 232.1.1.1) SSM"));
  assert.ok(waiting.includes("waiting for MCAS datagrams"));

  const many = Array.from({ length: 9 }, (_, i) => sender({ source: `10.0.0.${i + 1}` }));
  const listed = renderDashboard(state({}, { senders: many }), { colors: NO_COLORS });
  assert.ok(listed.includes("… and 3 more"));

  const final = renderDashboard(
    state({
      final: true,
      expectations: [
        { name: "min-packets", ok: true, detail: "64 MCAS packets received, expected at least 10" },
        { name: "expect-hops", ok: false, detail: "expected 0 hops: …" },
      ],
    }),
    { colors: NO_COLORS },
  );
  assert.ok(final.includes("ran 12.5s"));
  assert.ok(final.includes("average 5.1 pps"));
  assert.match(final, /✔ met\s+min-packets/);
  assert.match(final, /✘ unmet expect-hops/);
  assert.ok(!final.includes("Ctrl-C"));
});

Deno.test("view: an ongoing stall is shown as such", () => {
  const text = renderDashboard(state({}, { status: "STALLED" }), { colors: NO_COLORS });
  assert.ok(text.includes("silent for 3.5s so far"));
});

Deno.test("view: status and start lines are plain", () => {
  const line = renderStatusLine(state());
  assert.doesNotMatch(line, ESCAPE);
  assert.equal(line.includes("\n"), false);
  assert.equal(
    line,
    "[12.5s] RECEIVING (*, 239.1.2.3) ASM on veth0: 64 packets, 25 pps, 40.00 kbps, lost 1, " +
      "dup 0, reord 0, restarts 0, foreign 2, stalls 1, senders 1",
  );
  assert.equal(
    renderStartLine(state({ durationS: 3 })),
    "mcast-receive 0.1.0: joined (*, 239.1.2.3) ASM port 19779 on veth0, IGMPv3; " +
      "receiving for 3.0s",
  );
});

Deno.test("view: rate history derives per-second figures and keeps a bounded history", () => {
  const rate = new RateHistory(3);
  rate.sample(0, 0, 0);
  rate.sample(500, 10, 2000); // less than a second: no figure yet
  assert.equal(rate.view().pps, 0);
  rate.sample(1000, 25, 5000);
  assert.deepEqual(rate.view(), { pps: 25, bps: 40_000, history: [25] });
  for (let s = 2; s <= 5; s++) rate.sample(s * 1000, 25 + (s - 1) * 50, 0);
  assert.deepEqual(rate.view().history, [50, 50, 50]);
  // Counters never go backwards in the figures.
  rate.sample(6000, 0, 0);
  assert.equal(rate.view().pps, 0);
});

Deno.test("view: a same-host sender's one-way delay is shown, others' is not", () => {
  const plain = renderDashboard(state(), { colors: NO_COLORS });
  assert.doesNotMatch(plain, /delay/);
  const latencyMs = new Map([["0123456789abcdef", { min: 0.005, avg: 0.012, max: 1.5 }]]);
  const withDelay = renderDashboard(state({ latencyMs }), { colors: NO_COLORS });
  assert.ok(
    withDelay.includes("delay 12 µs avg, 5 µs min, 1.50 ms max (one-way, same host)"),
    withDelay,
  );
  const other = new Map([["fedcba9876543210", { min: 1, avg: 1, max: 1 }]]);
  assert.doesNotMatch(renderDashboard(state({ latencyMs: other }), { colors: NO_COLORS }), /delay/);
});
