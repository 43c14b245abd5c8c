import assert from "node:assert/strict";
import { InvalidValueError } from "../../lib/errors.ts";
import {
  ForcedMembershipVersion,
  forceVersionPath,
  readForcedVersion,
  validateMembershipVersion,
} from "../../lib/igmp_version.ts";
import { runRestricted } from "./_restricted_script.ts";
import { nobodyPath, nobodyTest } from "../_nobody.ts";

async function withProc(
  values: { igmp?: Record<string, string>; mld?: Record<string, string> },
  fn: (root: string) => Promise<void> | void,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "mcast_proc_" });
  try {
    for (const [iface, value] of Object.entries(values.igmp ?? {})) {
      await Deno.mkdir(`${root}/sys/net/ipv4/conf/${iface}`, { recursive: true });
      await Deno.writeTextFile(`${root}/sys/net/ipv4/conf/${iface}/force_igmp_version`, value);
    }
    for (const [iface, value] of Object.entries(values.mld ?? {})) {
      await Deno.mkdir(`${root}/sys/net/ipv6/conf/${iface}`, { recursive: true });
      await Deno.writeTextFile(`${root}/sys/net/ipv6/conf/${iface}/force_mld_version`, value);
    }
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const igmpFile = (root: string, iface: string) =>
  Deno.readTextFileSync(`${root}/sys/net/ipv4/conf/${iface}/force_igmp_version`);
const mldFile = (root: string, iface: string) =>
  Deno.readTextFileSync(`${root}/sys/net/ipv6/conf/${iface}/force_mld_version`);

Deno.test("validateMembershipVersion accepts the versions of each family", () => {
  for (const v of [1, 2, 3]) assert.equal(validateMembershipVersion(v, { family: "IPv4" }), v);
  for (const v of [1, 2]) assert.equal(validateMembershipVersion(v, { family: "IPv6" }), v);
  assert.equal(validateMembershipVersion(3, { family: "IPv4", source: "10.0.0.1" }), 3);
  assert.equal(validateMembershipVersion(2, { family: "IPv6", source: "2001:db8::1" }), 2);
  assert.equal(validateMembershipVersion(2, { family: "IPv4", source: null }), 2);
  for (const bad of [0, 4, 2.5, NaN]) {
    assert.throws(() => validateMembershipVersion(bad, { family: "IPv4" }), InvalidValueError);
  }
  assert.throws(
    () => validateMembershipVersion(3, { family: "IPv6" }),
    /^InvalidValueError: Invalid MLD version: 3 \(expected 1 or 2\)$/,
  );
});

Deno.test("validateMembershipVersion refuses SSM with IGMPv1/v2 and MLDv1, saying why", () => {
  for (const version of [1, 2]) {
    assert.throws(
      () => validateMembershipVersion(version, { family: "IPv4", source: "10.0.0.1" }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidValueError);
        assert.equal(error.what, "IGMP version");
        assert.equal(error.value, version);
        assert.match(error.message, /^Invalid IGMP version: \d \(expected 3 for a source-specific/);
        assert.match(error.message, /only IGMPv3 membership reports carry source lists/);
        assert.match(error.message, /\(\*,G\)\)$/);
        return true;
      },
    );
  }
  assert.throws(
    () => validateMembershipVersion(1, { family: "IPv6", source: "2001:db8::1" }),
    /only MLDv2 reports carry source lists, MLDv1 can only express \(\*,G\)/,
  );
});

Deno.test("forceVersionPath builds the sysctl path and refuses odd names", () => {
  assert.equal(forceVersionPath("eth0"), "/proc/sys/net/ipv4/conf/eth0/force_igmp_version");
  assert.equal(
    forceVersionPath("eth0", { protocol: "mld", procRoot: "/tmp/p/" }),
    "/tmp/p/sys/net/ipv6/conf/eth0/force_mld_version",
  );
  for (const bad of ["", "..", ".", "a/b", "eth0:1", "a b", "sixteen-chars-xx"]) {
    assert.throws(() => forceVersionPath(bad), InvalidValueError, bad);
  }
});

Deno.test("readForcedVersion reads values and gives null for missing or junk", async () => {
  await withProc({ igmp: { lo: "2\n", eth0: "junk\n" }, mld: { lo: "1" } }, (root) => {
    assert.equal(readForcedVersion("lo", { procRoot: root }), 2);
    assert.equal(readForcedVersion("lo", { procRoot: root, protocol: "mld" }), 1);
    assert.equal(readForcedVersion("eth0", { procRoot: root }), null);
    assert.equal(readForcedVersion("eth9", { procRoot: root }), null);
  });
});

