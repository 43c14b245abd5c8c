// Builds a standalone executable with `deno task compile` and runs it. `deno compile` needs
// Deno's runtime (denort): from DENORT_BIN, or downloaded. Where neither can be had, the test is
// skipped with a notice saying so (the compile task itself is still type-checked by the suite).

import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);

async function runtimeAvailable(): Promise<string | null> {
  if (Deno.env.get("DENORT_BIN")) return null;
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, "console.log(1);\n");
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["compile", "--quiet", "--output", `${dir}/probe`, `${dir}/probe.ts`],
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(60_000),
    }).output();
    if (code === 0) return null;
    const message = new TextDecoder().decode(stderr).split("\n").find((l) => /error/i.test(l));
    return message?.trim() ?? `deno compile exited ${code}`;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const unavailable = await runtimeAvailable();
if (unavailable !== null) {
  console.warn(
    `SKIP compiled-binary test: no Deno runtime for \`deno compile\` (set DENORT_BIN to a denort binary): ${unavailable}`,
  );
}

Deno.test({
  name: "deno task compile builds mcast-status and the binary runs with its least permissions",
  ignore: unavailable !== null,
  fn: async () => {
    const built = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "cli/_compile.ts", "--only=mcast-status"],
      cwd: root,
    }).output();
    assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
    const binary = new URL("dist/mcast-status", root).pathname;
    const version = await new Deno.Command(binary, { args: ["--version"] }).output();
    assert.equal(version.code, 0);
    assert.match(new TextDecoder().decode(version.stdout), /^\d+\.\d+\.\d+/);
    const json = await new Deno.Command(binary, { args: ["--json", "--all"] }).output();
    assert.equal(json.code, 0, new TextDecoder().decode(json.stderr));
    const parsed = JSON.parse(new TextDecoder().decode(json.stdout));
    assert.ok(Array.isArray(parsed.interfaces));
    const bad = await new Deno.Command(binary, { args: ["--bogus"] }).output();
    assert.equal(bad.code, 2);
  },
});
