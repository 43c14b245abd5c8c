/**
 * The project's test runner (`deno task test`).
 *
 * Runs `deno test` twice, streaming its normal output: the suites under `tests/` (with
 * `--v8-flags=--expose-gc`), then the JSDoc examples of `mod.ts`, `lib/` and `ffi/` (`--doc`), kept
 * apart so that a broken example cannot stop the unit tests from running. Each run also writes a
 * JUnit report; the runner counts top-level tests from them (test steps are not counted; filtered
 * out tests are not counted; ignored tests are "skipped") and prints, as its last line:
 *
 * ```
 * 12 passed, 0 failed, 3 skipped
 * ```
 *
 * (`, N skipped` only when some were). Modules that fail outside any test (an uncaught error at
 * load time, which the JUnit report leaves out) count as one failed test each, and a `deno test`
 * that fails without any failed test (type-check error, crash) counts as one failure. The exit
 * code is 1 when anything failed.
 *
 * Extra arguments go to `deno test`: options (`--filter x`, `--parallel`, `--fail-fast`…) are
 * added to every run; paths replace the default targets and run once (add `--doc` yourself for
 * examples):
 *
 * ```
 * deno task test --filter lab
 * deno task test tests/lab/
 * ```
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Counts of one or more JUnit reports. */
export interface Counts {
  /** Top-level tests (and doc examples) that passed. */
  passed: number;
  /** Top-level tests that failed, plus modules that failed outside a test. */
  failed: number;
  /** Ignored tests (`ignore: true`, or lab tests skipped for lack of root). */
  skipped: number;
}

interface TestCase {
  name: string;
  hasTime: boolean;
  failed: boolean;
  skipped: boolean;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#(\d+)|#x([0-9a-f]+));/gi, (_, name, dec, hex) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" }[name as string] ?? _;
  });
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescapeXml(m[1]) : undefined;
}

/**
 * Count a JUnit report as Deno 2.9 writes it: one `<testsuite>` per module (doc examples are
 * modules named `file.ts#L-M.ts`), one `<testcase>` per test and per step (`parent > step`);
 * failures carry `<failure>`, ignored tests `<skipped/>` with a `time`, and tests left out by
 * `--filter`/`only` `<skipped/>` without one.
 *
 * @param xml The report.
 * @returns The counts of top-level tests.
 */
export function countJunit(xml: string): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  const suiteRe = /<testsuite\b[^>]*>([\s\S]*?)<\/testsuite>/g;
  for (const suite of xml.matchAll(suiteRe)) {
    const cases: TestCase[] = [];
    const caseRe = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
    for (const m of suite[1].matchAll(caseRe)) {
      const tag = m[1];
      const body = m[3] ?? "";
      cases.push({
        name: attribute(tag, "name") ?? "",
        hasTime: attribute(tag, "time") !== undefined,
        failed: /<(failure|error)\b/.test(body),
        skipped: /<skipped\b/.test(body),
      });
    }
    const names = new Set(cases.map((c) => c.name));
    for (const c of cases) {
      const cut = c.name.lastIndexOf(" > ");
      if (cut > 0 && names.has(c.name.slice(0, cut))) continue; // a step of another test case
      if (c.failed) counts.failed++;
      else if (c.skipped) {
        if (c.hasTime) counts.skipped++; // ignored; without time: filtered out, not counted
      } else counts.passed++;
    }
  }
  return counts;
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/**
 * Modules that failed outside any test, from `deno test` output (`./x_test.ts (uncaught error)`).
 *
 * @param output The combined output of a run.
 * @returns The distinct module names.
 */
export function uncaughtModules(output: string): string[] {
  const found = new Set<string>();
  for (const line of output.replace(ANSI, "").split("\n")) {
    const m = /^(\S.*) \(uncaught error\)\s*$/.exec(line);
    if (m) found.add(m[1]);
  }
  return [...found];
}

/**
 * `deno test`'s own summary line, for a cross-check (`ok | 3 passed (1 step) | 0 failed | 1 ignored`).
 *
 * @param output The combined output of a run.
 * @returns passed/failed/ignored of the last summary line, if any.
 */
export function denoSummary(output: string): Counts | undefined {
  const lines = output.replace(ANSI, "").split("\n").filter((l) =>
    /^(ok|FAILED) \| \d+ passed/.test(l)
  );
  const last = lines.at(-1);
  if (!last) return undefined;
  const num = (what: string) => Number(new RegExp(`(\\d+) ${what}`).exec(last)?.[1] ?? 0);
  return { passed: num("passed"), failed: num("failed"), skipped: num("ignored") };
}

/** Deno test options that take their value as the next argument. */
const VALUE_OPTIONS = new Set([
  "--filter",
  "--reporter",
  "--config",
  "-c",
  "--import-map",
  "--location",
  "--seed",
  "--cert",
  "--log-level",
  "-L",
  "--ext",
  "--preload",
  "--require",
  "--junit-path",
]);

