/**
 * nftables rules as `nft -j list ruleset` prints them (the rule text and netdev devices from
 * `nft -a list ruleset`), and what the base chains on the receive path do with UDP to a group and
 * port: hooks prerouting and input of the `ip`/`ip6` and `inet` families, and ingress (`inet`,
 * and `netdev` on the receiving device). Pure functions of the outputs.
 *
 * Interpreted: payload matches on `ip`/`ip6` addresses and protocol, `udp`/`th` ports, the
 * implied protocol of other payloads (`tcp dport` never matches UDP); `meta` l4proto, nfproto,
 * protocol, iifname/iif, pkttype; `ct state` (multicast UDP is always new); anonymous and named
 * sets, ranges and prefixes; the verdicts and the statements that never decide (counter, log,
 * mark …). Anything else (fib, limit, xt, queue, nat …) makes the rule a "maybe".
 *
 * @module
 */

import { formatAddress } from "../address.ts";
import { type RuleAction, walkBaseChain, type WalkChain } from "./_chain_walk.ts";
import type { BaseChainJudgement } from "./iptables_rules.ts";
import {
  addressesMatch,
  type AddressSpan,
  both,
  interfaceMatch,
  negate,
  parsePrefix,
} from "./_probe.ts";
import { type Probe, type Tri, tri } from "./_probe.ts";

/** One chain of the ruleset. */
export interface NftChain {
  /** `ip`, `ip6`, `inet`, `netdev`, `bridge`, `arp`. */
  family: string;
  /** The table. */
  table: string;
  /** The chain. */
  name: string;
  /** A base chain's hook (`input`, `prerouting`, `ingress` …), else null. */
  hook: string | null;
  /** A base chain's priority. */
  prio: number;
  /** A base chain's policy, else null. */
  policy: "accept" | "drop" | null;
}

/** One rule. */
export interface NftRule {
  /** Its chain's family, table and name. */
  family: string;
  /** The table. */
  table: string;
  /** The chain. */
  chain: string;
  /** The rule handle. */
  handle: number;
  /** Its expressions, as the JSON gives them. */
  expr: unknown[];
}

/** The ruleset. */
export interface NftRuleset {
  /** Every chain. */
  chains: NftChain[];
  /** Every rule, in order. */
  rules: NftRule[];
  /** Named sets' elements, by `family table name`. */
  sets: Map<string, unknown[]>;
}

/** What `nft -a list ruleset` adds: rule texts by `family table chain handle`, devices. */
export interface NftText {
  /** The text of each rule, without its `# handle` comment. */
  rules: Map<string, string>;
  /** The device of each netdev/ingress base chain, by `family table chain`. */
  devices: Map<string, string>;
}

/** Statements that never decide a datagram's fate. */
const PASSING = new Set([
  "counter",
  "log",
  "mangle",
  "notrack",
  "set",
  "map",
  "ct helper",
  "meta",
  "dup",
  "secmark",
  "ct count",
]);

/**
 * Parses `nft -j list ruleset`.
 *
 * @example
 * ```ts
 * import { parseNftJson } from "./nft_rules.ts";
 * const ruleset = parseNftJson(JSON.stringify({
 *   nftables: [
 *     { chain: { family: "inet", table: "t", name: "input", hook: "input", prio: 0, policy: "accept" } },
 *     { rule: { family: "inet", table: "t", chain: "input", handle: 2, expr: [{ drop: null }] } },
 *   ],
 * }));
 * ruleset.rules[0].handle; // 2
 * ```
 *
 * @param json The output.
 * @returns The ruleset (empty when the output is not a ruleset).
 */
export function parseNftJson(json: string): NftRuleset {
  const ruleset: NftRuleset = { chains: [], rules: [], sets: new Map() };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return ruleset;
  }
  const items = (parsed as { nftables?: unknown })?.nftables;
  if (!Array.isArray(items)) return ruleset;
  for (const item of items as Record<string, Record<string, unknown>>[]) {
    if (item.chain !== undefined) {
      const c = item.chain;
      ruleset.chains.push({
        family: String(c.family),
        table: String(c.table),
        name: String(c.name),
        hook: typeof c.hook === "string" ? c.hook : null,
        prio: typeof c.prio === "number" ? c.prio : 0,
        policy: c.policy === "drop" ? "drop" : c.policy === "accept" ? "accept" : null,
      });
    } else if (item.rule !== undefined) {
      const r = item.rule;
      ruleset.rules.push({
        family: String(r.family),
        table: String(r.table),
        chain: String(r.chain),
        handle: Number(r.handle),
        expr: Array.isArray(r.expr) ? r.expr : [],
      });
    } else if (item.set !== undefined || item.map !== undefined) {
      const s = item.set ?? item.map;
      const elements = Array.isArray(s.elem) ? s.elem : [];
      ruleset.sets.set(`${s.family} ${s.table} ${s.name}`, elements);
    }
  }
  return ruleset;
}

