// Tests of kernel file access through libc: reads equal what `cat` prints, temp files round-trip
// (also beyond one 64 KiB read), and errors map onto Deno's file API errors — NotFound for a
// missing path, PermissionDenied for a refused write (as root on a read-only sysctl, as `nobody`
// through runuser, and on a read-only mount in a private mount namespace through unshare).

import assert from "node:assert/strict";
import { readKernelFile, writeKernelFile } from "../../ffi/procfs.ts";
import { findOnPath } from "../lab/mod.ts";
import { nobodyPath, nobodyTest } from "../_nobody.ts";
import type { ErrorDescription } from "../lib/_peer_report.ts";

const PEER_URL = new URL("./_procfs_peer.ts", import.meta.url);
const PEER = PEER_URL.pathname;
const READ_ONLY_SYSCTL = "/proc/sys/kernel/ostype"; // mode 0444: nobody may write it, not even root
const isRoot = Deno.uid() === 0;

async function cat(path: string): Promise<string> {
  const out = await new Deno.Command("cat", { args: [path] }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

/** Runs `_procfs_peer.ts` under `prefix` (runuser, unshare …) and returns its error, if any. */
async function peer(
  prefix: string[],
  args: string[],
  env: Record<string, string> = {},
  deno = Deno.execPath(),
  script = PEER,
) {
  const out = await new Deno.Command(prefix[0], {
    args: [...prefix.slice(1), deno, "run", "--allow-all", script, ...args],
    env,
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, `${new TextDecoder().decode(out.stderr)}\n${stdout}`);
  return JSON.parse(stdout.trim().split("\n").pop()!) as {
    read?: string;
    error: ErrorDescription | null;
    uid: number;
  };
}

Deno.test("reading /proc/net/igmp gives exactly what cat prints", async () => {
  // Another test of this run may join or leave a group between two reads: compare a read with
  // two identical cat outputs around it (bounded retries).
  let compared = false;
  for (let attempt = 0; attempt < 5 && !compared; attempt++) {
    const before = await cat("/proc/net/igmp");
    const read = readKernelFile("/proc/net/igmp");
    const after = await cat("/proc/net/igmp");
    if (before !== after) continue;
    assert.equal(read, before);
    assert.match(read, /^Idx\tDevice/);
    compared = true;
  }
  assert.ok(compared, "/proc/net/igmp kept changing");
  assert.equal(readKernelFile(READ_ONLY_SYSCTL), await cat(READ_ONLY_SYSCTL));
});

Deno.test("a missing path is Deno.errors.NotFound naming the path and errno", () => {
  assert.throws(() => readKernelFile("/proc/net/no_such_file"), (error: unknown) => {
    assert.ok(error instanceof Deno.errors.NotFound);
    assert.equal(error.message, "open /proc/net/no_such_file: ENOENT");
    return true;
  });
  assert.throws(() => readKernelFile("/proc/net/igmp/inside"), (error: unknown) => {
    assert.ok(error instanceof Deno.errors.NotFound, "ENOTDIR counts as not found");
    assert.equal(error.message, "open /proc/net/igmp/inside: ENOTDIR");
    return true;
  });
  const dir = Deno.makeTempDirSync({ prefix: "mcast-procfs-" });
  try {
    const path = `${dir}/absent`;
    assert.throws(() => writeKernelFile(path, "1\n"), Deno.errors.NotFound);
    assert.throws(() => Deno.statSync(path), Deno.errors.NotFound, "write never creates");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("write then read a temp file: truncates, and reads past one 64 KiB chunk", () => {
  const path = Deno.makeTempFileSync({ prefix: "mcast-procfs-" });
  try {
    writeKernelFile(path, "a longer first value\n");
    assert.equal(readKernelFile(path), "a longer first value\n");
    writeKernelFile(path, "2\n");
    assert.equal(readKernelFile(path), "2\n", "the earlier, longer text is gone");
    assert.equal(Deno.readTextFileSync(path), "2\n");
    writeKernelFile(path, "");
    assert.equal(readKernelFile(path), "");
    const big = Array.from({ length: 20_000 }, (_, i) => `line ${i} é\n`).join("");
    assert.ok(new TextEncoder().encode(big).length > 3 * 65536);
    Deno.writeTextFileSync(path, big);
    assert.equal(readKernelFile(path), big);
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test(
  "a read-only sysctl refuses root's write with PermissionDenied",
  { ignore: !isRoot },
  () => {
    const before = readKernelFile(READ_ONLY_SYSCTL);
    assert.throws(() => writeKernelFile(READ_ONLY_SYSCTL, "Other\n"), (error: unknown) => {
      assert.ok(error instanceof Deno.errors.PermissionDenied, String(error));
      assert.equal(error.message, `open ${READ_ONLY_SYSCTL}: EACCES`);
      return true;
    });
    assert.equal(readKernelFile(READ_ONLY_SYSCTL), before);
  },
);

nobodyTest("a sysctl written as nobody (runuser) is PermissionDenied", async (nobody) => {
  const peerAs = (args: string[]) =>
    peer([...nobody.prefix, "NO_COLOR=1"], args, {}, nobody.deno, nobodyPath(nobody, PEER_URL));
  const refused = await peerAs(["write", READ_ONLY_SYSCTL, "x\n"]);
  assert.notEqual(refused.uid, 0);
  assert.equal(refused.error?.kind, "PermissionDenied", JSON.stringify(refused));
  assert.equal(refused.error?.message, `open ${READ_ONLY_SYSCTL}: EACCES`);
  // Writable by root only (0644, and no test changes it): nobody is refused as well.
  const rootOnly = "/proc/sys/net/core/somaxconn";
  const before = readKernelFile(rootOnly);
  const alsoRefused = await peerAs(["write", rootOnly, "2\n"]);
  assert.equal(alsoRefused.error?.kind, "PermissionDenied", JSON.stringify(alsoRefused));
  assert.equal(readKernelFile(rootOnly), before);
  const read = await peerAs(["read", READ_ONLY_SYSCTL]);
  assert.equal(read.error, null);
  assert.equal(read.read, readKernelFile(READ_ONLY_SYSCTL));
});

// Regression: EROFS (a read-only /proc/sys, as in containers) must be PermissionDenied, not a
// generic error; it once fell through because the errno tables lacked EROFS.
Deno.test({
  name: "a write on a read-only mount is PermissionDenied (EROFS)",
  ignore: !isRoot || findOnPath("unshare") === undefined || findOnPath("mount") === undefined,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "mcast-procfs-ro-" });
    try {
      Deno.writeTextFileSync(`${dir}/value`, "1\n");
      // Only the private mount namespace of this one command sees the read-only mount.
      const script =
        `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"`;
      const result = await peer(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", dir],
        ["write", `${dir}/value`, "2\n"],
      );
      assert.equal(Deno.readTextFileSync(`${dir}/value`), "1\n", "nothing was written");
      assert.equal(result.error?.kind, "PermissionDenied", JSON.stringify(result.error));
      assert.equal(result.error?.message, `open ${dir}/value: EROFS`);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
