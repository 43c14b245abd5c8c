// Lab peer for interfaces_test.ts, run inside a namespace: prints one JSON line with what
// `readInterfaces()` sees there (address bytes as arrays of numbers) and the name ⇄ index
// lookups of each interface.
//
//   deno run --allow-all _interfaces_peer.ts

import { interfaceIndex, interfaceName, readInterfaces } from "../../ffi/interfaces.ts";
import { emit } from "../lib/_peer_report.ts";

const interfaces = readInterfaces();
emit("interfaces", {
  interfaces: interfaces.map((i) => ({
    ...i,
    addresses: i.addresses.map((a) => ({ ...a, bytes: [...a.bytes] })),
  })),
  names: Object.fromEntries(interfaces.map((i) => [i.name, interfaceName(i.index)])),
  indexes: Object.fromEntries(interfaces.map((i) => [i.name, interfaceIndex(i.name)])),
});