/**
 * Parses `nft -a list ruleset` for what the JSON leaves out: each rule's text and the device of
 * each ingress chain.
 *
 * @example
 * ```ts
 * import { parseNftText } from "./nft_rules.ts";
 * const text = parseNftText(
 *   "table inet t { # handle 4\n\tchain input { # handle 1\n" +
 *     "\t\ttype filter hook input priority filter; policy accept;\n" +
 *     "\t\tudp dport 19779 drop # handle 2\n\t}\n}\n",
 * );
 * text.rules.get("inet t input 2"); // "udp dport 19779 drop"
 * ```
 *
 * @param text The output.
 * @returns Rule texts and devices.
 */
export function parseNftText(text: string): NftText {
  const result: NftText = { rules: new Map(), devices: new Map() };
  let table: string | null = null;
  let chain: string | null = null;
  let depth = 0;
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    const tableHead = /^table (\S+) (\S+) \{/.exec(trimmed);
    const chainHead = /^chain (\S+) \{/.exec(trimmed);
    if (depth === 0 && tableHead !== null) table = `${tableHead[1]} ${tableHead[2]}`;
    else if (depth === 1 && chainHead !== null) chain = chainHead[1];
    else if (depth === 1 && trimmed.endsWith("{")) chain = null;
    else if (depth === 2 && table !== null && chain !== null) {
      const device = /\bhook \S+ device "?([^";\s]+)"?/.exec(trimmed);
      if (device !== null) result.devices.set(`${table} ${chain}`, device[1]);
      const rule = /^(.*?)\s*# handle (\d+)$/.exec(trimmed);
      if (rule !== null) result.rules.set(`${table} ${chain} ${rule[2]}`, rule[1]);
    }
    depth += (trimmed.match(/\{/g)?.length ?? 0) - (trimmed.match(/\}/g)?.length ?? 0);
    if (depth < 2) chain = null;
    if (depth < 1) table = null;
  }
  return result;
}

/**
 * What each base chain on the receive path does with the probe.
 *
 * @example
 * ```ts
 * import { judgeNft, parseNftJson } from "./nft_rules.ts";
 * const ruleset = parseNftJson(JSON.stringify({
 *   nftables: [
 *     { chain: { family: "inet", table: "t", name: "input", hook: "input", prio: 0, policy: "accept" } },
 *     {
 *       rule: {
 *         family: "inet",
 *         table: "t",
 *         chain: "input",
 *         handle: 2,
 *         expr: [
 *           { match: { op: "==", left: { payload: { protocol: "udp", field: "dport" } }, right: 19779 } },
 *           { drop: null },
 *         ],
 *       },
 *     },
 *   ],
 * }));
 * const probe = {
 *   family: "IPv4",
 *   group: Uint8Array.of(239, 1, 1, 1),
 *   sources: null,
 *   port: 19779,
 *   iface: "eth1",
 * } as const;
 * const [input] = judgeNft(ruleset, probe);
 * input.outcome.decisive?.deleteCommand; // "nft delete rule inet t input handle 2"
 * ```
 *
 * @param ruleset The parsed ruleset.
 * @param probe The datagram.
 * @param options Rule texts and devices, and tables to leave out (`family name`: the ones
 *   iptables-nft manages, judged from `iptables-save`).
 * @returns One judgement per base chain on the path, by hook and priority.
 */
