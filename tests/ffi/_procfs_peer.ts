// Peer of procfs_test.ts, run as another user (runuser) or in another mount namespace (unshare):
// reads or writes one kernel file through ffi/procfs.ts and prints one JSON line with the text
// read, or the error thrown.
//
//   deno run --allow-all _procfs_peer.ts read <path>
//   deno run --allow-all _procfs_peer.ts write <path> <text>

import { readKernelFile, writeKernelFile } from "../../ffi/procfs.ts";
import { emit, thrownBy } from "../lib/_peer_report.ts";

const [operation, path, text = ""] = Deno.args;
let read: string | undefined;
const error = await thrownBy(() => {
  if (operation === "read") read = readKernelFile(path);
  else if (operation === "write") writeKernelFile(path, text);
  else throw new Error(`Unknown operation: ${operation}`);
});
emit(operation, { read, error, uid: Deno.uid() });
