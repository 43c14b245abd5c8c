// Micro-benchmark of walking a received datagram's control messages (TTL, TOS, packet info and
// the kernel timestamp, as a Subscription asks for them): one real datagram on 127.0.0.1 is
// received once, then its control data is parsed over and over.

import { PLATFORM } from "../ffi/constants.ts";
import { check } from "../ffi/errno.ts";
import { libc } from "../ffi/libc.ts";
import { MessageBatch, ReceivedMetadata } from "../ffi/msghdr.ts";
import { UdpSocket } from "../ffi/socket.ts";

const loopback = { family: "IPv4", bytes: Uint8Array.of(127, 0, 0, 1) } as const;
const rx = UdpSocket.open("IPv4");
rx.bind({ ...loopback, port: 0 });
for (const option of [PLATFORM.IP_RECVTTL, PLATFORM.IP_RECVTOS, PLATFORM.IP_PKTINFO]) {
  rx.setInt(PLATFORM.IPPROTO_IP, option, 1, "ancillary");
}
rx.setInt(PLATFORM.SOL_SOCKET, PLATFORM.SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
const tx = UdpSocket.open("IPv4");
tx.connect({ ...loopback, port: rx.localEndpoint().port });
tx.send(new Uint8Array(64));
await rx.wait(PLATFORM.POLLIN, 1000);
const batch = new MessageBatch(1, 2048, { controlSize: 256, withNames: true });
check(libc().recvmmsg(rx.fd, batch.headers, 1, PLATFORM.MSG_DONTWAIT, null), "recvmmsg");
tx.close();
rx.close();
const metadata = new ReceivedMetadata();
batch.readMetadata(0, metadata);
if (metadata.ttl < 0 || metadata.timestampNs < 0n) throw new Error("no ancillary data");

Deno.bench("readMetadata: TTL, TOS, packet info, timestamp", () => {
  batch.readMetadata(0, metadata);
});
