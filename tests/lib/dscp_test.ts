import assert from "node:assert/strict";
import {
  DSCP_VALUES,
  dscpName,
  dscpToTos,
  formatDscp,
  parseDscp,
  tosToDscp,
} from "../../lib/dscp.ts";
import { InvalidValueError } from "../../lib/errors.ts";

const NAMED: [string, number][] = [
  ["be", 0],
  ["cs0", 0],
  ["le", 1],
  ["cs1", 8],
  ["af11", 10],
  ["af12", 12],
  ["af13", 14],
  ["cs2", 16],
  ["af21", 18],
  ["af22", 20],
  ["af23", 22],
  ["cs3", 24],
  ["af31", 26],
  ["af32", 28],
  ["af33", 30],
  ["cs4", 32],
  ["af41", 34],
  ["af42", 36],
  ["af43", 38],
  ["cs5", 40],
  ["va", 44],
  ["ef", 46],
  ["cs6", 48],
  ["cs7", 56],
];

Deno.test("parseDscp() reads every name, in any case", () => {
  for (const [name, value] of NAMED) {
    assert.equal(parseDscp(name), value, name);
    assert.equal(parseDscp(name.toUpperCase()), value, name);
    assert.equal(DSCP_VALUES[name], value, name);
  }
  assert.equal(parseDscp("Ef"), 46);
  assert.equal(Object.keys(DSCP_VALUES).length, NAMED.length);
});

Deno.test("parseDscp() reads numbers and decimal text from 0 to 63", () => {
  for (let value = 0; value <= 63; value++) {
    assert.equal(parseDscp(value), value);
    assert.equal(parseDscp(String(value)), value);
  }
});

Deno.test("parseDscp() refuses everything else", () => {
  const invalid: (string | number)[] = [
    "",
    "64",
    "-1",
    "1.5",
    "046",
    "0x2e",
    " ef",
    "ef ",
    "cs8",
    "af14",
    "af51",
    "af10",
    "ax11",
    "expedited",
    "default",
    "NaN",
    "constructor",
    "toString",
    "__proto__",
    64,
    -1,
    1.5,
    NaN,
    Infinity,
  ];
  for (const value of invalid) {
    assert.throws(() => parseDscp(value), (error: unknown) => {
      assert.ok(error instanceof InvalidValueError, String(value));
      assert.equal(error.what, "dscp");
      assert.equal(error.value, value);
      return true;
    }, String(value));
  }
});

Deno.test("dscpName() and formatDscp() prefer names", () => {
  const table: [number, string | number, string][] = [
    [0, "be", "BE"],
    [1, "le", "LE"],
    [8, "cs1", "CS1"],
    [10, "af11", "AF11"],
    [34, "af41", "AF41"],
    [38, "af43", "AF43"],
    [40, "cs5", "CS5"],
    [44, "va", "VA"],
    [46, "ef", "EF"],
    [56, "cs7", "CS7"],
    [13, 13, "13"],
    [63, 63, "63"],
    [2, 2, "2"],
  ];
  for (const [value, name, display] of table) {
    assert.equal(dscpName(value), name, String(value));
    assert.equal(formatDscp(value), display, String(value));
  }
  for (const [name, value] of NAMED) {
    if (name !== "cs0") assert.equal(dscpName(value), name);
  }
  for (const value of [-1, 64, 2.5, NaN]) {
    assert.throws(() => dscpName(value), InvalidValueError);
    assert.throws(() => formatDscp(value), InvalidValueError);
  }
});

Deno.test("dscpToTos() and tosToDscp() shift by two bits", () => {
  assert.equal(dscpToTos(46), 0xb8);
  assert.equal(dscpToTos(0), 0);
  assert.equal(dscpToTos(63), 0xfc);
  assert.equal(tosToDscp(0xb8), 46);
  assert.equal(tosToDscp(0xbb), 46);
  assert.equal(tosToDscp(255), 63);
  for (let dscp = 0; dscp <= 63; dscp++) assert.equal(tosToDscp(dscpToTos(dscp)), dscp);
  for (const value of [-1, 64, 0.5]) assert.throws(() => dscpToTos(value), InvalidValueError);
  for (const value of [-1, 256, 0.5]) assert.throws(() => tosToDscp(value), InvalidValueError);
});
