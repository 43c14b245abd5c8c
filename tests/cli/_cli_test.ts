import assert from "node:assert/strict";
import { InvalidArgumentError } from "commander";
import {
  colorWanted,
  createProgram,
  integerIn,
  numberIn,
  parser,
  VERSION,
} from "../../cli/_cli.ts";
import { parseDscp } from "../../lib/dscp.ts";
import denoJson from "../../deno.json" with { type: "json" };

Deno.test("VERSION is deno.json's", () => {
  assert.equal(VERSION, denoJson.version);
});

Deno.test("integerIn accepts integers in range and refuses the rest, naming the range", () => {
  const ttl = integerIn("ttl", 1, 255);
  assert.equal(ttl("1"), 1);
  assert.equal(ttl("255"), 255);
  assert.equal(ttl(" 64 "), 64);
  for (const bad of ["0", "256", "-1", "1.5", "1e2", "0x10", "", "abc", "99999999999999999999"]) {
    assert.throws(
      () => ttl(bad),
      (e: unknown) =>
        e instanceof InvalidArgumentError && /ttl must be an integer from 1 to 255/.test(e.message),
    );
  }
});

Deno.test("numberIn accepts decimals in range and refuses the rest", () => {
  const seconds = numberIn("duration", 0, 100);
  assert.equal(seconds("0"), 0);
  assert.equal(seconds("2.5"), 2.5);
  assert.equal(seconds(".5"), 0.5);
  for (const bad of ["-1", "100.1", "NaN", "Infinity", "1e3", "", "1,5"]) {
    assert.throws(() => seconds(bad), InvalidArgumentError, bad);
  }
});

Deno.test("parser turns a library InvalidValueError into commander's one-line error", () => {
  const dscp = parser(parseDscp);
  assert.equal(dscp("ef"), 46);
  assert.throws(
    () => dscp("af99"),
    (e: unknown) => e instanceof InvalidArgumentError && /af11\.\.af43/.test(e.message),
  );
});

Deno.test("createProgram adds the examples to the help", () => {
  const program = createProgram("demo-tool", "Does a thing", ["demo-tool --flag"]);
  let help = "";
  program.configureOutput({ writeOut: (text) => (help += text) });
  program.outputHelp();
  assert.match(help, /Usage: demo-tool/);
  assert.match(help, /Examples:\n {2}demo-tool --flag/);
  assert.match(help, /-V, --version/);
});

Deno.test("colorWanted needs a terminal and no NO_COLOR", () => {
  const tty = { isTerminal: () => true };
  const pipe = { isTerminal: () => false };
  const saved = Deno.env.get("NO_COLOR");
  try {
    Deno.env.delete("NO_COLOR");
    assert.equal(colorWanted(tty), true);
    assert.equal(colorWanted(pipe), false);
    Deno.env.set("NO_COLOR", "1");
    assert.equal(colorWanted(tty), false);
  } finally {
    if (saved === undefined) Deno.env.delete("NO_COLOR");
    else Deno.env.set("NO_COLOR", saved);
  }
});