export function judgeNft(
  ruleset: NftRuleset,
  probe: Probe,
  options: { text?: NftText; skipTables?: ReadonlySet<string> } = {},
): BaseChainJudgement[] {
  const families = probe.family === "IPv4" ? ["ip", "inet"] : ["ip6", "inet"];
  const order = ["ingress", "prerouting", "input"];
  const bases = ruleset.chains
    .filter((c) =>
      c.hook !== null && order.includes(c.hook) &&
      (families.includes(c.family) || (c.family === "netdev" && c.hook === "ingress")) &&
      !options.skipTables?.has(`${c.family} ${c.table}`)
    )
    .sort((a, b) => order.indexOf(a.hook!) - order.indexOf(b.hook!) || a.prio - b.prio);
  const judgements: BaseChainJudgement[] = [];
  for (const base of bases) {
    const key = `${base.family} ${base.table}`;
    const device = options.text?.devices.get(`${key} ${base.name}`) ?? null;
    if (
      base.hook === "ingress" && device !== null && probe.iface !== null && device !== probe.iface
    ) {
      continue;
    }
    const chains = new Map<string, WalkChain>();
    for (const chain of ruleset.chains) {
      if (chain.family !== base.family || chain.table !== base.table) continue;
      chains.set(chain.name, {
        policy: chain.policy,
        rules: ruleset.rules
          .filter((r) =>
            r.family === chain.family && r.table === chain.table && r.chain === chain.name
          )
          .map((rule) => {
            const judged = judgeRule(rule, probe, ruleset, base);
            const text = options.text?.rules.get(`${key} ${chain.name} ${rule.handle}`);
            return {
              ...judged,
              ref: {
                label: `${text ?? "a rule"} (chain ${chain.name}, handle ${rule.handle})`,
                deleteCommand: `nft delete rule ${key} ${chain.name} handle ${rule.handle}`,
              },
            };
          }),
      });
    }
    const walked = walkBaseChain(chains, base.name);
    // An ingress chain whose device is unknown may not be on the path: its drop is a possibility.
    const unsure = base.hook === "ingress" && (device === null || probe.iface === null);
    const outcome = unsure ? { ...walked, certain: walked.verdict === "accept" } : walked;
    const family = probe.family === "IPv4" ? "ip" : "ip6";
    judgements.push({
      chain: `nft ${key} ${base.name} (hook ${base.hook}${device === null ? "" : ` ${device}`})`,
      outcome,
      acceptCommand: `nft insert rule ${key} ${base.name} ${family} daddr ` +
        `${formatAddress(probe.group)} udp dport ${probe.port} accept`,
    });
  }
  return judgements;
}

interface Judged {
  match: Tri;
  why: string | null;
  action: RuleAction;
}

function judgeRule(rule: NftRule, probe: Probe, ruleset: NftRuleset, base: NftChain): Judged {
  let match: Tri = "yes";
  const doubts: string[] = [];
  let action: RuleAction = { kind: "continue" };
  for (const item of rule.expr as Record<string, unknown>[]) {
    const [kind] = Object.keys(item ?? {});
    const body = (item as Record<string, unknown>)[kind];
    if (kind === "match") {
      const { result, why } = judgeMatch(body as MatchBody, probe, ruleset, rule, base);
      if (result === "maybe") doubts.push(why);
      match = both(match, result);
    } else if (kind === "accept" || kind === "drop" || kind === "return") {
      action = { kind };
    } else if (kind === "reject") {
      action = { kind: "drop" };
    } else if (kind === "jump" || kind === "goto") {
      action = { kind, target: String((body as { target?: unknown })?.target) };
    } else if (kind === "continue" || PASSING.has(kind)) {
      continue;
    } else if (kind === "xt" && (body as { type?: string })?.type === "match") {
      doubts.push(`it uses the iptables match ${(body as { name?: string }).name}`);
      match = both(match, "maybe");
    } else if (kind === "limit" || kind === "quota") {
      doubts.push(`it applies only within a ${kind}`);
      match = both(match, "maybe");
    } else {
      const name = kind === "xt"
        ? `the iptables target ${(body as { name?: string })?.name}`
        : kind;
      action = { kind: "unknown", what: `the statement ${name}` };
    }
    if (match === "no") break;
  }
  return { match, why: doubts.length > 0 ? doubts.join("; ") : null, action };
}

interface MatchBody {
  op?: string;
  left?: Record<string, Record<string, unknown>>;
  right?: unknown;
}

