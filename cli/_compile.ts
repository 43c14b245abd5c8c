// `deno task compile` / `deno task compile:all`: one standalone executable per tool in dist/.
// Each binary gets the least permissions that work for it (/proc is read and written through
// libc, see ffi/procfs.ts, because Deno's file API refuses /proc short of --allow-all). `deno compile` downloads its runtime
// (denort) unless DENORT_BIN points at one; we pass the environment through and say which.

import { TOOLS } from "./_tools.ts";

const ALL_TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
] as const;

const args = new Set(Deno.args);
const only = Deno.args.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const targets: (string | null)[] = args.has("--all") ? [...ALL_TARGETS] : [null];
const denort = Deno.env.get("DENORT_BIN");
if (denort !== undefined) {
  try {
    Deno.statSync(denort);
  } catch {
    console.error(`compile: DENORT_BIN points at a missing file: ${denort}`);
    Deno.exit(1);
  }
  console.error(`compile: using the runtime in DENORT_BIN (${denort})`);
}

let failed = 0;
for (const target of targets) {
  for (const tool of TOOLS) {
    if (only !== undefined && tool.name !== only) continue;
    if (tool.linuxOnly && !(target ?? Deno.build.target).includes("linux")) continue;
    const output = target === null ? `dist/${tool.name}` : `dist/${target}/${tool.name}`;
    const command = new Deno.Command(Deno.execPath(), {
      args: [
        "compile",
        "--quiet",
        ...tool.permissions,
        ...(target === null ? [] : ["--target", target]),
        "--output",
        output,
        tool.entry,
      ],
      stdout: "inherit",
      stderr: "inherit",
    });
    const { code } = await command.output();
    if (code === 0) console.log(`compile: ${output}`);
    else {
      failed++;
      console.error(`compile: ${output} failed (exit ${code})`);
    }
  }
}
Deno.exit(failed === 0 ? 0 : 1);
