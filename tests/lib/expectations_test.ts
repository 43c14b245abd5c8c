// Unit tests of the lab expectations of mcast-receive (lib/expectations.ts): pure evaluation of
// a receiver summary.

import assert from "node:assert/strict";
import { evaluateExpectations, expectationsMet, hasExpectations } from "../../lib/expectations.ts";
import type { ReceiverSummaryJson, SenderJson } from "../../lib/receiver_summary.ts";

function sender(overrides: Partial<SenderJson> = {}): SenderJson {
  return {
    sender_id: "00000000000000aa",
    source: "10.0.0.1",
    packets: 100,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    first_seq: 0,
    last_seq: 99,
    ttl: { received: 63, original: 64, hops: 1 },
    dscp: { received: "ef", original: "ef", remarked: false },
    jitter_ms: 0.1,
    ...overrides,
  };
}

function summary(
  totals: Partial<ReceiverSummaryJson["totals"]> = {},
  senders: SenderJson[] = [sender()],
): ReceiverSummaryJson {
  return {
    status: "RECEIVING",
    totals: {
      packets: 100,
      bytes: 20_000,
      lost: 0,
      duplicates: 0,
      reordered: 0,
      restarts: 0,
      foreign: 0,
      stalls: 0,
      ...totals,
    },
    senders,
    gaps: [],
  };
}

Deno.test("expectations: none given lists nothing and is met", () => {
  assert.equal(hasExpectations({}), false);
  assert.deepEqual(evaluateExpectations({}, summary()), []);
  assert.equal(expectationsMet([]), true);
});

Deno.test("expectations: zero values still count as given", () => {
  assert.equal(hasExpectations({ minPackets: 0 }), true);
  assert.equal(hasExpectations({ maxLoss: 0 }), true);
  assert.equal(hasExpectations({ expectDscp: 0 }), true);
  assert.equal(hasExpectations({ expectHops: 0 }), true);
});

Deno.test("expectations: min-packets is met at exactly N and not below", () => {
  const [met] = evaluateExpectations({ minPackets: 100 }, summary());
  assert.deepEqual(met, {
    name: "min-packets",
    ok: true,
    detail: "100 MCAS packets received, expected at least 100",
  });
  const [unmet] = evaluateExpectations({ minPackets: 101 }, summary());
  assert.equal(unmet.ok, false);
  assert.equal(expectationsMet([met, unmet]), false);
  const [one] = evaluateExpectations({ minPackets: 2 }, summary({ packets: 1 }));
  assert.equal(one.detail, "1 MCAS packet received, expected at least 2");
});

Deno.test("expectations: max-loss uses lost / (lost + unique), duplicates not unique", () => {
  // 100 packets of which 10 duplicates → 90 unique; 10 lost → 10 / 100 = 10%.
  const s = summary({ packets: 100, duplicates: 10, lost: 10 });
  assert.equal(evaluateExpectations({ maxLoss: 10 }, s)[0].ok, true);
  const [unmet] = evaluateExpectations({ maxLoss: 9.99 }, s);
  assert.equal(unmet.ok, false);
  assert.equal(unmet.name, "max-loss");
  assert.equal(unmet.detail, "loss 10% (10 of 100), expected at most 9.99%");
});

Deno.test("expectations: max-loss with nothing received is met and says so", () => {
  const [result] = evaluateExpectations({ maxLoss: 0 }, summary({ packets: 0 }, []));
  assert.equal(result.ok, true);
  assert.match(result.detail, /nothing received/);
});

Deno.test("expectations: expect-dscp needs every sender to match", () => {
  const ok = evaluateExpectations({ expectDscp: 46 }, summary())[0];
  assert.deepEqual(ok, { name: "expect-dscp", ok: true, detail: "the one sender received EF" });
  const remarked = sender({
    sender_id: "00000000000000bb",
    source: "10.0.0.2",
    dscp: { received: "af11", original: "ef", remarked: true },
  });
  const mixed = evaluateExpectations({ expectDscp: 46 }, summary({}, [sender(), remarked]))[0];
  assert.equal(mixed.ok, false);
  assert.equal(mixed.detail, "expected EF: 00000000000000bb from 10.0.0.2 received AF11");
  const af11 = evaluateExpectations({ expectDscp: 10 }, summary({}, [remarked]))[0];
  assert.equal(af11.ok, true);
  const unnamed = sender({ dscp: { received: 13, original: 13, remarked: false } });
  assert.equal(evaluateExpectations({ expectDscp: 13 }, summary({}, [unnamed]))[0].ok, true);
  const unknown = sender({ dscp: { received: null, original: 46, remarked: null } });
  const noTos = evaluateExpectations({ expectDscp: 46 }, summary({}, [unknown]))[0];
  assert.equal(noTos.ok, false);
  assert.match(noTos.detail, /nothing the kernel reported/);
});

Deno.test("expectations: expect-hops needs every sender N hops away", () => {
  assert.deepEqual(evaluateExpectations({ expectHops: 1 }, summary())[0], {
    name: "expect-hops",
    ok: true,
    detail: "the one sender 1 hop away",
  });
  const far = sender({
    sender_id: "00000000000000cc",
    ttl: { received: 60, original: 64, hops: 4 },
  });
  const two = evaluateExpectations({ expectHops: 1 }, summary({}, [sender(), far]))[0];
  assert.equal(two.ok, false);
  assert.equal(two.detail, "expected 1 hop: 00000000000000cc from 10.0.0.1 is 4 hops away");
  const zero = evaluateExpectations({ expectHops: 0 }, summary())[0];
  assert.equal(zero.ok, false);
  const noTtl = sender({ ttl: { received: null, original: 64, hops: null } });
  assert.match(
    evaluateExpectations({ expectHops: 0 }, summary({}, [noTtl]))[0].detail,
    /no received TTL/,
  );
});

Deno.test("expectations: no sender at all leaves expect-dscp and expect-hops unmet", () => {
  const results = evaluateExpectations(
    { expectDscp: 46, expectHops: 1 },
    summary({ packets: 0 }, []),
  );
  assert.deepEqual(results.map((r) => [r.name, r.ok]), [
    ["expect-dscp", false],
    ["expect-hops", false],
  ]);
  assert.match(results[0].detail, /no sender seen/);
  assert.match(results[1].detail, /no sender seen/);
});

Deno.test("expectations: results come in flag order, only those given", () => {
  const results = evaluateExpectations(
    { expectHops: 1, minPackets: 1, expectDscp: 46, maxLoss: 5 },
    summary(),
  );
  assert.deepEqual(results.map((r) => r.name), [
    "min-packets",
    "max-loss",
    "expect-dscp",
    "expect-hops",
  ]);
  assert.equal(expectationsMet(results), true);
});
