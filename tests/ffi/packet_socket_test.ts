// Tests of the packet and raw sockets (ffi/packet_socket.ts, ffi/raw_socket.ts): argument checks
// without root; in a namespace, open, receive nothing, close twice, refuse use after close. What
// they see on a live link is tested by the diagnosis lab tests (tests/lib/diagnosis_lab_test.ts).

import assert from "node:assert/strict";
import { labTest } from "../lab/mod.ts";
import { udpToGroupProgram } from "../../ffi/bpf.ts";
import { InvalidValueError } from "../../ffi/errors.ts";
import { PacketSocket } from "../../ffi/packet_socket.ts";
import { RawSocket } from "../../ffi/raw_socket.ts";

const GROUP = { family: "IPv4", bytes: Uint8Array.of(239, 1, 2, 3) } as const;

Deno.test("packet and raw sockets refuse bad arguments before any system call", () => {
  const program = udpToGroupProgram(GROUP);
  assert.throws(
    () => PacketSocket.open({ ifindex: 0, family: "IPv4", program }),
    InvalidValueError,
  );
  assert.throws(
    () => PacketSocket.open({ ifindex: 1.5, family: "IPv4", program }),
    InvalidValueError,
  );
  assert.throws(() => RawSocket.open("igmp", { device: "" }), InvalidValueError);
  assert.throws(() => RawSocket.open("igmp", { device: "x".repeat(16) }), InvalidValueError);
  assert.throws(
    () => RawSocket.open("icmpv6", { device: "lo", icmpv6Types: [256] }),
    InvalidValueError,
  );
});

// The scripts run inside the namespace, where they may open what root may.
const SCRIPT = `
import { udpToGroupProgram } from "${new URL("../../ffi/bpf.ts", import.meta.url)}";
import { ClosedError } from "${new URL("../../ffi/errors.ts", import.meta.url)}";
import { PacketSocket } from "${new URL("../../ffi/packet_socket.ts", import.meta.url)}";
import { RawSocket } from "${new URL("../../ffi/raw_socket.ts", import.meta.url)}";
const out = {};
const tap = PacketSocket.open({
  ifindex: 1,
  family: "IPv4",
  program: udpToGroupProgram({ family: "IPv4", bytes: Uint8Array.of(239, 1, 2, 3) }),
});
out.tapEmpty = tap.receive(new Uint8Array(64)) === null && !(await tap.wait(20));
tap.close();
tap.close();
try { tap.receive(new Uint8Array(64)); } catch (e) { out.tapClosed = e instanceof ClosedError; }
for (const [protocol, types] of [["igmp", undefined], ["icmpv6", [130]]]) {
  const raw = RawSocket.open(protocol, { device: "lo", icmpv6Types: types });
  out[protocol] = raw.fd > 0 && raw.receive(new Uint8Array(64)) === null;
  raw.close();
  raw.close();
  out[protocol + "Closed"] = raw.closed && raw.fd === -1;
}
try { RawSocket.open("igmp", { device: "nosuch0" }); } catch (e) { out.noDevice = e.errnoName; }
console.log(JSON.stringify(out));
`;

labTest(
  "packet and raw sockets open, stay empty, close twice and refuse use after close",
  async (lab) => {
    const ns = await lab.addNamespace("sock");
    const dir = await lab.scratchDir();
    await Deno.writeTextFile(`${dir}/sockets.ts`, SCRIPT);
    const result = await ns.runDeno(`${dir}/sockets.ts`, { timeoutMs: 20_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      tapEmpty: true,
      tapClosed: true,
      igmp: true,
      igmpClosed: true,
      icmpv6: true,
      icmpv6Closed: true,
      noDevice: "ENODEV",
    });
  },
);