Deno.test("apply sets the version and restore puts the old value back, twice is safe", async () => {
  await withProc({ igmp: { eth0: "0\n" } }, (root) => {
    const warnings: string[] = [];
    const forced = ForcedMembershipVersion.apply("eth0", {
      version: 2,
      procRoot: root,
      onWarning: (message) => warnings.push(message),
      onSignal: "restore",
    });
    assert.equal(forced.status, "forced");
    assert.equal(forced.previous, 0);
    assert.equal(forced.requested, 2);
    assert.equal(forced.pending, true);
    assert.equal(igmpFile(root, "eth0"), "2\n");
    forced.restore();
    assert.equal(igmpFile(root, "eth0"), "0\n");
    assert.equal(forced.pending, false);
    // A second restore does not write again: prove it by changing the file behind its back.
    Deno.writeTextFileSync(`${root}/sys/net/ipv4/conf/eth0/force_igmp_version`, "1\n");
    forced.restore();
    forced[Symbol.dispose]();
    assert.equal(igmpFile(root, "eth0"), "1\n");
    assert.deepEqual(warnings, []);
  });
});

Deno.test("restores a non-default previous value and works with using / await using", async () => {
  await withProc({ igmp: { eth0: "1\n" }, mld: { eth0: "0\n" } }, async (root) => {
    {
      using forced = ForcedMembershipVersion.apply("eth0", { version: 3, procRoot: root });
      assert.equal(forced.status, "forced");
      assert.equal(igmpFile(root, "eth0"), "3\n");
    }
    assert.equal(igmpFile(root, "eth0"), "1\n");
    {
      await using forced = ForcedMembershipVersion.apply("eth0", {
        protocol: "mld",
        version: 1,
        procRoot: root,
      });
      assert.equal(forced.status, "forced");
      assert.equal(mldFile(root, "eth0"), "1\n");
    }
    assert.equal(mldFile(root, "eth0"), "0\n");
  });
});

Deno.test("a sysctl that already gives the version is left untouched", async () => {
  await withProc(
    { igmp: { a: "0\n", b: "3\n", c: "2\n" }, mld: { a: "0\n", b: "2\n" } },
    (root) => {
      const cases: Array<[string, "igmp" | "mld", number]> = [
        ["a", "igmp", 3],
        ["b", "igmp", 3],
        ["c", "igmp", 2],
        ["a", "mld", 2],
        ["b", "mld", 2],
      ];
      for (const [iface, protocol, version] of cases) {
        const forced = ForcedMembershipVersion.apply(iface, { protocol, version, procRoot: root });
        assert.equal(forced.status, "unchanged", `${iface} ${protocol} ${version}`);
        assert.equal(forced.pending, false);
        forced.restore();
      }
      assert.equal(igmpFile(root, "a"), "0\n");
      assert.equal(igmpFile(root, "b"), "3\n");
      assert.equal(mldFile(root, "a"), "0\n");
    },
  );
});

Deno.test("a missing sysctl warns once and changes nothing", async () => {
  await withProc({}, (root) => {
    const warnings: string[] = [];
    const forced = ForcedMembershipVersion.apply("eth9", {
      version: 2,
      procRoot: root,
      onWarning: (message) => warnings.push(message),
    });
    assert.equal(forced.status, "unavailable");
    assert.equal(forced.previous, null);
    forced.restore();
    forced.restore();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^Cannot force IGMPv2 on eth9: .* is missing or unreadable/);
    assert.equal(forced.warning, warnings[0]);
  });
});

