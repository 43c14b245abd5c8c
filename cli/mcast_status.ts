/**
 * `mcast-status`: which multicast groups this host (or network namespace) is joined to, per
 * interface, with the filter mode and sources, the operational IGMP/MLD version and the
 * `force_igmp_version` / `force_mld_version` settings. Reads `/proc/net/igmp`, `/proc/net/igmp6`,
 * `/proc/net/mcfilter` and `/proc/net/mcfilter6` (through libc: see `ffi/procfs.ts`).
 *
 * ```sh
 * deno task mcast-status            # memberships, kernel defaults (224.0.0.1, ff02::1 …) hidden
 * deno task mcast-status --all -i eth0
 * deno task mcast-status --json     # { "interfaces": [ … ] }, CONTRACT "mcast-status"
 * deno task mcast-status --watch    # redraw every second until Ctrl-C
 * deno task mcast-status --check 232.1.1.1 10.0.0.1 -i eth1   # what stops reception, and fixes
 * ```
 *
 * `--watch --json` prints one compact JSON object per line every second (NDJSON), for scripts
 * that follow membership changes.
 *
 * @module
 */

import Table from "cli-table3";
import { createProgram, EXIT, integerIn, runTool } from "./_cli.ts";
import { checkJson, renderCheck } from "./_check_view.ts";
import { colors, LiveView } from "./_dashboard.ts";
import { checkReception } from "../lib/diagnosis/check_reception.ts";
import { InvalidValueError } from "../lib/errors.ts";
import { abortOnSignals, sleepUntil } from "./_runtime.ts";
import { type NetworkInterface, resolveInterface } from "../lib/interfaces.ts";
import { DEFAULT_FORCE_RECORD_DIR, listForceRecords, splitHolders } from "../lib/force_record.ts";
import { networkNamespaceId } from "../lib/host_identity.ts";
import {
  emptyInterfaceState,
  type GroupState,
  type InterfaceState,
  type MulticastState,
  readMulticastState,
  withoutKernelDefaults,
} from "../lib/multicast_state.ts";

const NAME = "mcast-status";

/** A record of a forced version: who holds it, and what goes back after the last one. */
interface ForceHolderJson {
  interface: string;
  protocol: "igmp" | "mld";
  original: number;
  forced: number;
  holders: { pid: number; requested: number; since: string; alive: boolean }[];
}

/** What `--json` prints: the contract's object, and who holds forced versions. */
interface StatusJson extends MulticastState {
  force_holders: ForceHolderJson[];
}

/** The records of forced versions in this network namespace (readable without root). */
function forceHolders(): ForceHolderJson[] {
  return listForceRecords(DEFAULT_FORCE_RECORD_DIR, networkNamespaceId()).map((record) => {
    const { live } = splitHolders(record.holders);
    return {
      interface: record.interface,
      protocol: record.protocol,
      original: record.original,
      forced: record.forced,
      holders: record.holders.map((h) => ({
        pid: h.pid,
        requested: h.requested,
        since: h.since,
        alive: live.includes(h),
      })),
    };
  });
}
const WATCH_INTERVAL_MS = 1000;

/** The parsed command line. */
interface StatusArgs {
  all: boolean;
  interface?: string;
  json: boolean;
  watch: boolean;
  /** `--check GROUP`: the group to check, with its sources and port. */
  check?: { group: string; sources: string[]; port?: number };
}

const EXAMPLES = [
  "mcast-status                  # current memberships, kernel defaults hidden",
  "mcast-status --all            # include 224.0.0.1, ff02::1, solicited-node groups …",
  "mcast-status -i eth0          # one interface (name, index or local address)",
  "mcast-status --json | jq '.interfaces[].groups[].group'",
  "mcast-status --watch          # redraw every second until Ctrl-C",
  "mcast-status --watch --json   # one JSON object per line, every second",
  "mcast-status --check 239.1.1.1 -i eth1            # what stops reception, with the fixes",
  "mcast-status --check 232.1.1.1 10.0.0.1,10.0.0.2 --port 5000 --json",
];

