// Private helper of the tests that run a step as the unprivileged user `nobody` (runuser): a Deno
// runtime and a copy of the checkout that `nobody` can execute and read, wherever this run's own
// Deno and checkout live. A newcomer's Deno comes from npx's cache under root's home (mode 0700)
// and the clone may sit under a 0700 directory: `nobody` can reach neither, so both are copied
// into one temporary directory that it can (deleted at exit). Outside CI, a machine where this
// cannot be arranged (no runuser, no nobody) makes the test skip with a notice; with CI=true it
// fails, naming what is missing.

import { findOnPath } from "./lab/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** What of the checkout a step may need: the library, the tools, the tests' peers and config. */
const COPIED = ["ffi", "lib", "cli", "tests", "mod.ts", "deno.json", "deno.lock"];

/** A runtime and a checkout `nobody` can use. */
export interface NobodyRuntime {
  /** The Deno binary to run. */
  deno: string;
  /** The checkout root to run scripts from (the real one when `nobody` can read it). */
  root: string;
  /** A DENO_DIR `nobody` may write, holding a copy of this run's npm cache. */
  denoDir: string;
  /** The argv prefix that runs a command as `nobody` with that DENO_DIR and HOME. */
  prefix: string[];
}

let prepared: Promise<NobodyRuntime | string> | undefined;
let scratch: string | undefined;

/**
 * Why steps cannot run as `nobody` here, or null when they can.
 *
 * @returns The missing piece, or null.
 */
export function nobodyMissing(): string | null {
  if (Deno.uid() !== 0) return "root (runuser needs it)";
  if (findOnPath("runuser") === undefined) return "runuser";
  const id = new Deno.Command("id", { args: ["-u", "nobody"], stdout: "null", stderr: "null" })
    .outputSync();
  return id.success ? null : "a user named nobody";
}

/**
 * The runtime, prepared once per process: Deno and the checkout are used where they are when
 * `nobody` can reach them, copied otherwise.
 *
 * @returns The runtime, or the reason it cannot be had.
 */
export function nobodyRuntime(): Promise<NobodyRuntime | string> {
  prepared ??= prepare();
  return prepared;
}

async function prepare(): Promise<NobodyRuntime | string> {
  const missing = nobodyMissing();
  if (missing !== null) return `missing ${missing}`;
  scratch = await Deno.makeTempDir({ prefix: "mcast-nobody-" });
  await Deno.chmod(scratch, 0o755);
  globalThis.addEventListener("unload", () => {
    try {
      if (scratch !== undefined) Deno.removeSync(scratch, { recursive: true });
    } catch { /* best effort */ }
  });
  let deno = Deno.execPath();
  if (!(await canNobody("-x", deno))) {
    deno = `${scratch}/deno`;
    await Deno.copyFile(Deno.execPath(), deno);
    await Deno.chmod(deno, 0o755);
  }
  let root = ROOT;
  if (!(await canNobody("-r", `${ROOT}/deno.json`)) || !(await canNobody("-x", `${ROOT}/lib`))) {
    root = `${scratch}/checkout`;
    await Deno.mkdir(root);
    for (const entry of COPIED) await run(["cp", "-r", `${ROOT}/${entry}`, `${root}/${entry}`]);
    await run(["chmod", "-R", "a+rX", root]);
  }
  const denoDir = `${scratch}/deno-dir`;
  await Deno.mkdir(denoDir);
  const info = JSON.parse(
    new TextDecoder().decode(
      (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output()).stdout,
    ),
  );
  if (typeof info.npmCache === "string") {
    await run(["cp", "-r", info.npmCache, `${denoDir}/npm`]).catch(() => {});
  }
  await run(["chmod", "-R", "a+rwX", denoDir]);
  return {
    deno,
    root,
    denoDir,
    prefix: ["runuser", "-u", "nobody", "--", "env", `DENO_DIR=${denoDir}`, `HOME=${denoDir}`],
  };
}

async function canNobody(test: "-x" | "-r", path: string): Promise<boolean> {
  const out = await new Deno.Command("runuser", {
    args: ["-u", "nobody", "--", "test", test, path],
    stdout: "null",
    stderr: "null",
  }).output();
  return out.success;
}

async function run(argv: string[]): Promise<void> {
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${argv.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/**
 * The path of a checkout file as `nobody` sees it (in the copy when there is one).
 *
 * @param runtime The prepared runtime.
 * @param url The file, as `new URL("…", import.meta.url)` of the test.
 * @returns The path.
 */
export function nobodyPath(runtime: NobodyRuntime, url: URL): string {
  const path = decodeURIComponent(url.pathname);
  return path.startsWith(`${ROOT}/`) ? `${runtime.root}${path.slice(ROOT.length)}` : path;
}

/**
 * Registers a test that needs steps run as `nobody`: it gets the runtime; when it cannot be had,
 * the test is skipped with a notice outside CI and fails under `CI=true`.
 *
 * @param name The test name.
 * @param fn The body.
 */
export function nobodyTest(name: string, fn: (runtime: NobodyRuntime) => Promise<void>): void {
  const missing = nobodyMissing();
  if (missing !== null && Deno.env.get("CI") !== "true") {
    console.warn(`SKIP ${name}: needs ${missing} to run a step as nobody`);
    Deno.test({ name, ignore: true, fn() {} });
    return;
  }
  Deno.test(name, async () => {
    const runtime = await nobodyRuntime();
    if (typeof runtime === "string") {
      throw new Error(`Cannot run a step as nobody under CI=true: ${runtime}`);
    }
    await fn(runtime);
  });
}
