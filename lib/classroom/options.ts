/**
 * What a user may ask of a classroom lab, checked before anything touches the system: the lab
 * name, the topology, `HOST` / `NAME/HOST` references and the exercise options (`--querier`,
 * `--remark`, `--drop`, `--rp-filter`). Every refusal is an {@linkcode InvalidValueError} naming
 * the value (the tool exits 2).
 *
 * @example
 * ```ts
 * import { classroomOptions, parseHostRef } from "./options.ts";
 * classroomOptions({ querier: "v2", drop: "10" }).dropPercent; // 10
 * parseHostRef("lab2/r1"); // { lab: "lab2", host: "r1" }
 * ```
 *
 * @module
 */

import { InvalidValueError } from "../errors.ts";
import { dscpName, parseDscp } from "../dscp.ts";

/** The topologies `mcast-lab up` builds. */
export const TOPOLOGIES = ["lan", "routed", "campus"] as const;

/** A topology name. */
export type TopologyName = typeof TOPOLOGIES[number];

/** The querier a lab's switches run: IGMPv2 + MLDv1, IGMPv3 + MLDv2, or none. */
export type QuerierVersion = "v2" | "v3" | "none";

/** The lab name when none is given. */
export const DEFAULT_LAB_NAME = "lab";

/**
 * The prefix of every namespace `mcast-lab` creates: `mlab-<lab>-<host>`. Lab and host names
 * hold no `-`, so the prefix `mlab-<lab>-` of one lab never starts another lab's names.
 */
export const NAMESPACE_PREFIX = "mlab-";

/**
 * The namespace prefix of one lab.
 *
 * @example
 * ```ts
 * import { labPrefix } from "./options.ts";
 * labPrefix("lab"); // "mlab-lab-"
 * ```
 *
 * @param name The lab's name.
 * @returns `mlab-<name>-`.
 */
export function labPrefix(name: string): string {
  return `${NAMESPACE_PREFIX}${name}-`;
}

const NAME_RE = /^[a-z][a-z0-9_]{0,15}$/;
const NAME_EXPECTED = "1 to 16 lowercase letters, digits or _, starting with a letter";

/** The exercise options of `mcast-lab up`, as typed (strings from the command line). */
export interface ClassroomOptionsInput {
  /** `--querier`: `v2`, `v3` or `none`. */
  querier?: string;
  /** `--remark`: a DSCP class (name or 0..63) that the lab's policy box writes. */
  remark?: string;
  /** `--drop`: percent of multicast datagrams the policy box drops at random, 0 to 100. */
  drop?: string;
  /** `--rp-filter`: `strict` on receiver r1. */
  rpFilter?: string;
}

/** The exercise options, checked. */
export interface ClassroomOptions {
  /** The switches' querier. */
  querier: QuerierVersion;
  /** The DSCP the policy box remarks forwarded multicast to; undefined: the topology's default. */
  remark?: number;
  /** Percent of forwarded multicast datagrams dropped at random (two decimals at most). */
  dropPercent?: number;
  /** Strict reverse-path filtering on receiver r1 (which then has no route back). */
  rpFilterStrict: boolean;
}

/**
 * Check a lab name.
 *
 * @example
 * ```ts
 * import { checkLabName } from "./options.ts";
 * checkLabName("lab2"); // "lab2"
 * ```
 *
 * @param name The name.
 * @returns The name.
 * @throws {InvalidValueError} When it is not 1 to 16 lowercase letters, digits or `_`, starting
 * with a letter.
 */
export function checkLabName(name: string): string {
  if (!NAME_RE.test(name)) throw new InvalidValueError("lab name", name, NAME_EXPECTED);
  return name;
}

/**
 * Check a topology name.
 *
 * @example
 * ```ts
 * import { parseTopology } from "./options.ts";
 * parseTopology("routed"); // "routed"
 * ```
 *
 * @param text The name.
 * @returns The topology.
 * @throws {InvalidValueError} When it is not `lan`, `routed` or `campus`.
 */
export function parseTopology(text: string): TopologyName {
  const found = TOPOLOGIES.find((t) => t === text);
  if (found === undefined) throw new InvalidValueError("topology", text, "lan, routed or campus");
  return found;
}

/** A host of a lab, as `HOST` or `NAME/HOST` names it. */
export interface HostRef {
  /** The lab's name. */
  lab: string;
  /** The host's name in the lab. */
  host: string;
}

/**
 * Parse `HOST` (in the lab `defaultLab`) or `NAME/HOST`.
 *
 * @example
 * ```ts
 * import { parseHostRef } from "./options.ts";
 * parseHostRef("r1"); // { lab: "lab", host: "r1" }
 * parseHostRef("class2/rt1"); // { lab: "class2", host: "rt1" }
 * ```
 *
 * @param text The reference.
 * @param defaultLab The lab when the reference names none.
 * @returns The lab and host names.
 * @throws {InvalidValueError} When either part is not a valid name.
 */
export function parseHostRef(text: string, defaultLab: string = DEFAULT_LAB_NAME): HostRef {
  const slash = text.indexOf("/");
  const lab = slash < 0 ? defaultLab : text.slice(0, slash);
  const host = slash < 0 ? text : text.slice(slash + 1);
  if (!NAME_RE.test(lab) || !NAME_RE.test(host)) {
    throw new InvalidValueError("host", text, `HOST or NAME/HOST, each ${NAME_EXPECTED}`);
  }
  return { lab, host };
}

/**
 * Check the exercise options of `mcast-lab up`.
 *
 * @example
 * ```ts
 * import { classroomOptions } from "./options.ts";
 * classroomOptions({}); // { querier: "v3", rpFilterStrict: false }
 * classroomOptions({ remark: "af11", rpFilter: "strict" }).remark; // 10
 * ```
 *
 * @param input The options as typed.
 * @returns The checked options.
 * @throws {InvalidValueError} Naming the first option that is wrong.
 */
export function classroomOptions(input: ClassroomOptionsInput): ClassroomOptions {
  const options: ClassroomOptions = {
    querier: parseQuerier(input.querier ?? "v3"),
    rpFilterStrict: false,
  };
  if (input.remark !== undefined) options.remark = parseRemark(input.remark);
  if (input.drop !== undefined) options.dropPercent = parseDropPercent(input.drop);
  if (input.rpFilter !== undefined) {
    if (input.rpFilter !== "strict") {
      throw new InvalidValueError("--rp-filter", input.rpFilter, "strict");
    }
    options.rpFilterStrict = true;
  }
  return options;
}

/**
 * The name a DSCP value goes by in a lab's record and map (`af11`, or the number as text).
 *
 * @example
 * ```ts
 * import { remarkName } from "./options.ts";
 * remarkName(10); // "af11"
 * ```
 *
 * @param dscp The value, 0 to 63.
 * @returns Its name.
 */
export function remarkName(dscp: number): string {
  return String(dscpName(dscp));
}

function parseQuerier(text: string): QuerierVersion {
  if (text === "v2" || text === "v3" || text === "none") return text;
  throw new InvalidValueError("--querier", text, "v2, v3 or none");
}

function parseRemark(text: string): number {
  try {
    return parseDscp(text);
  } catch (error) {
    if (!(error instanceof InvalidValueError)) throw error;
    throw new InvalidValueError("--remark", text, error.expected);
  }
}

function parseDropPercent(text: string): number {
  const value = /^\d{1,3}(\.\d{1,2})?$/.test(text) ? Number(text) : NaN;
  if (!(value >= 0 && value <= 100)) {
    throw new InvalidValueError("--drop", text, "a percentage from 0 to 100, two decimals at most");
  }
  return value;
}
