/**
 * Classic BPF socket filters: instructions encoded as `struct sock_filter`, a program as the
 * `struct sock_fprog` that points at them ({@linkcode BpfProgram}), and the one program the
 * library needs — UDP datagrams to one multicast group ({@linkcode udpToGroupProgram}).
 *
 * The program runs in the kernel on every frame the socket's interface receives, before the
 * frame is queued to the socket, so a packet socket with it pays for the group's datagrams only.
 * The offsets are those of a `SOCK_DGRAM` packet socket: 0 is the first byte of the IP header.
 *
 * @module
 */

import { InvalidValueError } from "./errors.ts";
import { LITTLE_ENDIAN, PLATFORM } from "./constants.ts";
import { addressOf, nativeBuffer } from "./_buffer.ts";
import type { RawAddress } from "./sockaddr.ts";

/** One classic BPF instruction (`struct sock_filter`). */
export interface BpfInstruction {
  /** The opcode (see {@linkcode BPF}). */
  readonly code: number;
  /** Instructions to skip when a jump's condition holds. */
  readonly jt: number;
  /** Instructions to skip when it does not. */
  readonly jf: number;
  /** The constant operand. */
  readonly k: number;
}

/** The classic BPF opcodes the library's programs use (`<linux/filter.h>`, the same on BSD). */
export const BPF = {
  /** `ld [k]`: the 32-bit word at offset k, network order. */
  LD_W_ABS: 0x20,
  /** `ldh [k]`: the 16-bit half-word at offset k. */
  LD_H_ABS: 0x28,
  /** `ldb [k]`: the byte at offset k. */
  LD_B_ABS: 0x30,
  /** `jeq #k, jt, jf`. */
  JEQ_K: 0x15,
  /** `ret #k`: keep k bytes of the packet (0: drop it). */
  RET_K: 0x06,
} as const;

/** IP protocol number of UDP. */
const UDP = 17;

/**
 * A classic BPF program: the instructions and the `struct sock_fprog` that points at them. The
 * program holds both buffers for its whole life, so the pointer stored inside the `sock_fprog`
 * stays valid for as long as anything can hand it to the kernel.
 *
 * @example Accept every packet
 * ```ts
 * import { BPF, BpfProgram } from "./bpf.ts";
 * const program = new BpfProgram([{ code: BPF.RET_K, jt: 0, jf: 0, k: 0xffff }]);
 * program.length; // 1
 * ```
 */
export class BpfProgram {
  /** Number of instructions. */
  readonly length: number;
  readonly #instructions: Uint8Array<ArrayBuffer>;
  readonly #fprog: Uint8Array<ArrayBuffer>;

  /**
   * Encodes a program.
   *
   * @param instructions The instructions; every jump must land inside the program, and the last
   *   instruction must be a `ret`.
   * @throws {InvalidValueError} When the program is empty, too long, jumps outside itself or does
   *   not end in `ret`.
   */
  constructor(instructions: readonly BpfInstruction[]) {
    const count = instructions.length;
    if (count === 0 || count > 4096) {
      throw new InvalidValueError("BPF program", `${count} instructions`, "1 to 4096");
    }
    if (instructions[count - 1].code !== BPF.RET_K) {
      throw new InvalidValueError("BPF program", "no final ret", "a program ending in ret");
    }
    const layout = PLATFORM.layout;
    const size = layout.sockFilterSize;
    this.#instructions = nativeBuffer(count * size);
    const view = new DataView(this.#instructions.buffer);
    instructions.forEach((instruction, i) => {
      if (i < count - 1 && i + 1 + Math.max(instruction.jt, instruction.jf) >= count) {
        throw new InvalidValueError("BPF jump", `instruction ${i}`, "a target inside the program");
      }
      const at = i * size;
      view.setUint16(at + layout.sockFilter.code, instruction.code, LITTLE_ENDIAN);
      view.setUint8(at + layout.sockFilter.jt, instruction.jt);
      view.setUint8(at + layout.sockFilter.jf, instruction.jf);
      view.setUint32(at + layout.sockFilter.k, instruction.k >>> 0, LITTLE_ENDIAN);
    });
    this.#fprog = nativeBuffer(layout.sockFprogSize);
    const fprog = new DataView(this.#fprog.buffer);
    fprog.setUint16(layout.sockFprog.length, count, LITTLE_ENDIAN);
    fprog.setBigUint64(layout.sockFprog.filter, addressOf(this.#instructions), LITTLE_ENDIAN);
    this.length = count;
  }

  /** The `struct sock_fprog` for `setsockopt(SO_ATTACH_FILTER)`; valid while this object lives. */
  get fprog(): Uint8Array<ArrayBuffer> {
    return this.#fprog;
  }
}

/**
 * The program that passes UDP datagrams to `group` (IPv4: protocol 17 and destination; IPv6:
 * next header 17 and destination, so datagrams behind extension headers are not seen) and keeps
 * their first `snapLength` bytes — enough for the IP and UDP headers.
 *
 * @example
 * ```ts
 * import { udpToGroupProgram } from "./bpf.ts";
 * const program = udpToGroupProgram({ family: "IPv4", bytes: Uint8Array.of(239, 1, 2, 3) });
 * program.length; // 6
 * ```
 *
 * @param group The group's family and bytes.
 * @param snapLength Bytes of each datagram to keep.
 * @returns The program.
 */
export function udpToGroupProgram(group: RawAddress, snapLength = 96): BpfProgram {
  const ipv4 = group.family === "IPv4";
  const words: number[] = [];
  for (let i = 0; i < group.bytes.length; i += 4) {
    words.push(new DataView(group.bytes.buffer, group.bytes.byteOffset + i, 4).getUint32(0));
  }
  // ldb protocol; jeq 17; then one ld/jeq pair per word of the destination; ret snap; ret 0.
  const last = 2 + 2 * words.length; // index of `ret snap`
  const program: BpfInstruction[] = [
    { code: BPF.LD_B_ABS, jt: 0, jf: 0, k: ipv4 ? 9 : 6 },
    { code: BPF.JEQ_K, jt: 0, jf: last - 1, k: UDP },
  ];
  const destination = ipv4 ? 16 : 24;
  words.forEach((word, i) => {
    const at = 2 + 2 * i + 1; // index of this jeq
    program.push({ code: BPF.LD_W_ABS, jt: 0, jf: 0, k: destination + 4 * i });
    program.push({ code: BPF.JEQ_K, jt: 0, jf: last - at, k: word });
  });
  program.push({ code: BPF.RET_K, jt: 0, jf: 0, k: snapLength });
  program.push({ code: BPF.RET_K, jt: 0, jf: 0, k: 0 });
  return new BpfProgram(program);
}
