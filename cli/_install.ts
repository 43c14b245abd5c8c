// `deno task install`: installs the tools as commands on PATH with `deno install -g`, each with
// its least permissions and this checkout's deno.json (its import map names the npm packages);
// mcast-lab on Linux only. `--root DIR` installs into DIR/bin instead of Deno's default.

import { TOOLS } from "./_tools.ts";

const root = new URL("../", import.meta.url).pathname;
const rootIndex = Deno.args.indexOf("--root");
const installRoot = rootIndex >= 0 ? Deno.args[rootIndex + 1] : undefined;

let failed = 0;
for (const tool of TOOLS) {
  if (tool.linuxOnly && Deno.build.os !== "linux") continue;
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "install",
      "--global",
      "--force",
      "--quiet",
      "--config",
      `${root}deno.json`,
      ...(installRoot === undefined ? [] : ["--root", installRoot]),
      "--name",
      tool.name,
      ...tool.permissions,
      `${root}${tool.entry}`,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code === 0) console.log(`install: ${tool.name}`);
  else {
    failed++;
    console.error(`install: ${tool.name} failed (exit ${code})`);
  }
}
Deno.exit(failed === 0 ? 0 : 1);
