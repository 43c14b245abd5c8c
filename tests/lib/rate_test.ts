import assert from "node:assert/strict";
import { InvalidValueError } from "../../lib/errors.ts";
import { formatRate, packetsPerSecond, parseRate, type Rate } from "../../lib/rate.ts";

Deno.test("parseRate() reads every unit", () => {
  const table: [string, Rate][] = [
    ["25pps", { kind: "pps", pps: 25 }],
    ["1pps", { kind: "pps", pps: 1 }],
    ["0.5pps", { kind: "pps", pps: 0.5 }],
    ["10kpps", { kind: "pps", pps: 10_000 }],
    ["1.1kpps", { kind: "pps", pps: 1100 }],
    ["2Mpps", { kind: "pps", pps: 2_000_000 }],
    ["100Mpps", { kind: "pps", pps: 100_000_000 }],
    ["100000000pps", { kind: "pps", pps: 100_000_000 }],
    ["25PPS", { kind: "pps", pps: 25 }],
    ["10KPPS", { kind: "pps", pps: 10_000 }],
    ["800bps", { kind: "bps", bitsPerSecond: 800 }],
    ["64kbps", { kind: "bps", bitsPerSecond: 64_000 }],
    ["1Mbps", { kind: "bps", bitsPerSecond: 1_000_000 }],
    ["1mbps", { kind: "bps", bitsPerSecond: 1_000_000 }],
    ["1.5Mbps", { kind: "bps", bitsPerSecond: 1_500_000 }],
    ["0.1Mbps", { kind: "bps", bitsPerSecond: 100_000 }],
    ["2.25Gbps", { kind: "bps", bitsPerSecond: 2_250_000_000 }],
    ["1000Gbps", { kind: "bps", bitsPerSecond: 1e12 }],
    ["007pps", { kind: "pps", pps: 7 }],
    ["max", { kind: "max" }],
    ["MAX", { kind: "max" }],
  ];
  for (const [text, expected] of table) assert.deepEqual(parseRate(text), expected, text);
});

Deno.test("parseRate() refuses bad rates with InvalidValueError", () => {
  const invalid = [
    "",
    "0pps",
    "0.0Mbps",
    "-5pps",
    "+5pps",
    "25",
    "pps",
    "NaNpps",
    "Infinitypps",
    "1e3pps",
    "1.pps",
    ".5pps",
    "25 pps",
    " 25pps",
    "25pps ",
    "25pp",
    "25Bps",
    "25kBps",
    "1MBPS",
    "25Tbps",
    "25ppm",
    "1,000pps",
    "100000001pps",
    "101Mpps",
    "1001Gbps",
    "1.5.2Mbps",
    "maximum",
    "0x10pps",
    "٣pps",
  ];
  for (const text of invalid) {
    assert.throws(() => parseRate(text), (error: unknown) => {
      assert.ok(error instanceof InvalidValueError, text);
      assert.equal(error.what, "rate");
      assert.equal(error.value, text);
      assert.match(error.message, /^Invalid rate: /);
      return true;
    }, text);
  }
});

Deno.test("packetsPerSecond() converts bit rates with the payload size", () => {
  assert.equal(packetsPerSecond(parseRate("25pps"), 200), 25);
  assert.equal(packetsPerSecond(parseRate("1Mbps"), 1250), 100);
  assert.equal(packetsPerSecond(parseRate("1.6kbps"), 200), 1);
  assert.equal(packetsPerSecond(parseRate("1Gbps"), 32), 1e9 / 256);
  assert.equal(packetsPerSecond(parseRate("max"), 200), null);
  for (const size of [0, -1, 1.5, NaN]) {
    assert.throws(() => packetsPerSecond(parseRate("25pps"), size), InvalidValueError);
  }
});

Deno.test("formatRate() picks the largest exact unit and round-trips", () => {
  const table: [Rate, string][] = [
    [{ kind: "pps", pps: 25 }, "25pps"],
    [{ kind: "pps", pps: 0.5 }, "0.5pps"],
    [{ kind: "pps", pps: 1500 }, "1.5kpps"],
    [{ kind: "pps", pps: 10_000 }, "10kpps"],
    [{ kind: "pps", pps: 2_000_000 }, "2Mpps"],
    [{ kind: "pps", pps: 1234.5678 }, "1234.5678pps"],
    [{ kind: "bps", bitsPerSecond: 1_500_000 }, "1.5Mbps"],
    [{ kind: "bps", bitsPerSecond: 1_234_567 }, "1234.567kbps"],
    [{ kind: "bps", bitsPerSecond: 1e12 }, "1000Gbps"],
    [{ kind: "bps", bitsPerSecond: 800 }, "800bps"],
    [{ kind: "max" }, "max"],
  ];
  for (const [rate, expected] of table) assert.equal(formatRate(rate), expected, expected);
  for (const text of ["25pps", "1.5kpps", "1.5Mbps", "64kbps", "max", "1234.567kbps"]) {
    assert.equal(formatRate(parseRate(text)), text);
  }
});
