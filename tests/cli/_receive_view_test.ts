// Unit tests of mcast-receive's views (cli/_receive_view.ts): dashboard, status line and the
// sender texts, from hand-made summaries; no terminal needed.

import assert from "node:assert/strict";
import pc from "picocolors";
import {
  describeDscp,
  describeHops,
  NO_COLORS,
  querierText,
  type ReceiveViewState,
  renderDashboard,
  renderStartLine,
  renderStatusLine,
} from "../../cli/_receive_view.ts";
import type { ReceiverSummaryJson, SenderJson } from "../../lib/receiver_summary.ts";

const ESCAPE = new RegExp(String.fromCharCode(0x1b));

/** A sender's `ttl` for a stream whose every packet arrived with `received`. */
function ttlOf(received: number | null, original: number): SenderJson["ttl"] {
  return {
    received,
    original,
    hops: received === null ? null : original - received,
    min: received,
    max: received,
    changes: 0,
  };
}

/** A sender's `dscp` for a stream of `packets` that all arrived with `received`. */
function dscpOf(
  received: string | number | null,
  original: string | number,
  packets = 10,
): SenderJson["dscp"] {
  const remarked = received === null ? null : received !== original;
  return {
    received,
    original,
    remarked,
    remarked_packets: remarked ? packets : 0,
    seen: received === null ? {} : { [String(received)]: packets },
  };
}

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
    loss_pct: 1.538,
    rate_pps: 25,
    ttl: ttlOf(63, 64),
    dscp: dscpOf("af11", "ef", 64),
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
        loss_pct: 1.538,
        duplicates: 0,
        reordered: 0,
        restarts: 0,
        foreign: 2,
        stalls: 1,
        senders_evicted: 0,
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
    describeHops(ttlOf(63, 64)),
    "recv 63, sender set 64 — 1 hop away",
  );
  assert.equal(
    describeHops(ttlOf(96, 100)),
    "recv 96, sender set 100 — 4 hops away",
  );
  assert.match(describeHops(ttlOf(64, 64)), /same link \(0 hops\)/);
  assert.match(describeHops(ttlOf(null, 64)), /not reported/);
  assert.match(describeHops(ttlOf(70, 64)), /above the original/);
});

Deno.test("view: a mixed path shows the TTL range, its changes and the DSCP mix", () => {
  assert.equal(
    describeHops({ received: 63, original: 64, hops: 1, min: 58, max: 63, changes: 2 }),
    "TTL 58–63, 2 changes (last 63), sender set 64 — 1 to 6 hops away",
  );
  assert.equal(
    describeDscp({
      received: "ef",
      original: "ef",
      remarked: true,
      remarked_packets: 90,
      seen: { af11: 90, ef: 10 },
    }),
    "AF11 ×90, EF ×10, sender set EF — REMARKED (90 packets)",
  );
  const mixed = sender({
    ttl: { received: 63, original: 64, hops: 1, min: 58, max: 63, changes: 2 },
    dscp: {
      received: "ef",
      original: "ef",
      remarked: true,
      remarked_packets: 90,
      seen: { af11: 90, ef: 10 },
    },
  });
  const text = renderDashboard(state({}, { senders: [mixed] }), { colors: NO_COLORS });
  assert.ok(text.includes("TTL 58–63, 2 changes"), text);
  assert.ok(text.includes("AF11 ×90, EF ×10"), text);
});

Deno.test("view: DSCP texts", () => {
  assert.equal(
    describeDscp(dscpOf("af11", "ef")),
    "AF11, sender set EF — REMARKED",
  );
  assert.equal(
    describeDscp(dscpOf("be", "ef")),
    "BE, sender set EF — REMARKED",
  );
  assert.equal(
    describeDscp(dscpOf("ef", "ef")),
    "EF, sender set EF — preserved",
  );
  assert.equal(
    describeDscp(dscpOf(13, 13)),
    "13, sender set 13 — preserved",
  );
  assert.match(describeDscp(dscpOf(null, "ef")), /not reported/);
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
      // 64 datagrams from the first to the last in 6.3 s (the run took 12.5 s, WAITING first).
      activeS: 6.3,
      expectations: [
        { name: "min-packets", ok: true, detail: "64 MCAS packets received, expected at least 10" },
        { name: "expect-hops", ok: false, detail: "expected 0 hops: …" },
      ],
    }),
    { colors: NO_COLORS },
  );
  assert.ok(final.includes("ran 12.5s"));
  assert.ok(final.includes("average 10 pps"), final);
  assert.ok(final.includes("(first to last MCAS datagram)"), final);
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

Deno.test("view: the querier line — heard, none heard, not listened for", () => {
  const base = { protocol: "IGMP" as const, watched: true, skipped: null, listenedS: 42 };
  const heard = { address: "10.0.1.2", version: 2, last_seen_s: 3.1 };
  assert.equal(querierText({ ...base, querier: heard }), "10.0.1.2 IGMPv2, last query 3.1s ago");
  assert.equal(querierText({ ...base, querier: null }), "none heard in 42.0s since the join");
  assert.equal(
    querierText({ ...base, protocol: "MLD", watched: false, skipped: "needs root", querier: null }),
    "not listened for (needs root)",
  );
  const text = renderDashboard(
    state({ querier: { ...base, querier: heard } }),
    { colors: NO_COLORS },
  );
  assert.match(text, /^querier {2}10\.0\.1\.2 IGMPv2, last query 3\.1s ago$/m);
});

Deno.test("view: why nothing arrives — the top finding and its fix, or that a check runs", () => {
  const top = {
    id: "rp-filter",
    severity: "error" as const,
    message: "Reverse-path filtering drops 10.0.0.1 on eth1",
    fix: "sysctl -w net.ipv4.conf.eth1.rp_filter=2",
  };
  const text = renderDashboard(
    state({ diagnosis: { running: false, top, count: 3 } }),
    { colors: NO_COLORS },
  );
  assert.match(
    text,
    /^why {6}rp-filter: Reverse-path filtering drops 10\.0\.0\.1 on eth1 \(\+2 more, see --json\)$/m,
  );
  assert.match(text, /^fix {6}sysctl -w net\.ipv4\.conf\.eth1\.rp_filter=2$/m);
  const running = renderDashboard(
    state({ diagnosis: { running: true, top: null, count: 0 } }),
    { colors: NO_COLORS },
  );
  assert.match(running, /^why {6}checking why nothing arrives…$/m);
  assert.doesNotMatch(renderDashboard(state(), { colors: NO_COLORS }), /^(why|querier) /m);
});