const NOTES = `Notes:
  mode INCLUDE lists the only sources accepted (SSM, (S,G) joins); EXCLUDE with no sources is an
  any-source (*,G) join. Users counts the sockets (and kernel users) joined to the group.
  IGMP is the version the kernel speaks now (the forced one, or v1/v2 while an older querier was
  heard); MLD is 2 unless force_mld_version is 1. A force value of 0 means not forced.
  Without --all the table leaves out interfaces that have only kernel-default groups; --json
  always lists every interface that has IPv4 or IPv6 multicast state.
  --watch: on a terminal the view is redrawn in place; otherwise a new table is printed every
  second; with --json one compact JSON object per line every second.
  --check GROUP [SOURCE[,SOURCE...]]: read-only checks of the route, the interface, reverse-path
  filtering, the IGMP/MLD version and querier, the firewall, the membership limits, the joins and
  the SSM range, each finding with the command that fixes it. Exit 0 when nothing blocks
  reception (warnings may be printed), 3 when an error does. Firewall rules need root to read.
`;

function parseArgs(argv: string[]): StatusArgs | null {
  let parsed: StatusArgs | null = null;
  const program = createProgram(
    NAME,
    "Show this host's multicast group memberships per interface (IGMP/MLD)",
    EXAMPLES,
  )
    .option("-a, --all", "include the groups the kernel joins by itself (224.0.0.1, ff02::1 …)")
    .option("-i, --interface <iface>", "only this interface (name, index or local address)")
    .option("--json", "print the state as one JSON object")
    .option("-w, --watch", "refresh every second until Ctrl-C")
    .option("--check <group>", "check what stops reception of this group (or channel)")
    .option(
      "--port <port>",
      "with --check: the UDP port (default 19779)",
      integerIn("port", 1, 65535),
    )
    .argument("[source]", "with --check: the SSM source, or a comma list of sources")
    .addHelpText("after", NOTES)
    .action((source: string | undefined) => {
      const o = program.opts<
        {
          all?: boolean;
          interface?: string;
          json?: boolean;
          watch?: boolean;
          check?: string;
          port?: number;
        }
      >();
      if (o.check === undefined && (source !== undefined || o.port !== undefined)) {
        const what = source !== undefined ? "argument" : "option";
        throw new InvalidValueError(what, source ?? "--port", "--check GROUP before it");
      }
      if (o.check !== undefined && (o.watch || o.all)) {
        throw new InvalidValueError("option", o.watch ? "--watch" : "--all", "no --check with it");
      }
      parsed = {
        all: o.all ?? false,
        interface: o.interface,
        json: o.json ?? false,
        watch: o.watch ?? false,
        check: o.check === undefined ? undefined : {
          group: o.check,
          sources: source === undefined ? [] : source.split(",").map((s) => s.trim()),
          port: o.port,
        },
      };
    });
  program.parse(argv, { from: "user" });
  return parsed;
}

/**
 * Runs `mcast-status` with the given arguments.
 *
 * @example
 * ```ts ignore
 * import { main } from "./mcast_status.ts";
 * const code = await main(["--json", "-i", "lo"]);
 * ```
 *
 * @param args The command-line arguments (without the program name).
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed === null) return EXIT.ok; // --help / --version were handled by commander
  if (parsed.check !== undefined) {
    const report = await checkReception({ ...parsed.check, interface: parsed.interface });
    write(parsed.json ? `${JSON.stringify(checkJson(report), null, 2)}\n` : renderCheck(report));
    return report.ready ? EXIT.ok : EXIT.expectation;
  }
  // An unknown interface is a usage error (InterfaceNotFoundError → exit 2), found before reading.
  const only = parsed.interface === undefined ? undefined : resolveInterface(parsed.interface);
  const snapshot = () => readState(parsed, only);

  if (!parsed.watch) {
    const state = await snapshot();
    write(parsed.json ? `${JSON.stringify(state, null, 2)}\n` : render(state, parsed));
    return EXIT.ok;
  }
  return await watch(parsed, snapshot);
}

/** Reads the state in the contract's shape, filtered by `--all` and `-i`. */
async function readState(
  args: StatusArgs,
  only: NetworkInterface | undefined,
): Promise<StatusJson> {
  const full = await readMulticastState();
  const state = args.all ? full : withoutKernelDefaults(full);
  let interfaces = state.interfaces;
  if (only !== undefined) {
    const found = interfaces.find((iface) => iface.index === only.index);
    interfaces = [found ?? emptyInterface(only)];
  }
  const holders = forceHolders().filter((r) =>
    interfaces.some((iface) => iface.name === r.interface)
  );
  return {
    all: { ...state.all },
    interfaces: interfaces.map(contractShape),
    force_holders: holders,
  };
}

