// `deno task install` puts the five tools on PATH with their least permissions and this
// checkout's import map; each installed command must run from another directory.

import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };

const VERSION = denoJson.version;

const root = new URL("../../", import.meta.url).pathname;

Deno.test("deno task install: five commands that run anywhere with their own permissions", async () => {
  const installRoot = await Deno.makeTempDir({ prefix: "mcast-install-" });
  try {
    const installed = await new Deno.Command(Deno.execPath(), {
      args: ["task", "install", "--root", installRoot],
      cwd: root,
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(installed.code, 0, new TextDecoder().decode(installed.stderr));
    const names = [];
    for await (const entry of Deno.readDir(`${installRoot}/bin`)) {
      if (entry.isFile) names.push(entry.name); // deno keeps each config in a hidden directory
    }
    assert.deepEqual(names.sort(), [
      "mcast-lab",
      "mcast-receive",
      "mcast-send",
      "mcast-status",
      "mctx-send",
    ]);
    for (const name of names) {
      const shim = await Deno.readTextFile(`${installRoot}/bin/${name}`);
      assert.match(shim, name === "mcast-lab" ? /--allow-run/ : /--allow-ffi/);
      assert.doesNotMatch(shim, /--allow-all|\s-A\s/, `${name} must not get every permission`);
      const version = await new Deno.Command(`${installRoot}/bin/${name}`, {
        args: ["--version"],
        cwd: "/",
      }).output();
      assert.equal(version.code, 0, new TextDecoder().decode(version.stderr));
      assert.equal(new TextDecoder().decode(version.stdout).trim(), VERSION);
    }
    const status = await new Deno.Command(`${installRoot}/bin/mcast-status`, {
      args: ["--json", "--all"],
      cwd: "/",
    }).output();
    assert.equal(status.code, 0, new TextDecoder().decode(status.stderr));
    const lo = JSON.parse(new TextDecoder().decode(status.stdout)).interfaces
      .find((i: { name: string }) => i.name === "lo");
    assert.equal(lo?.index, 1);
  } finally {
    await Deno.remove(installRoot, { recursive: true });
  }
});