// One `match`: what the left side is for the probe, compared with the right side.
function judgeMatch(
  body: MatchBody,
  probe: Probe,
  ruleset: NftRuleset,
  rule: NftRule,
  base: NftChain,
): { result: Tri; why: string } {
  const op = body.op ?? "==";
  const negated = op === "!=";
  const left = body.left ?? {};
  const right = resolveSet(body.right, ruleset, rule);
  const [kind] = Object.keys(left);
  const what = left[kind] ?? {};
  const ipv4 = probe.family === "IPv4";
  const symbol = (names: string[]) =>
    right === null
      ? "maybe"
      : negate(tri(anyValue(right, (v) => names.includes(String(v)))), negated);
  if (op !== "==" && op !== "!=" && op !== "in") {
    return { result: "maybe", why: `the comparison ${op}` };
  }
  if (kind === "payload") {
    const protocol = String(what.protocol ?? "");
    const field = String(what.field ?? "");
    if (protocol === "ip" || protocol === "ip6") {
      if ((protocol === "ip") !== ipv4) return { result: "no", why: "" };
      if (field === "daddr") {
        return { result: addressMatch(right, probe, "group", negated), why: "" };
      }
      if (field === "saddr") {
        return {
          result: addressMatch(right, probe, "source", negated),
          why: "it matches some senders only",
        };
      }
      if (field === "protocol" || field === "nexthdr") {
        return { result: symbol(["udp", "17"]), why: "" };
      }
      return { result: "maybe", why: `it tests ${protocol} ${field}` };
    }
    if (protocol === "udp" || protocol === "th") {
      if (field === "dport") {
        return {
          result: right === null ? "maybe" : negate(tri(portIn(right, probe.port)), negated),
          why: "a named set",
        };
      }
      return { result: "maybe", why: `it depends on ${protocol} ${field}` };
    }
    if (
      ["tcp", "sctp", "dccp", "udplite", "icmp", "icmpv6", "esp", "ah", "comp"].includes(protocol)
    ) {
      return { result: "no", why: "" };
    }
    return { result: "maybe", why: `it tests the payload ${protocol || "at a raw offset"}` };
  }
  if (kind === "meta") {
    const key = String(what.key ?? "");
    if (key === "l4proto") return { result: symbol(["udp", "17"]), why: "" };
    if (key === "nfproto") return { result: symbol([ipv4 ? "ipv4" : "ipv6"]), why: "" };
    if (key === "protocol") return { result: symbol([ipv4 ? "ip" : "ip6"]), why: "" };
    if (key === "pkttype") return { result: symbol(["multicast"]), why: "" };
    if (key === "iifname" || key === "iif") {
      if (typeof right !== "string") return { result: "maybe", why: `meta ${key}` };
      return {
        result: negate(interfaceMatch(probe, right, "*"), negated),
        why: "the receiving interface",
      };
    }
    return { result: "maybe", why: `it tests meta ${key}` };
  }
  if (kind === "ct" && what.key === "state") {
    if (base.prio < -200) return { result: "maybe", why: "connection tracking has not run yet" };
    return { result: symbol(["new"]), why: "" };
  }
  if (kind === "fib") return { result: "maybe", why: "it uses fib (a reverse-path lookup)" };
  return { result: "maybe", why: `it tests ${kind ?? "an unknown expression"}` };
}

// A named set (`@name`) replaced by its elements; null when it cannot be resolved.
function resolveSet(right: unknown, ruleset: NftRuleset, rule: NftRule): unknown {
  if (typeof right === "string" && right.startsWith("@")) {
    const elements = ruleset.sets.get(`${rule.family} ${rule.table} ${right.slice(1)}`);
    return elements === undefined ? null : { set: elements };
  }
  return right;
}

// The values of a right side: a value, a set of values, each possibly {elem: {val}}.
function values(right: unknown): unknown[] {
  if (right !== null && typeof right === "object" && "set" in right) {
    return ((right as { set: unknown }).set as unknown[]).map((v) =>
      v !== null && typeof v === "object" && "elem" in v
        ? (v as { elem: { val: unknown } }).elem.val
        : v
    );
  }
  return [right];
}

function anyValue(right: unknown, test: (value: unknown) => boolean): boolean {
  return values(right).some(test);
}

function portIn(right: unknown, port: number): boolean {
  return anyValue(right, (v) => {
    if (typeof v === "number") return v === port;
    if (v !== null && typeof v === "object" && "range" in v) {
      const [low, high] = (v as { range: [number, number] }).range;
      return port >= low && port <= high;
    }
    return false;
  });
}

// Whether the group (or the sources) are in the right side: addresses, prefixes, ranges.
function addressMatch(
  right: unknown,
  probe: Probe,
  which: "group" | "source",
  negated: boolean,
): Tri {
  if (right === null) return "maybe";
  const spans: AddressSpan[] = [];
  for (const v of values(right)) {
    const object = v !== null && typeof v === "object";
    if (typeof v === "string" || (object && "prefix" in v)) {
      const p = typeof v === "string" ? v : (v as { prefix: { addr: string; len: number } }).prefix;
      const prefix = parsePrefix(typeof p === "string" ? p : `${p.addr}/${p.len}`, probe.family);
      if (prefix === null) return "maybe";
      spans.push(prefix);
    } else if (object && "range" in v) {
      const [low, high] = (v as { range: [string, string] }).range.map((a) =>
        parsePrefix(a, probe.family)
      );
      if (low === null || high === null) return "maybe";
      spans.push({ low: low.bytes, high: high.bytes });
    } else {
      return "maybe";
    }
  }
  return addressesMatch(probe, which, spans, negated);
}
