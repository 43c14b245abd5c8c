/**
 * `mcast-lab`: a classroom multicast network on this machine, in one command — hosts, snooping
 * switches with a querier and smcroute routers made of network namespaces, veth links and
 * bridges; commands and shells on its hosts with the mcast tools on PATH; one command to remove
 * it. Needs root. Everything it creates is named `mlab-<lab>-<host>` and recorded under
 * /run/mcast/labs; it never touches the host's own interfaces, routes or sysctls, nor any
 * namespace it has no record of.
 *
 * ```sh
 * sudo deno task mcast-lab up routed          # build lab "lab" and print its map
 * sudo deno task mcast-lab exec r1 -- mcast-receive 232.1.1.1 10.0.1.10
 * sudo deno task mcast-lab shell sender       # a shell on the sender, its prompt names it
 * sudo deno task mcast-lab status --json      # { "labs": [ … ] }, CONTRACT "mcast-lab"
 * sudo deno task mcast-lab down               # remove lab "lab" (--all: every lab)
 * ```
 *
 * @module
 */

import type { Command } from "commander";
import { createProgram, EXIT, runTool } from "./_cli.ts";
import { labTools } from "./_lab_tools.ts";
import { renderDown, renderMap, renderStatus } from "./_lab_view.ts";
import { abortOnSignals } from "./_runtime.ts";
import { downAllLabs, downLab, strayNamespaces } from "../lib/classroom/down.ts";
import { execOnHost, resolveHost, shellOnHost } from "../lib/classroom/host_exec.ts";
import {
  checkLabName,
  classroomOptions,
  DEFAULT_LAB_NAME,
  parseHostRef,
  parseTopology,
} from "../lib/classroom/options.ts";
import { requireRoot } from "../lib/classroom/root.ts";
import { labStatuses, statusJson } from "../lib/classroom/status.ts";
import { upLab } from "../lib/classroom/up.ts";

const NAME = "mcast-lab";

const EXAMPLES = [
  'sudo mcast-lab up                     # lab "lab": a snooping LAN, one sender, three receivers',
  "sudo mcast-lab up routed              # sender - router - two receiver LANs (smcroute)",
  "sudo mcast-lab up campus --drop 10    # two routers, DSCP remarked, 10 % lost",
  "sudo mcast-lab up lan --name b --querier v2",
  "sudo mcast-lab exec r1 -- mcast-receive 232.1.1.1 10.0.1.10",
  "sudo mcast-lab exec b/sender -- mcast-send 239.1.1.1 --count 100",
  "sudo mcast-lab shell r1",
  "sudo mcast-lab status --json",
  "sudo mcast-lab down --all",
];

const NOTES = `Topologies:
  lan     sender, r1, r2, r3 on switch sw (bridge with IGMP/MLD snooping and a querier)
  routed  sender - rt1 (smcroute) - sw1 (r1, r2) and sw2 (r3)
  campus  sender - rt1 - rt2 - sw (r1, r2), and r3 behind rt1; rt2 remarks DSCP (af11)
  Subnet n is 10.0.n.0/24 and fd00:0:0:n::/64; the sender is 10.0.1.10 in every topology.
Hosts: HOST names a host of lab "${DEFAULT_LAB_NAME}", NAME/HOST one of lab NAME. Inside exec and
  shell, mcast-send, mcast-receive, mcast-status and mctx-send are on PATH.
Everything mcast-lab makes is named mlab-<lab>-<host> and recorded in /run/mcast/labs; down
  removes exactly that, also after an interrupted up. Needs root.
`;

/** What `main` was asked to do, after parsing: run it (as root) for the exit code. */
type Action = () => Promise<number>;

