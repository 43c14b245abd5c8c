// Peer of proc_route_test.ts, run inside a lab namespace: prints one JSON object mapping each
// address argument to the interface readRouteInterface gives for it (or null).
//
//   deno run --allow-all _route_peer.ts 239.1.2.3 224.0.0.251 …

import { parseAddress } from "../../lib/address.ts";
import { readRouteInterface } from "../../lib/proc_route.ts";

const result: Record<string, string | null> = {};
for (const address of Deno.args) result[address] = readRouteInterface(parseAddress(address));
console.log(JSON.stringify(result));
