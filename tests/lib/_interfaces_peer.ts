// Lab peer for interfaces_test.ts, run inside a namespace: prints one JSON line with what
// `listInterfaces()` sees there and, for each argument, the interface `resolveInterface` finds
// (its name) or the error it throws.
//
//   deno run --allow-all _interfaces_peer.ts <spec>...

import { listInterfaces, resolveInterface } from "../../lib/interfaces.ts";
import { emit, thrownBy } from "./_peer_report.ts";

const resolved: Record<string, unknown> = {};
for (const spec of Deno.args) {
  let name: string | undefined;
  const error = await thrownBy(() => name = resolveInterface(spec).name);
  resolved[spec] = error ?? name;
}
emit("interfaces", { interfaces: listInterfaces(), resolved });
