// Unit tests of the header readers (lib/diagnosis/packet_headers.ts): UDP over IPv4 and IPv6,
// fragments, and the IGMP and MLD query versions from their sizes and codes (RFC 3376 §7.1,
// RFC 3810 §8.1).

import assert from "node:assert/strict";
import {
  parseIgmpQuery,
  parseMldQuery,
  parseUdpHeaders,
} from "../../../lib/diagnosis/packet_headers.ts";

function ipv4(protocol: number, source: number[], destination: number[], payload: number[]) {
  const total = 20 + payload.length;
  return Uint8Array.from([
    0x45,
    0,
    total >> 8,
    total & 0xff,
    0,
    0,
    0,
    0,
    1,
    protocol,
    0,
    0,
    ...source,
    ...destination,
    ...payload,
  ]);
}

Deno.test("parseUdpHeaders: IPv4 and IPv6 datagrams, and what is not one", () => {
  const udp = [0x9c, 0x40, 0x13, 0x89, 0, 8, 0, 0]; // 40000 → 5001
  assert.deepEqual(parseUdpHeaders(ipv4(17, [10, 0, 0, 1], [239, 1, 1, 1], udp)), {
    family: "IPv4",
    source: "10.0.0.1",
    destination: "239.1.1.1",
    sourcePort: 40000,
    destinationPort: 5001,
  });
  assert.equal(parseUdpHeaders(ipv4(6, [10, 0, 0, 1], [239, 1, 1, 1], udp)), null);
  const fragment = ipv4(17, [10, 0, 0, 1], [239, 1, 1, 1], udp);
  fragment[7] = 0x10; // fragment offset 16: no UDP header here
  assert.equal(parseUdpHeaders(fragment), null);
  assert.equal(parseUdpHeaders(ipv4(17, [10, 0, 0, 1], [239, 1, 1, 1], []).subarray(0, 24)), null);

  const v6 = new Uint8Array(48);
  v6[0] = 0x60;
  v6[6] = 17;
  v6.set([0xfd, 0, 0, 0x07], 8);
  v6[23] = 1;
  v6.set([0xff, 0x3e], 24);
  v6[39] = 1;
  v6.set(udp, 40);
  assert.deepEqual(parseUdpHeaders(v6), {
    family: "IPv6",
    source: "fd00:7::1",
    destination: "ff3e::1",
    sourcePort: 40000,
    destinationPort: 5001,
  });
  v6[6] = 0; // a hop-by-hop header first
  assert.equal(parseUdpHeaders(v6), null);
  assert.equal(parseUdpHeaders(new Uint8Array([0x20, 1, 2])), null);
});

Deno.test("parseIgmpQuery: the version from the size and code; not queries", () => {
  const query = (igmp: number[]) => parseIgmpQuery(ipv4(2, [10, 0, 0, 254], [224, 0, 0, 1], igmp));
  assert.deepEqual(query([0x11, 0, 0, 0, 0, 0, 0, 0]), {
    protocol: "igmp",
    version: 1,
    source: "10.0.0.254",
    group: null,
  });
  assert.equal(query([0x11, 100, 0, 0, 0, 0, 0, 0])?.version, 2);
  assert.equal(query([0x11, 100, 0, 0, 239, 1, 1, 1])?.group, "239.1.1.1");
  assert.equal(query([0x11, 100, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0, 0])?.version, 3);
  assert.equal(query([0x11, 100, 0, 0, 0, 0, 0, 0, 0, 0]), null, "10 bytes: no version");
  assert.equal(query([0x16, 0, 0, 0, 239, 1, 1, 1]), null, "a v2 report");
  assert.equal(
    parseIgmpQuery(ipv4(17, [10, 0, 0, 1], [224, 0, 0, 1], [0x11, 0, 0, 0, 0, 0, 0, 0])),
    null,
  );
});

Deno.test("parseMldQuery: MLDv1 is 24 bytes, MLDv2 28 or more", () => {
  const message = (length: number, type = 130) => {
    const m = new Uint8Array(length);
    m[0] = type;
    return m;
  };
  assert.deepEqual(parseMldQuery(message(24), "fe80::1"), {
    protocol: "mld",
    version: 1,
    source: "fe80::1",
    group: null,
  });
  assert.equal(parseMldQuery(message(28), "fe80::1")?.version, 2);
  assert.equal(parseMldQuery(message(44), "fe80::1")?.version, 2);
  assert.equal(parseMldQuery(message(26), "fe80::1"), null);
  assert.equal(parseMldQuery(message(24, 131), "fe80::1"), null);
  const specific = message(24);
  specific.set([0xff, 0x3e], 8);
  specific[23] = 5;
  assert.equal(parseMldQuery(specific, "fe80::1")?.group, "ff3e::5");
});
