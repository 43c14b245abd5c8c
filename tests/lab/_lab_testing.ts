/**
 * Private: `labTest()`, the one way to declare a test that needs a lab — it checks the
 * requirements (root, `ip`, extra programs), skips or fails when they are missing, and disposes
 * every lab the test made, also on time-out. The only part of the harness that registers Deno
 * tests. (Not named `_lab_test.ts`: `deno test` would take that for a test module.)
 *
 * @module
 */

import { LabError } from "../../lib/errors.ts";
import { findOnPath } from "../../lib/lab/programs.ts";
import { liveLabs } from "../../lib/lab/live_labs.ts";
import { Lab } from "./_lab.ts";

/** Options of {@linkcode labTest}. */
export interface LabTestOptions {
  /** Programs that must be on PATH besides `ip`, for example `["tcpdump", "smcroute"]`. */
  requires?: string[];
  /**
   * Fail (after cleaning up) when the test takes longer than this.
   *
   * @default {60000}
   */
  timeoutMs?: number;
  /** Ignore the test (as `Deno.test`'s `ignore`). */
  ignore?: boolean;
  /** Run only this test (as `Deno.test`'s `only`). */
  only?: boolean;
  /**
   * Deno's op sanitizer.
   *
   * @default {true}
   */
  sanitizeOps?: boolean;
  /**
   * Deno's resource sanitizer.
   *
   * @default {true}
   */
  sanitizeResources?: boolean;
}

/**
 * What is missing to run lab tests here: `"root"`, `"ip"` and any of `requires` not on PATH.
 *
 * @param requires Extra programs.
 * @returns Missing things; empty when lab tests can run.
 */
export function missingLabRequirements(requires: readonly string[] = []): string[] {
  const missing: string[] = [];
  let uid: number | null = null;
  try {
    uid = Deno.uid();
  } catch { /* no permission to ask: treat as not root */ }
  if (uid !== 0) missing.push("root");
  for (const program of ["ip", ...requires]) {
    if (!findOnPath(program) && !missing.includes(program)) missing.push(program);
  }
  return missing;
}

/**
 * Register a Deno test that gets a fresh {@linkcode Lab}, disposed after the body (also when it
 * throws or exceeds `timeoutMs`); labs the body creates itself are cleaned up too.
 *
 * When root, `ip` or a `requires` program is missing: outside CI the test is registered as
 * ignored and a `SKIP lab test …` notice is printed; with `CI=true` it is registered and fails,
 * naming what is missing.
 *
 * @param name Test name.
 * @param fn The body; gets the lab and Deno's test context.
 * @param options Requirements, time limit, sanitizers.
 * @example
 * ```ts ignore
 * import { labTest } from "./mod.ts";
 * labTest("capture on a link", async (lab) => {
 *   const [a, b] = [await lab.addNamespace("a"), await lab.addNamespace("b")];
 *   const link = await lab.link(a, b);
 *   const capture = await b.capture(link.b.name, { filter: "udp" });
 *   await a.run(["bash", "-c", `echo hi > /dev/udp/${link.b.ipv4}/9000`]);
 *   const packets = await capture.packets();
 *   if (packets[0]?.dstPort !== 9000) throw new Error("not captured");
 * }, { requires: ["tcpdump", "bash"] });
 * ```
 */
export function labTest(
  name: string,
  fn: (lab: Lab, t: Deno.TestContext) => void | Promise<void>,
  options: LabTestOptions = {},
): void {
  const base = {
    name,
    only: options.only,
    sanitizeOps: options.sanitizeOps,
    sanitizeResources: options.sanitizeResources,
  };
  const missing = options.ignore ? [] : missingLabRequirements(options.requires);
  if (missing.length > 0) {
    const what = missing.join(", ");
    if (Deno.env.get("CI") === "true") {
      Deno.test({
        ...base,
        fn() {
          throw new LabError(`Lab test cannot run under CI=true: missing ${what}`);
        },
      });
    } else {
      console.warn(`SKIP lab test ${name}: needs root and ip netns; missing ${what}`);
      Deno.test({ ...base, ignore: true, fn() {} });
    }
    return;
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  Deno.test({
    ...base,
    ignore: options.ignore,
    async fn(t) {
      const before = new Set(liveLabs());
      const lab = await Lab.create();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      let outcome: unknown;
      let bodyError: unknown;
      const body = Promise.resolve().then(() => fn(lab, t));
      body.catch(() => {}); // after a time-out nobody awaits the body any more
      try {
        outcome = await Promise.race([body, timeout]);
      } catch (error) {
        bodyError = error ?? new LabError("Lab test body threw a nullish value");
      } finally {
        clearTimeout(timer);
      }
      const created = liveLabs().filter((l) => !before.has(l));
      const results = await Promise.allSettled([lab, ...created].map((l) => l.close()));
      if (bodyError !== undefined) throw bodyError;
      if (outcome === "timeout") {
        throw new LabError(
          `Lab test timed out after ${timeoutMs} ms (namespaces deleted): ${name}`,
        );
      }
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    },
  });
}