/** An interface the kernel lists no multicast state for (no IPv4/IPv6 configured yet). */
function emptyInterface(iface: NetworkInterface): InterfaceState {
  return emptyInterfaceState(iface.name, iface.index);
}

/** Exactly the keys of CONTRACT "mcast-status", in its order. */
function contractShape(iface: InterfaceState): InterfaceState {
  return {
    name: iface.name,
    index: iface.index,
    igmp_version: iface.igmp_version,
    force_igmp_version: iface.force_igmp_version,
    effective_igmp_version: iface.effective_igmp_version,
    mld_version: iface.mld_version,
    force_mld_version: iface.force_mld_version,
    effective_mld_version: iface.effective_mld_version,
    groups: iface.groups.map((group: GroupState): GroupState => ({
      group: group.group,
      family: group.family,
      users: group.users,
      mode: group.mode,
      sources: [...group.sources],
      ...(group.source_filters === undefined
        ? {}
        : { source_filters: group.source_filters.map((f) => ({ ...f })) }),
    })),
  };
}

/** The human view: one heading and one table per interface. */
function render(state: StatusJson, args: StatusArgs): string {
  const shown = args.all || args.interface !== undefined
    ? state.interfaces
    : state.interfaces.filter((iface) => iface.groups.length > 0);
  const hidden = state.interfaces.length - shown.length;
  const blocks: string[] = [];
  for (const iface of shown) {
    blocks.push(
      renderInterface(
        iface,
        state.all,
        state.force_holders.filter((r) => r.interface === iface.name),
      ),
    );
  }
  if (shown.length === 0) {
    blocks.push(
      args.all
        ? "No multicast state: no interface has IPv4 or IPv6 multicast groups.\n"
        : "No multicast group memberships besides the kernel's own (--all shows them).\n",
    );
  } else if (hidden > 0) {
    blocks.push(
      colors.dim(
        `${hidden} more interface${hidden === 1 ? "" : "s"} with only kernel-default groups ` +
          "(--all shows them)\n",
      ),
    );
  }
  return blocks.join("\n");
}

function renderInterface(
  iface: InterfaceState,
  all: MulticastState["all"],
  records: ForceHolderJson[],
): string {
  const igmp = versionText(
    "IGMP",
    iface.effective_igmp_version,
    "force_igmp_version",
    iface.force_igmp_version,
    all.force_igmp_version,
  );
  const mld = versionText(
    "MLD",
    iface.effective_mld_version,
    "force_mld_version",
    iface.force_mld_version,
    all.force_mld_version,
  );
  const querier = iface.igmp_version !== null && iface.effective_igmp_version !== null &&
      iface.igmp_version < 3 && (iface.force_igmp_version ?? 0) !== iface.igmp_version &&
      (all.force_igmp_version ?? 0) !== iface.igmp_version
    ? `  ${colors.yellow(`(an IGMPv${iface.igmp_version} querier is heard)`)}`
    : "";
  const heading = `${colors.bold(iface.name)} ${colors.dim(`(index ${iface.index})`)}  ` +
    `${igmp}${querier}  ·  ${mld} ${colors.dim("(an MLD querier is not visible in /proc)")}` +
    records.map((r) => `\n  ${holdersText(r)}`).join("");
  if (iface.groups.length === 0) return `${heading}\n  ${colors.dim("no groups")}\n`;
  const table = new Table({
    head: ["Group", "Family", "Users", "Mode", "Sources"].map((h) => colors.cyan(h)),
    // cli-table3 colours heads and borders by itself, unaware of NO_COLOR or pipes: we do it.
    style: { head: [], border: [] },
    chars: { "mid": "", "left-mid": "", "mid-mid": "", "right-mid": "" },
    colAligns: ["left", "left", "right", "left", "left"],
  });
  for (const group of iface.groups) {
    table.push([
      group.group,
      group.family,
      String(group.users),
      group.mode === "INCLUDE"
        ? colors.green(group.mode)
        : group.mode === "AMBIGUOUS"
        ? colors.yellow(group.mode)
        : group.mode,
      sourcesText(group),
    ]);
  }
  return `${heading}\n${table.toString()}\n`;
}

