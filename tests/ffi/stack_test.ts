// The first test through the whole stack: FFI sockets in two namespaces joined by a veth, MCAS
// datagrams with TTL 9 and DSCP AF41 to an SSM group, an (S,G) join on the other side, recvmsg,
// and the ancillary TTL/TOS checked against what the sender set.

import assert from "node:assert/strict";
import { McasEncoder } from "../../lib/mcas.ts";
import { labTest, type Namespace } from "../lab/mod.ts";

const FIXTURE = new URL("./_stack_fixture.ts", import.meta.url).pathname;
const AF41 = 34;
const COUNT = 5;

interface Arrival {
  source: string;
  ttl: number;
  tos: number;
  destination: string;
  payload: string;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sendAndReceive(
  sender: Namespace,
  receiver: Namespace,
  args: { group: string; source: string; receiverIface: string },
): Promise<Arrival[]> {
  const rx = receiver.spawnDeno(FIXTURE, {
    args: ["receive", args.group, "19779", args.source, args.receiverIface, String(COUNT), "8000"],
  });
  await rx.waitForOutput(/ready/, 20_000);
  const tx = await sender.runDeno(FIXTURE, {
    args: ["send", args.group, "19779", args.source, "9", String(AF41), String(COUNT)],
  });
  assert.equal(tx.code, 0, tx.stderr);
  assert.match(tx.stdout, new RegExp(`sent ${COUNT}`));
  const result = await rx.wait();
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

function expectedPayloads(): string[] {
  const encoder = new McasEncoder(120, { ttl: 9, dscp: AF41, senderId: 0x0123456789abcdefn });
  return Array.from({ length: COUNT }, (_, i) => hex(encoder.encode(BigInt(i), 1000n + BigInt(i))));
}

labTest("IPv4: MCAS to 232/8 with TTL 9 and AF41 arrives through an (S,G) join", async (lab) => {
  const a = await lab.addNamespace("tx4");
  const b = await lab.addNamespace("rx4");
  const link = await lab.link(a, b);
  const got = await sendAndReceive(a, b, {
    group: "232.1.2.3",
    source: link.a.ipv4!,
    receiverIface: link.b.name,
  });
  assert.equal(got.length, COUNT);
  assert.deepEqual(got.map((g) => g.payload), expectedPayloads());
  for (const arrival of got) {
    assert.equal(arrival.source, link.a.ipv4);
    assert.equal(arrival.ttl, 9); // a veth is one link, not a router: no decrement
    assert.equal(arrival.tos, AF41 << 2);
    assert.equal(arrival.destination, "232.1.2.3");
  }
});

labTest(
  "IPv6: MCAS to ff3e::/32 with hop limit 9 and AF41 arrives through an (S,G) join",
  async (lab) => {
    const a = await lab.addNamespace("tx6");
    const b = await lab.addNamespace("rx6");
    const link = await lab.link(a, b);
    const got = await sendAndReceive(a, b, {
      group: "ff3e::8000:1",
      source: link.a.ipv6!,
      receiverIface: link.b.name,
    });
    assert.equal(got.length, COUNT);
    assert.deepEqual(got.map((g) => g.payload), expectedPayloads());
    for (const arrival of got) {
      assert.equal(arrival.source, link.a.ipv6);
      assert.equal(arrival.ttl, 9);
      assert.equal(arrival.tos, AF41 << 2);
      assert.equal(arrival.destination, "ff3e::8000:1");
    }
  },
);

labTest("an (S,G) join does not deliver another source's datagrams", async (lab) => {
  const a = await lab.addNamespace("txo");
  const b = await lab.addNamespace("rxo");
  const link = await lab.link(a, b);
  await a.addAddress(link.a.name, "10.100.9.7/24");
  const rx = b.spawnDeno(FIXTURE, {
    args: ["receive", "232.1.2.4", "19779", "10.100.9.7", link.b.name, "1", "1500"],
  });
  await rx.waitForOutput(/ready/, 20_000);
  const tx = await a.runDeno(FIXTURE, {
    args: ["send", "232.1.2.4", "19779", link.a.ipv4!, "9", "0", String(COUNT)],
  });
  assert.match(tx.stdout, /sent 5/);
  const result = await rx.wait();
  assert.equal(result.stdout.split("\n").filter((l) => l.startsWith("{")).length, 0);
});
