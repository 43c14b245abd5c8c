import assert from "node:assert/strict";
import { formatBitrate, formatDuration, progressBar, sparkline } from "../../cli/_dashboard.ts";

Deno.test("sparkline scales to the maximum and keeps one cell per value", () => {
  assert.equal(sparkline([0, 1, 2, 4, 8]), "▁▁▂▄█");
  assert.equal(sparkline([0, 0, 0]), "▁▁▁");
  assert.equal(sparkline([]), "");
  assert.equal(sparkline([5, 5]), "██");
});

Deno.test("progressBar fills in proportion and clamps nonsense", () => {
  assert.equal(progressBar(0.5, 10), "█████░░░░░");
  assert.equal(progressBar(0, 4), "░░░░");
  assert.equal(progressBar(1, 4), "████");
  assert.equal(progressBar(7, 4), "████");
  assert.equal(progressBar(-1, 4), "░░░░");
  assert.equal(progressBar(Number.NaN, 4), "░░░░");
});

Deno.test("formatBitrate picks the unit", () => {
  assert.equal(formatBitrate(0), "0 bps");
  assert.equal(formatBitrate(999), "999 bps");
  assert.equal(formatBitrate(40_000), "40.00 kbps");
  assert.equal(formatBitrate(1_200_000), "1.20 Mbps");
  assert.equal(formatBitrate(2.5e9), "2.50 Gbps");
  assert.equal(formatBitrate(3e12), "3000.00 Gbps");
});

Deno.test("formatDuration reads like a clock", () => {
  assert.equal(formatDuration(0), "0.0s");
  assert.equal(formatDuration(42.04), "42.0s");
  assert.equal(formatDuration(65), "1m05s");
  assert.equal(formatDuration(3600 + 120), "1h02m");
});