function versionText(
  protocol: string,
  version: number | null,
  sysctl: string,
  forced: number | null,
  all: number | null,
): string {
  const inForce = version === null ? `${protocol} -` : `${protocol}v${version}`;
  const force = forced === null
    ? `${sysctl} unknown`
    : forced === 0
    ? `${sysctl}=0 (not forced)`
    : colors.yellow(`${sysctl}=${forced}`);
  const host = all !== null && all !== 0 ? `, ${colors.yellow(`conf/all=${all} (host-wide)`)}` : "";
  return `${inForce} ${colors.dim("[")}${force}${host}${colors.dim("]")}`;
}

function holdersText(record: ForceHolderJson): string {
  const sysctl = record.protocol === "igmp" ? "force_igmp_version" : "force_mld_version";
  const who = record.holders.map((h) =>
    `pid ${h.pid} ${h.alive ? "" : colors.red("(dead: the next receiver prunes it) ")}`.trimEnd()
  ).join(", ");
  return `${sysctl}=${record.forced} held by ${who}; back to ${record.original} after the last`;
}

function sourcesText(group: GroupState): string {
  if (group.mode === "AMBIGUOUS") {
    const counts = (group.source_filters ?? []).map((f) =>
      `${f.source} (incl ${f.include}, excl ${f.exclude})`
    );
    return `${colors.yellow("cannot tell:")} ${counts.join(", ")}`;
  }
  if (group.sources.length === 0) {
    return group.mode === "EXCLUDE" ? colors.dim("any source") : colors.dim("none");
  }
  const list = group.sources.join(", ");
  return group.mode === "EXCLUDE" ? `all except ${list}` : list;
}

/** `--watch`: redraw (terminal), reprint (pipe) or one JSON line per second until a signal. */
async function watch(
  args: StatusArgs,
  snapshot: () => Promise<StatusJson>,
): Promise<number> {
  using stop = abortOnSignals();

  const live = !args.json && Deno.stdout.isTerminal();
  let frame = "";
  const view = live ? new LiveView(() => frame, { fps: 1 }) : undefined;
  const started = performance.now();
  try {
    for (let tick = 0; !stop.signal.aborted; tick++) {
      const state = await snapshot();
      const stamp = new Date().toLocaleTimeString("en-GB", { hour12: false });
      if (args.json) {
        if (!write(`${JSON.stringify(state)}\n`)) break;
      } else if (view !== undefined) {
        frame = `${colors.dim(`Every 1s: mcast-status  ${stamp}  (Ctrl-C to stop)`)}\n\n` +
          render(state, args).trimEnd();
        if (tick === 0) view.start();
        else view.draw();
      } else if (!write(`--- ${stamp}\n${render(state, args)}\n`)) {
        break;
      }
      await sleepUntil(started + (tick + 1) * WATCH_INTERVAL_MS, stop.signal);
    }
  } finally {
    view?.stop();
  }
  return EXIT.ok;
}

/** Writes all of `text` to stdout; false when the reader went away (a closed pipe). */
function write(text: string): boolean {
  const bytes = new TextEncoder().encode(text);
  try {
    for (let offset = 0; offset < bytes.length;) {
      offset += Deno.stdout.writeSync(bytes.subarray(offset));
    }
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) return false;
    throw error;
  }
}

if (import.meta.main) await runTool(NAME, main);
