// Private: running this checkout's Deno as `nobody` (for the tools' behaviour without root).
// nobody cannot read root's Deno cache, so it gets its own, with a copy of the npm packages
// (no download), removed afterwards.

/** Builds the command lines that run `deno run --cached-only …` as nobody. */
export interface NobodyDeno {
  /**
   * The command line that runs `deno run --cached-only <runArgs…>` as nobody.
   *
   * @param runArgs What follows `deno run`: flags, the script, its arguments.
   */
  argv(runArgs: readonly string[]): string[];
}

/** Runs `body` with a Deno cache for nobody, removed afterwards. */
export async function withNobodyDeno<T>(body: (nobody: NobodyDeno) => Promise<T>): Promise<T> {
  const denoDir = await Deno.makeTempDir({ prefix: "mcast-nobody-" });
  try {
    const info = JSON.parse(
      new TextDecoder().decode(
        (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output()).stdout,
      ),
    );
    for (
      const args of [["cp", "-r", info.npmCache, `${denoDir}/npm`], [
        "chmod",
        "-R",
        "a+rwX",
        denoDir,
      ]]
    ) {
      const { code, stderr } = await new Deno.Command(args[0], { args: args.slice(1) }).output();
      if (code !== 0) throw new Error(`${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
    }
    return await body({
      argv: (runArgs) => [
        "runuser",
        "-u",
        "nobody",
        "--",
        "env",
        `DENO_DIR=${denoDir}`,
        `HOME=${denoDir}`,
        "NO_COLOR=1",
        Deno.execPath(),
        "run",
        "--cached-only",
        ...runArgs,
      ],
    });
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
}
