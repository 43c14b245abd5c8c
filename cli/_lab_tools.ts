// The mcast tools inside mcast-lab's labs: the command line each wrapper runs. From a checkout
// (or an installed mcast-lab, which runs the checkout's files): this Deno running the tool's
// entry point with its least permissions and the checkout's import map, after one `deno cache`
// at `up` (the lab's namespaces have no way out to a package registry). Compiled: the binaries
// next to this one, with the same name suffix (`mcast-lab-x86_64-…` → `mcast-send-x86_64-…`).

import type { LabTools } from "../lib/classroom/tool_wrappers.ts";
import { TOOLS } from "./_tools.ts";

const SELF = "mcast-lab";

/** The tools the labs put on PATH, and how to prepare them. */
export function labTools(): LabTools {
  const others = TOOLS.filter((tool) => tool.name !== SELF);
  const exec = Deno.execPath();
  if (Deno.build.standalone) {
    const slash = exec.lastIndexOf("/");
    const base = exec.slice(slash + 1);
    const suffix = base.startsWith(SELF) ? base.slice(SELF.length) : "";
    const dir = exec.slice(0, slash);
    return {
      tools: others.map((tool) => ({ name: tool.name, argv: [`${dir}/${tool.name}${suffix}`] })),
    };
  }
  const root = new URL("../", import.meta.url);
  const local = root.protocol === "file:";
  const config = local ? ["--config", new URL("deno.json", root).pathname] : [];
  const entry = (path: string) => local ? new URL(path, root).pathname : new URL(path, root).href;
  return {
    tools: others.map((tool) => ({
      name: tool.name,
      argv: [exec, "run", "--quiet", ...tool.permissions, ...config, entry(tool.entry)],
    })),
    prepare: [exec, "cache", "--quiet", ...config, ...others.map((tool) => entry(tool.entry))],
  };
}
