// Private: walking a firewall base chain for the probe datagram, the same way for iptables and
// nftables once their rules are reduced to "does it match (yes / no / maybe), and what does it
// do". Each base chain decides on its own (an accept ends only that chain; a drop anywhere drops
// the datagram), so the firewall check walks every base chain on the receive path separately.
//
// Certainty: a drop is certain only when no earlier rule may have accepted (or left the chain
// for) the datagram; rules that may drop it — a match or a target this tool cannot fully
// interpret, or one that matches only some of the sources — are collected as doubtful.

import type { Tri } from "./_probe.ts";

/** What a rule does when it matches. */
export type RuleAction =
  | { kind: "accept" | "drop" | "return" | "continue" }
  | { kind: "jump" | "goto"; target: string }
  | { kind: "unknown"; what: string };

/** How a finding names a rule and removes it. */
export interface RuleRef {
  /** The rule as the user would recognise it (its iptables-save or nft text). */
  label: string;
  /** The command that deletes it. */
  deleteCommand: string;
}

/** One rule, reduced. */
export interface WalkRule {
  /** Whether it matches the probe. */
  match: Tri;
  /** For a "maybe": why (what is not known or not interpreted). */
  why: string | null;
  /** What it does. */
  action: RuleAction;
  /** How to name and delete it. */
  ref: RuleRef;
}

/** One chain, reduced. */
export interface WalkChain {
  /** Its rules, in order. */
  rules: WalkRule[];
  /** A base chain's policy; null for a chain reached by jumps only. */
  policy: "accept" | "drop" | null;
}

/** A rule that may drop the probe, and why it is not certain. */
export interface DoubtfulRule {
  /** The rule. */
  ref: RuleRef;
  /** Why this tool cannot tell. */
  why: string;
}

/** What a base chain does with the probe. */
export interface ChainOutcome {
  /** Accept (this chain lets it through) or drop. */
  verdict: "accept" | "drop";
  /** Whether the verdict holds for every datagram the probe stands for. */
  certain: boolean;
  /** The rule that decided; null for the chain's policy. */
  decisive: RuleRef | null;
  /** Rules met before the verdict that may drop it. */
  doubtful: DoubtfulRule[];
}

interface Walk {
  chains: ReadonlyMap<string, WalkChain>;
  mayHaveLeft: boolean;
  doubtful: DoubtfulRule[];
}

type Step =
  | { kind: "accept" | "drop"; decisive: RuleRef | null }
  | { kind: "return" | "end" };

const MAX_DEPTH = 16;

/**
 * Walks base chain `name` of `chains` for the probe.
 *
 * @param chains Every chain of the table (or ruleset) by name.
 * @param name The base chain.
 * @returns Its outcome.
 */
export function walkBaseChain(chains: ReadonlyMap<string, WalkChain>, name: string): ChainOutcome {
  const walk: Walk = { chains, mayHaveLeft: false, doubtful: [] };
  const step = walkChain(walk, name, 0);
  if (step.kind === "accept" || step.kind === "drop") {
    return {
      verdict: step.kind,
      certain: step.kind === "accept" || !walk.mayHaveLeft,
      decisive: step.decisive,
      doubtful: walk.doubtful,
    };
  }
  const policy = chains.get(name)?.policy ?? "accept";
  return {
    verdict: policy,
    certain: policy === "accept" || !walk.mayHaveLeft,
    decisive: null,
    doubtful: walk.doubtful,
  };
}

// Walks one chain until a rule that surely matches decides; a caller that entered it by a jump
// that may not match takes that decision as a possibility only.
function walkChain(walk: Walk, name: string, depth: number): Step {
  const chain = walk.chains.get(name);
  if (chain === undefined) return { kind: "end" };
  for (const rule of chain.rules) {
    if (rule.match === "no") continue;
    const maybe = rule.match === "maybe";
    const why = rule.why ?? "it may match only some of the datagrams";
    const action = rule.action;
    switch (action.kind) {
      case "continue":
        continue;
      case "unknown":
        walk.doubtful.push({
          ref: rule.ref,
          why: `${action.what} is not interpreted by this tool`,
        });
        walk.mayHaveLeft = true;
        continue;
      case "accept":
        if (!maybe) return { kind: "accept", decisive: rule.ref };
        walk.mayHaveLeft = true;
        continue;
      case "drop":
        if (!maybe) return { kind: "drop", decisive: rule.ref };
        walk.doubtful.push({ ref: rule.ref, why });
        continue;
      case "return":
        if (!maybe) return { kind: "return" };
        walk.mayHaveLeft = true;
        continue;
      default: {
        if (depth >= MAX_DEPTH || !walk.chains.has(action.target)) {
          walk.doubtful.push({
            ref: rule.ref,
            why: `its target ${action.target} cannot be followed`,
          });
          walk.mayHaveLeft = true;
          continue;
        }
        const inner = walkChain(walk, action.target, depth + 1);
        if (inner.kind === "accept" || inner.kind === "drop") {
          if (!maybe) return inner;
          if (inner.kind === "accept") walk.mayHaveLeft = true;
          else if (inner.decisive !== null) walk.doubtful.push({ ref: inner.decisive, why });
          continue;
        }
        if (action.kind === "goto") {
          if (!maybe) return { kind: "return" };
          walk.mayHaveLeft = true;
        }
      }
    }
  }
  return { kind: "end" };
}
