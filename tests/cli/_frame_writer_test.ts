import assert from "node:assert/strict";
import { FrameWriter, visibleWidth } from "../../cli/_frame_writer.ts";

// The synchronized-output brackets (ESC [ ? 2026 h / l) around each frame.
// deno-lint-ignore no-control-regex
const SYNC = /\x1b\[\?2026[hl]/g;

function writer(columns = 80, rows = 24) {
  const out: string[] = [];
  const size = { columns, rows };
  const frames = new FrameWriter((text) => out.push(text.replace(SYNC, "")), () => size);
  return { frames, out, size };
}

Deno.test("visibleWidth counts cells, not escape sequences", () => {
  assert.equal(visibleWidth("abc"), 3);
  assert.equal(visibleWidth("\x1b[32mok\x1b[39m █░"), 5);
  assert.equal(visibleWidth(""), 0);
});

Deno.test("FrameWriter writes the first frame whole and an unchanged one not at all", () => {
  const { frames, out } = writer();
  assert.equal(frames.update("a\nb\nc"), true);
  assert.deepEqual(out, ["a\nb\nc\n"]);
  assert.equal(frames.height, 3);
  assert.equal(frames.update("a\nb\nc\n"), false);
  assert.equal(out.length, 1);
});

Deno.test("FrameWriter rewrites only the line that changed, in place", () => {
  const { frames, out } = writer();
  frames.update("head\nmiddle 1\ntail");
  frames.update("head\nmiddle 2\ntail");
  // Up 2 rows from below the frame to "middle", erase it, write it, back down 2 rows.
  assert.equal(out[1], "\r\x1b[2A\x1b[2Kmiddle 2\x1b[K\r\x1b[2B");
  assert.doesNotMatch(out[1], /head|tail/);
});

Deno.test("FrameWriter rewrites from the first changed line when the line count changes", () => {
  const { frames, out } = writer();
  frames.update("one\ntwo\nthree");
  frames.update("one\nTWO");
  assert.equal(out[1], "\r\x1b[2A\x1b[2KTWO\x1b[K\n\x1b[2K\n\x1b[1A");
  assert.equal(frames.height, 2);
});

Deno.test("FrameWriter counts a line wider than the terminal as the rows it wraps to", () => {
  const { frames, out } = writer(10, 24);
  frames.update("x".repeat(25) + "\nend");
  assert.equal(frames.height, 4);
  frames.update("x".repeat(25) + "\nEND");
  assert.equal(out[1], "\r\x1b[1A\x1b[2KEND\x1b[K\r\x1b[1B");
});

Deno.test("FrameWriter keeps a frame taller than the terminal to its bottom lines", () => {
  const { frames, out } = writer(80, 4);
  frames.update("1\n2\n3\n4\n5\n6");
  assert.deepEqual(out, ["4\n5\n6\n"]);
  assert.equal(frames.height, 3);
});

Deno.test("FrameWriter starts over below after done()", () => {
  const { frames, out } = writer();
  frames.update("a");
  frames.done();
  frames.update("a");
  assert.deepEqual(out, ["a\n", "a\n"]);
});
