/**
 * The CPU time of a running process as /proc shows it, for the idle and startup benchmarks:
 * `utime + stime` of `/proc/PID/stat` (clock ticks, threads that exited included) and the sum of
 * `/proc/PID/task/TID/schedstat`'s run time (nanoseconds), and the process a
 * wrapper (`ip netns exec`, `script`, `sh -c`) finally runs.
 *
 * @module
 */

/** Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** One reading of a process's CPU time. */
export interface CpuSample {
  /** `performance.now()` when read. */
  at: number;
  /** utime + stime of /proc/PID/stat, in ms (10 ms steps). */
  statMs: number;
  /**
   * Run time of its threads from schedstat, in ms (ns precision): each thread as last read, so
   * a thread that exited keeps what it had when last seen.
   */
  schedMs: number;
}

function statFields(text: string): string[] {
  // After the command name in parentheses: state is field 3, ppid 4, utime 14, stime 15.
  return text.slice(text.lastIndexOf(")") + 2).trim().split(" ");
}

/**
 * Read a process's CPU time.
 *
 * @param pid The process.
 * @param threads Each thread's last run time (ns), kept between the samples of one process.
 * @returns The sample, or null when the process is gone.
 */
export async function sampleCpu(
  pid: number,
  threads: Map<string, number> = new Map(),
): Promise<CpuSample | null> {
  try {
    const at = performance.now();
    const fields = statFields(await Deno.readTextFile(`/proc/${pid}/stat`));
    const ticks = Number(fields[11]) + Number(fields[12]);
    for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
      try {
        const text = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/schedstat`);
        threads.set(task.name, Number(text.split(" ")[0]));
      } catch {
        // the thread just exited: its last reading stands
      }
    }
    let schedNs = 0;
    for (const ns of threads.values()) schedNs += ns;
    return { at, statMs: (ticks * 1000) / USER_HZ, schedMs: schedNs / 1e6 };
  } catch {
    return null;
  }
}

async function children(): Promise<Map<number, number[]>> {
  const byParent = new Map<number, number[]>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const ppid = Number(statFields(await Deno.readTextFile(`/proc/${entry.name}/stat`))[1]);
      const list = byParent.get(ppid) ?? [];
      list.push(Number(entry.name));
      byParent.set(ppid, list);
    } catch {
      // gone
    }
  }
  return byParent;
}

async function exeOf(pid: number): Promise<string> {
  try {
    return await Deno.readLink(`/proc/${pid}/exe`);
  } catch {
    return "";
  }
}

/**
 * The process running `exe` at or below `root` (the wrapper itself when it has exec'd).
 *
 * @param root The spawned wrapper's pid.
 * @param exe The executable's base name (`deno`, `iperf`, `sender`).
 * @returns Its pid, or null when not (yet) running.
 */
export async function findProcess(root: number, exe: string): Promise<number | null> {
  const byParent = await children();
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if ((await exeOf(pid)).split("/").pop() === exe) return pid;
    queue.push(...(byParent.get(pid) ?? []));
  }
  return null;
}

/** The samples of one process over its life. */
export class CpuWatch {
  readonly samples: CpuSample[] = [];
  readonly #threads = new Map<string, number>();
  #pid: number | null = null;
  #stopped = false;
  #loop: Promise<void>;

  /**
   * Start sampling every `everyMs` the process running `exe` below `root`.
   *
   * @param root The spawned wrapper's pid.
   * @param exe The executable's base name.
   * @param everyMs Sampling interval.
   */
  constructor(root: number, exe: string, everyMs = 200) {
    this.#loop = (async () => {
      while (!this.#stopped) {
        this.#pid ??= await findProcess(root, exe);
        if (this.#pid !== null) {
          const sample = await sampleCpu(this.#pid, this.#threads);
          if (sample === null) break;
          this.samples.push(sample);
        }
        await new Promise((r) => setTimeout(r, this.#pid === null ? 5 : everyMs));
      }
    })();
  }

  /** The process's pid once found. */
  get pid(): number | null {
    return this.#pid;
  }

  /** Stop sampling (after the process exited, or to give up). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}