// Root ignores file modes, so the refused write is made real by running as `nobody` against a
// root-owned 0644 file: the kernel answers EACCES.
nobodyTest("without permission to write it warns once and goes on", async (nobody) => {
  await withProc({ igmp: { eth0: "0\n" } }, async (root) => {
    await Deno.chmod(root, 0o755);
    const url = `file://${
      nobodyPath(nobody, new URL("../../lib/igmp_version.ts", import.meta.url))
    }`;
    const code = `
      import { ForcedMembershipVersion } from ${JSON.stringify(url)};
      const warnings: string[] = [];
      const forced = ForcedMembershipVersion.apply("eth0", {
        version: 2, procRoot: ${JSON.stringify(root)},
        onWarning: (m: string) => warnings.push(m),
      });
      forced.restore();
      console.log(JSON.stringify({ status: forced.status, warnings }));
    `;
    const script = `${root}/script.ts`;
    await Deno.writeTextFile(script, code);
    const output = await new Deno.Command(nobody.prefix[0], {
      args: [
        ...nobody.prefix.slice(1),
        "NO_COLOR=1",
        nobody.deno,
        "run",
        "--no-config",
        "--no-lock",
        "--allow-read",
        "--allow-ffi",
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.ok(output.success, stderr);
    const result = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.equal(result.status, "permission-denied");
    assert.equal(result.warnings.length, 1);
    assert.match(
      result.warnings[0],
      /^Permission needed to force IGMPv2 on eth0: cannot write .*force_igmp_version \(not root\?\), the kernel keeps force_igmp_version 0$/,
    );
    assert.equal(igmpFile(root, "eth0"), "0\n");
  });
});

Deno.test("SIGTERM restores the old value and exits 143", async () => {
  await withProc({ igmp: { eth0: "0\n" }, mld: { eth0: "0\n" } }, async (root) => {
    const url = new URL("../../lib/igmp_version.ts", import.meta.url).href;
    const code = `
      import { ForcedMembershipVersion } from ${JSON.stringify(url)};
      ForcedMembershipVersion.apply("eth0", { version: 2, procRoot: ${JSON.stringify(root)} });
      ForcedMembershipVersion.apply("eth0", {
        protocol: "mld", version: 1, procRoot: ${JSON.stringify(root)},
      });
      console.log("ready");
      setInterval(() => {}, 1000);
    `;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", code],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /ready/);
    assert.equal(igmpFile(root, "eth0"), "2\n");
    assert.equal(mldFile(root, "eth0"), "1\n");
    child.kill("SIGTERM");
    const status = await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    assert.equal(status.code, 143);
    assert.equal(igmpFile(root, "eth0"), "0\n");
    assert.equal(mldFile(root, "eth0"), "0\n");
  });
});

Deno.test("a normal exit (unload) restores, and onSignal 'restore' leaves the exit to the caller", async () => {
  await withProc({ igmp: { eth0: "0\n", eth1: "0\n" } }, async (root) => {
    const url = new URL("../../lib/igmp_version.ts", import.meta.url).href;
    const unloadCode = `
      import { ForcedMembershipVersion } from ${JSON.stringify(url)};
      ForcedMembershipVersion.apply("eth0", { version: 1, procRoot: ${JSON.stringify(root)} });
    `;
    const unload = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", unloadCode],
    }).output();
    assert.equal(unload.code, 0);
    assert.equal(igmpFile(root, "eth0"), "0\n");

    const signalCode = `
      import { ForcedMembershipVersion } from ${JSON.stringify(url)};
      ForcedMembershipVersion.apply("eth1", {
        version: 2, procRoot: ${JSON.stringify(root)}, onSignal: "restore",
      });
      Deno.addSignalListener("SIGINT", () => {
        console.log("summary " + Deno.readTextFileSync(
          ${JSON.stringify(`${root}/sys/net/ipv4/conf/eth1/force_igmp_version`)}).trim());
        Deno.exit(0);
      });
      console.log("ready");
      setInterval(() => {}, 1000);
    `;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", signalCode],
      stdout: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /ready/);
    assert.equal(igmpFile(root, "eth1"), "2\n");
    child.kill("SIGINT");
    let rest = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      rest += new TextDecoder().decode(chunk.value);
    }
    const status = await child.status;
    assert.equal(status.code, 0);
    // The caller's listener ran after (or before) ours; either way the file ends restored.
    assert.match(rest, /summary [02]/);
    assert.equal(igmpFile(root, "eth1"), "0\n");
  });
});

Deno.test("a sysctl Deno may not read is reported as a permission problem", async () => {
  await withProc({ igmp: { eth0: "0\n" } }, async (root) => {
    const url = new URL("../../lib/igmp_version.ts", import.meta.url).href;
    const result = await runRestricted(
      root,
      `import { ForcedMembershipVersion } from ${JSON.stringify(url)};
      const warnings: string[] = [];
      const forced = ForcedMembershipVersion.apply("eth0", {
        version: 2, procRoot: ${JSON.stringify(root)}, onWarning: (m: string) => warnings.push(m),
      });
      console.log(JSON.stringify({ status: forced.status, warnings }));`,
    ) as { status: string; warnings: string[] };
    assert.equal(result.status, "permission-denied");
    assert.match(
      result.warnings[0],
      /^Permission needed to force IGMPv2 on eth0: Deno may not read/,
    );
  });
});
