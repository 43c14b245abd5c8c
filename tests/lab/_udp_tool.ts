/**
 * Private: a tiny UDP peer run inside lab namespaces by the harness's own tests (needs
 * `--unstable-net` for `Deno.listenDatagram`).
 *
 * ```
 * recv <bind-address> <port> <count> <timeout-ms> [join-group] [join-interface]
 *     prints "ready <port>", then one JSON line per datagram {from, data}; exits 0 after
 *     <count> datagrams, 3 on time-out. With join-group: joins it (IPv4: interface address,
 *     IPv6: interface index, 0 = routing default).
 * send <address> <port> <message> <count>
 *     sends <count> datagrams "<message> <i>" from an ephemeral port.
 * ```
 *
 * @module
 */

const [mode, ...rest] = Deno.args;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

if (mode === "recv") {
  const [bind, portText, countText, timeoutText, group, joinIface] = rest;
  const conn = Deno.listenDatagram({
    transport: "udp",
    hostname: bind,
    port: Number(portText),
    reuseAddress: true,
  });
  if (group) {
    if (group.includes(":")) await conn.joinMulticastV6(group, Number(joinIface ?? 0));
    else await conn.joinMulticastV4(group, joinIface ?? "0.0.0.0");
  }
  const timer = setTimeout(() => {
    console.error("timed out");
    Deno.exit(3);
  }, Number(timeoutText));
  console.log(`ready ${(conn.addr as Deno.NetAddr).port}`);
  const want = Number(countText);
  for (let received = 0; received < want;) {
    const [data, from] = await conn.receive();
    received++;
    console.log(
      JSON.stringify({ from: (from as Deno.NetAddr).hostname, data: decoder.decode(data) }),
    );
  }
  clearTimeout(timer);
  conn.close();
} else if (mode === "send") {
  const [address, portText, message, countText] = rest;
  const conn = Deno.listenDatagram({
    transport: "udp",
    hostname: address.includes(":") ? "::" : "0.0.0.0",
    port: 0,
  });
  for (let i = 0; i < Number(countText ?? 1); i++) {
    await conn.send(encoder.encode(`${message} ${i}`), {
      transport: "udp",
      hostname: address,
      port: Number(portText),
    });
  }
  conn.close();
} else {
  console.error("usage: _udp_tool.ts recv|send …");
  Deno.exit(2);
}
