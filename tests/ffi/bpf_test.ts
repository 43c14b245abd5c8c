// Tests of the classic BPF encoding (ffi/bpf.ts): struct sock_filter bytes, the sock_fprog that
// points at them (kept alive by the program), jump checks, and the group filter's instructions.
// What the filter passes on a live interface is tested in the diagnosis lab tests.

import assert from "node:assert/strict";
import { BPF, BpfProgram, udpToGroupProgram } from "../../ffi/bpf.ts";
import { InvalidValueError } from "../../ffi/errors.ts";

function instructions(program: BpfProgram): number[][] {
  const view = new DataView(program.fprog.buffer);
  const count = view.getUint16(0, true);
  const pointer = Deno.UnsafePointer.create(view.getBigUint64(8, true));
  assert.ok(pointer !== null);
  const code = new Deno.UnsafePointerView(pointer);
  const out: number[][] = [];
  for (let i = 0; i < count; i++) {
    out.push([
      code.getUint16(i * 8),
      code.getUint8(i * 8 + 2),
      code.getUint8(i * 8 + 3),
      code.getUint32(i * 8 + 4),
    ]);
  }
  return out;
}

Deno.test("udpToGroupProgram: protocol, then every word of the destination, then ret", () => {
  const v4 = udpToGroupProgram({ family: "IPv4", bytes: Uint8Array.of(239, 1, 2, 3) }, 96);
  assert.deepEqual(instructions(v4), [
    [BPF.LD_B_ABS, 0, 0, 9],
    [BPF.JEQ_K, 0, 3, 17],
    [BPF.LD_W_ABS, 0, 0, 16],
    [BPF.JEQ_K, 0, 1, 0xef010203],
    [BPF.RET_K, 0, 0, 96],
    [BPF.RET_K, 0, 0, 0],
  ]);
  const group6 = new Uint8Array(16);
  group6.set([0xff, 0x3e]);
  group6[15] = 1;
  const v6 = instructions(udpToGroupProgram({ family: "IPv6", bytes: group6 }));
  assert.equal(v6.length, 12);
  assert.deepEqual(v6[0], [BPF.LD_B_ABS, 0, 0, 6]);
  assert.deepEqual(v6.filter((i) => i[0] === BPF.LD_W_ABS).map((i) => i[3]), [24, 28, 32, 36]);
  assert.deepEqual(
    v6.filter((i) => i[0] === BPF.JEQ_K).map((i) => [i[3], 1 + v6.indexOf(i) + i[2]]),
    [
      [17, 11],
      [0xff3e0000, 11],
      [0, 11],
      [0, 11],
      [1, 11],
    ],
  );
});

Deno.test("BpfProgram refuses empty programs, jumps out of them and a last instruction not ret", () => {
  const ret = { code: BPF.RET_K, jt: 0, jf: 0, k: 0 };
  assert.throws(() => new BpfProgram([]), InvalidValueError);
  assert.throws(
    () => new BpfProgram([{ code: BPF.JEQ_K, jt: 0, jf: 1, k: 1 }, ret]),
    InvalidValueError,
  );
  assert.throws(
    () => new BpfProgram([{ code: BPF.LD_B_ABS, jt: 0, jf: 0, k: 9 }]),
    InvalidValueError,
  );
  assert.equal(new BpfProgram([{ code: BPF.JEQ_K, jt: 0, jf: 0, k: 1 }, ret]).length, 2);
});

Deno.test("the sock_fprog's pointer stays valid across garbage collections", () => {
  const program = udpToGroupProgram({ family: "IPv4", bytes: Uint8Array.of(232, 1, 1, 1) });
  const before = instructions(program);
  for (let i = 0; i < 20; i++) {
    new Array(10_000).fill(0).map((_, j) => new Uint8Array(j % 64));
    (globalThis as { gc?: () => void }).gc?.();
  }
  assert.deepEqual(instructions(program), before);
});