function parseArgs(argv: string[]): Action | null {
  let action: Action | null = null;
  const program = createProgram(
    NAME,
    "A classroom multicast network in network namespaces",
    EXAMPLES,
  )
    .enablePositionalOptions()
    .addHelpText("after", NOTES);
  program.command("up")
    .description("build a lab and print its map")
    .argument("[topology]", "lan, routed or campus", "lan")
    .option("-n, --name <name>", "the lab's name", DEFAULT_LAB_NAME)
    .option("--querier <version>", "the switches' querier: v2, v3 or none", "v3")
    .option("--remark <class>", "DSCP the policy box writes into forwarded multicast")
    .option("--drop <pct>", "percent of forwarded multicast the policy box drops at random")
    .option("--rp-filter <mode>", "strict: reverse-path filtering on r1, with no route back")
    .action((topologyText: string, o: UpFlags) => {
      const topology = parseTopology(topologyText);
      const name = checkLabName(o.name);
      const options = classroomOptions({
        querier: o.querier,
        remark: o.remark,
        drop: o.drop,
        rpFilter: o.rpFilter,
      });
      action = () => up(name, topology, options);
    });
  program.command("exec")
    .description("run a command on a lab host (the mcast tools are on PATH)")
    .argument("<host>", "HOST or NAME/HOST")
    .argument("<command...>", "the command (after --)")
    .passThroughOptions()
    .action((host: string, words: string[]) => {
      const ref = parseHostRef(host);
      const command = words[0] === "--" ? words.slice(1) : words; // passThroughOptions keeps it
      if (command.length === 0) throw new InvalidUsage(`${NAME}: exec needs a command after --`);
      action = async () => await execOnHost(await resolveHost(ref), command);
    });
  program.command("shell")
    .description("open a shell on a lab host, its prompt naming the host")
    .argument("<host>", "HOST or NAME/HOST")
    .action((host: string) => {
      const ref = parseHostRef(host);
      action = async () => await shellOnHost(await resolveHost(ref));
    });
  program.command("status")
    .description("list the labs and their hosts")
    .option("--json", "print one JSON object")
    .action((o: { json?: boolean }) => {
      action = () => status(o.json ?? false);
    });
  program.command("down")
    .description("remove a lab: its namespaces, daemons and files, and nothing else")
    .argument("[name]", "the lab's name", DEFAULT_LAB_NAME)
    .option("-a, --all", "remove every lab mcast-lab made")
    .action((name: string, o: { all?: boolean }, command: Command) => {
      const all = o.all ?? false;
      if (all && command.args.length > 0) {
        throw new InvalidUsage(`${NAME}: down takes a NAME or --all, not both`);
      }
      const lab = checkLabName(name);
      action = () => down(all ? null : lab);
    });
  program.parse(argv, { from: "user" });
  return action;
}

interface UpFlags {
  name: string;
  querier: string;
  remark?: string;
  drop?: string;
  rpFilter?: string;
}

/** A usage error found after commander's own checks: printed here, exit 2. */
class InvalidUsage extends Error {}

/**
 * Runs `mcast-lab` with the given arguments.
 *
 * @example
 * ```ts ignore
 * import { main } from "./mcast_lab.ts";
 * const code = await main(["status", "--json"]);
 * ```
 *
 * @param args The command-line arguments (without the program name).
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  let action: Action | null;
  try {
    action = parseArgs(args);
  } catch (error) {
    if (!(error instanceof InvalidUsage)) throw error;
    console.error(error.message);
    return EXIT.usage;
  }
  if (action === null) return EXIT.ok; // --help / --version were handled by commander
  requireRoot();
  return await action();
}

async function up(
  name: string,
  topology: ReturnType<typeof parseTopology>,
  options: ReturnType<typeof classroomOptions>,
): Promise<number> {
  using stop = abortOnSignals();
  const record = await upLab({ name, topology, options, tools: labTools(), signal: stop.signal });
  console.log(renderMap(record));
  return EXIT.ok;
}

async function status(json: boolean): Promise<number> {
  const statuses = await labStatuses();
  if (json) console.log(JSON.stringify(statusJson(statuses), null, 2));
  else console.log(renderStatus(statuses, await strayNamespaces()).trimEnd());
  return EXIT.ok;
}

async function down(name: string | null): Promise<number> {
  if (name !== null) {
    console.log(renderDown([await downLab(name)]).trimEnd());
    return EXIT.ok;
  }
  const { labs, strays } = await downAllLabs();
  console.log(renderDown(labs).trimEnd());
  if (strays.length > 0) {
    console.error(
      `${NAME}: left alone (no record, not made by mcast-lab): ${strays.join(", ")}`,
    );
  }
  return EXIT.ok;
}

if (import.meta.main) await runTool(NAME, main);
