// Unit tests of the recent receive rate of mcast-receive's views (cli/_rate_history.ts): the
// rate over the last second, from the first samples on (not a second late), and a bounded
// history of per-second figures.

import assert from "node:assert/strict";
import { RateHistory } from "../../cli/_rate_history.ts";

Deno.test("rate history: the rate over the last second, at once, and per-second figures", () => {
  const rate = new RateHistory(3);
  rate.sample(0, 0, 0);
  assert.equal(rate.view().pps, 0, "one sample: no span yet");
  rate.sample(100, 2, 400);
  assert.equal(rate.view().pps, 0, "a span under 0.2 s says nothing yet");
  rate.sample(500, 10, 2000); // half a second: 20 pps over what there is
  assert.equal(rate.view().pps, 20);
  assert.equal(rate.view().bps, 32_000);
  rate.sample(1000, 25, 5000);
  assert.deepEqual(rate.view(), { pps: 25, bps: 40_000, history: [25] });
  // A quarter-second tick: the window keeps the last second.
  for (let t = 1250; t <= 5000; t += 250) rate.sample(t, 25 + ((t - 1000) / 1000) * 50, 0);
  assert.equal(rate.view().pps, 50);
  assert.deepEqual(rate.view().history, [50, 50, 50]);
});

Deno.test("rate history: a burst shows within the next tick, a silence within a second", () => {
  const rate = new RateHistory(30);
  let packets = 0;
  for (let t = 0; t <= 2000; t += 250) rate.sample(t, packets += 25, 0); // 100 pps
  assert.equal(rate.view().pps, 100);
  for (let t = 2250; t <= 3250; t += 250) rate.sample(t, packets, 0); // nothing for a second
  assert.equal(rate.view().pps, 0);
});

Deno.test("rate history: counters never go backwards in the figures", () => {
  const rate = new RateHistory(3);
  rate.sample(0, 100, 100);
  rate.sample(1000, 0, 0);
  assert.equal(rate.view().pps, 0);
  assert.deepEqual(rate.view().history, [0]);
});