function splitArgs(args: string[]): { options: string[]; paths: string[] } {
  const options: string[] = [];
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      paths.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("-")) {
      options.push(arg);
      if (VALUE_OPTIONS.has(arg) && i + 1 < args.length) options.push(args[++i]);
    } else {
      paths.push(arg);
    }
  }
  return { options, paths };
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function hasTypeScript(dir: string): boolean {
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isFile && /\.(ts|tsx|js|mjs)$/.test(entry.name)) return true;
      if (entry.isDirectory && hasTypeScript(`${dir}/${entry.name}`)) return true;
    }
  } catch { /* missing */ }
  return false;
}

interface Run {
  label: string;
  args: string[];
}

interface RunResult {
  code: number;
  counts: Counts;
  notes: string[];
}

async function pipe(
  stream: ReadableStream<Uint8Array>,
  sink: { write(p: Uint8Array): Promise<number> },
  chunks: string[],
): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    let written = 0;
    while (written < chunk.length) written += await sink.write(chunk.subarray(written));
    chunks.push(decoder.decode(chunk, { stream: true }));
  }
}

async function runOnce(run: Run): Promise<RunResult> {
  const junit = await Deno.makeTempFile({ prefix: "mcast-junit-", suffix: ".xml" });
  await Deno.remove(junit); // deno test writes it; absent afterwards = no report
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["test", `--junit-path=${junit}`, ...run.args],
      cwd: ROOT,
      stdin: "inherit",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out: string[] = [];
    await Promise.all([
      pipe(child.stdout, Deno.stdout, out),
      pipe(child.stderr, Deno.stderr, out),
    ]);
    const { code } = await child.status;
    const output = out.join("");
    const notes: string[] = [];
    let counts: Counts = { passed: 0, failed: 0, skipped: 0 };
    let xml: string | undefined;
    try {
      xml = await Deno.readTextFile(junit);
    } catch { /* no report */ }
    if (xml !== undefined) counts = countJunit(xml);
    const uncaught = uncaughtModules(output);
    if (uncaught.length > 0) {
      counts.failed += uncaught.length;
      notes.push(`${run.label}: failed outside any test: ${uncaught.join(", ")}`);
    }
    const noModules = /error: No test modules found/.test(output.replace(ANSI, ""));
    if (code !== 0 && counts.failed === 0 && !noModules) {
      counts.failed += 1;
      notes.push(
        `${run.label}: deno test exited with code ${code} without a failed test ` +
          `(type-check error or crash, see above): counted as 1 failure`,
      );
    }
    const own = denoSummary(output);
    if (
      own && xml !== undefined &&
      (own.passed !== counts.passed || own.failed !== counts.failed ||
        own.skipped !== counts.skipped)
    ) {
      notes.push(
        `${run.label}: note: deno's summary says ${own.passed} passed, ${own.failed} failed, ` +
          `${own.skipped} ignored (its counts include test steps)`,
      );
    }
    return { code: noModules && counts.failed === 0 ? 0 : code, counts, notes };
  } finally {
    await Deno.remove(junit).catch(() => {});
  }
}

/**
 * Format the final line.
 *
 * @param counts Totals.
 * @returns `N passed, N failed` plus `, N skipped` when some were skipped.
 */
export function summaryLine(counts: Counts): string {
  const base = `${counts.passed} passed, ${counts.failed} failed`;
  return counts.skipped > 0 ? `${base}, ${counts.skipped} skipped` : base;
}

async function main(args: string[]): Promise<number> {
  const { options, paths } = splitArgs(args);
  if (options.some((o) => o === "--junit-path" || o.startsWith("--junit-path="))) {
    console.error("Invalid option: --junit-path (the runner writes its own JUnit reports)");
    return 2;
  }
  const base = ["--allow-all", "--v8-flags=--expose-gc"];
  const runs: Run[] = [];
  if (paths.length > 0) {
    const cwd = Deno.cwd();
    const absolute = paths.map((p) => p.startsWith("/") ? p : `${cwd}/${p}`);
    runs.push({ label: "tests", args: [...base, ...options, ...absolute] });
  } else {
    runs.push({ label: "tests", args: [...base, ...options, "tests/"] });
    const docTargets = ["mod.ts", "lib", "ffi"].filter((t) =>
      t.endsWith(".ts") ? exists(`${ROOT}/${t}`) : hasTypeScript(`${ROOT}/${t}`)
    );
    if (docTargets.length > 0) {
      runs.push({ label: "doc examples", args: [...base, "--doc", ...options, ...docTargets] });
    }
  }
  const total: Counts = { passed: 0, failed: 0, skipped: 0 };
  const notes: string[] = [];
  let worst = 0;
  for (const run of runs) {
    console.log(`\n== deno test (${run.label}): deno test ${run.args.join(" ")}`);
    const result = await runOnce(run);
    total.passed += result.counts.passed;
    total.failed += result.counts.failed;
    total.skipped += result.counts.skipped;
    notes.push(...result.notes);
    if (result.code !== 0) worst = 1;
  }
  if (total.failed > 0) worst = 1;
  console.log("");
  for (const note of notes) console.log(note);
  console.log(summaryLine(total));
  return worst;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
