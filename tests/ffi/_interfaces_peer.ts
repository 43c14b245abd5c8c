// Lab peer for interfaces_test.ts, run inside a namespace: prints one JSON line with what
// `listInterfaces()` sees there and, for each argument, the interface `resolveInterface` finds
// (its name) or the error it throws.
//
//   deno run --allow-all _interfaces_peer.ts <spec>...

import {
  interfaceIndex,
  interfaceName,
  listInterfaces,
  resolveInterface,
} from "../../ffi/interfaces.ts";
import { emit, thrownBy } from "../lib/_peer_report.ts";

const resolved: Record<string, unknown> = {};
for (const spec of Deno.args) {
  let name: string | undefined;
  const error = await thrownBy(() => name = resolveInterface(spec).name);
  resolved[spec] = error ?? name;
}
const interfaces = listInterfaces();
emit("interfaces", {
  interfaces,
  names: Object.fromEntries(interfaces.map((i) => [i.name, interfaceName(i.index)])),
  indexes: Object.fromEntries(interfaces.map((i) => [i.name, interfaceIndex(i.name)])),
  resolved,
});
