/**
 * The three classroom topologies as plans: every host with its role, interfaces and addresses,
 * the links, the switches (snooping bridges with a querier), the routers (smcroute between all
 * their interfaces), the unicast routes, the policy box that remarks DSCP or drops at random, and
 * the receiver with strict reverse-path filtering. Pure data: `up.ts` builds a plan, the record
 * keeps it, the map is drawn from it.
 *
 * Addresses follow one rule: subnet `n` is `10.0.n.0/24` and `fd00:0:0:n::/64`; routers are
 * `.1`, switches `.2`, the sender `.10`, receiver rK `.1K` — so the sender is 10.0.1.10 in every
 * topology and `mcast-receive 232.1.1.1 10.0.1.10` works on every receiver.
 *
 * @example
 * ```ts
 * import { planLab } from "./topology.ts";
 * const plan = planLab("routed", { querier: "v3", rpFilterStrict: false });
 * plan.hosts.map((h) => h.name); // ["sender", "rt1", "sw1", "sw2", "r1", "r2", "r3"]
 * ```
 *
 * @module
 */

import type { ClassroomOptions, QuerierVersion, TopologyName } from "./options.ts";

/** What a host is in the lab. */
export type HostRole = "sender" | "receiver" | "router" | "switch";

/** An interface of a planned host. */
export interface PlannedInterface {
  /** Its name (`eth0`, `br0`, `p-r1`). */
  name: string;
  /** IPv4 address with prefix length, or null (switch ports). */
  ipv4: string | null;
  /** IPv6 address with prefix length, or null (switch ports). */
  ipv6: string | null;
}

/** A host of the plan (one network namespace). */
export interface PlannedHost {
  /** Its name in the lab (`sender`, `r1`, `rt1`, `sw`). */
  name: string;
  /** Its role. */
  role: HostRole;
  /** Its interfaces, in creation order. */
  interfaces: PlannedInterface[];
}

/** A veth link: host `a`'s interface to host `b`'s (a switch port when `b` is a switch). */
export interface PlannedLink {
  /** One end: host and interface. */
  a: { host: string; iface: string };
  /** The other end: host and interface. */
  b: { host: string; iface: string };
}

/** A switch: bridge `br0` with IGMP/MLD snooping, and its querier. */
export interface PlannedSwitch {
  /** The switch host. */
  host: string;
  /** Its querier (speaking from br0's address). */
  querier: QuerierVersion;
}

/** A unicast route of a host. */
export interface PlannedRoute {
  /** The host. */
  host: string;
  /** Destination prefix or `default`. */
  destination: string;
  /** Gateway (its family selects IPv4 or IPv6). */
  via: string;
}

/** A router: smcroute forwards multicast between all the listed interfaces, in every direction. */
export interface PlannedRouter {
  /** The router host. */
  host: string;
  /** Its interfaces that take part. */
  interfaces: string[];
}

/** The policy box: nft rules on forwarded multicast UDP. */
export interface PlannedPolicy {
  /** The host (a router, or the switch of `lan`). */
  host: string;
  /** `inet` on a router (forward hook), `bridge` on a switch. */
  family: "inet" | "bridge";
  /** DSCP written into forwarded multicast, or null. */
  remark: number | null;
  /** Percent dropped at random, or null. */
  dropPercent: number | null;
}

/** A whole lab, before it is built. */
export interface LabPlan {
  /** The topology. */
  topology: TopologyName;
  /** Hosts, in creation order: the sender and routers, the switches, the receivers. */
  hosts: PlannedHost[];
  /** Links, in creation order. */
  links: PlannedLink[];
  /** Switches. */
  switches: PlannedSwitch[];
  /** Routers. */
  routers: PlannedRouter[];
  /** Unicast routes. */
  routes: PlannedRoute[];
  /** The policy box, when remarking or dropping is asked for (or is the topology's default). */
  policy: PlannedPolicy | null;
  /** The receiver with strict reverse-path filtering and no route back, or null. */
  rpFilterStrict: string | null;
  /** A picture of the topology, one string per line. */
  picture: string[];
}

const v4 = (net: number, id: number) => `10.0.${net}.${id}/24`;
const v6 = (net: number, id: number) => `fd00:0:0:${net}::${id}/64`;
const bare = (cidr: string) => cidr.split("/")[0];

/** Collects hosts, links and routes of a plan as the topology functions describe them. */
class PlanBuilder {
  readonly hosts: PlannedHost[] = [];
  readonly links: PlannedLink[] = [];
  readonly routes: PlannedRoute[] = [];
  readonly switches: PlannedSwitch[] = [];

  constructor(readonly querier: QuerierVersion) {}

  host(name: string, role: HostRole): PlannedHost {
    const host = { name, role, interfaces: [] };
    this.hosts.push(host);
    return host;
  }

  switch(name: string, net: number): PlannedHost {
    const host = this.host(name, "switch");
    host.interfaces.push({ name: "br0", ipv4: v4(net, 2), ipv6: v6(net, 2) });
    this.switches.push({ host: name, querier: this.querier });
    return host;
  }

  /** A link from `host` (next `ethN`, address `.id` in `net`) to a switch port or a router. */
  connect(host: PlannedHost, net: number, id: number, peer: PlannedHost, peerId?: number): void {
    const iface = `eth${host.interfaces.length}`;
    host.interfaces.push({ name: iface, ipv4: v4(net, id), ipv6: v6(net, id) });
    let peerIface: string;
    if (peer.role === "switch") {
      peerIface = `p-${host.name}`;
      peer.interfaces.push({ name: peerIface, ipv4: null, ipv6: null });
    } else {
      peerIface = `eth${peer.interfaces.length}`;
      peer.interfaces.push({ name: peerIface, ipv4: v4(net, peerId!), ipv6: v6(net, peerId!) });
    }
    this.links.push({ a: { host: host.name, iface }, b: { host: peer.name, iface: peerIface } });
  }

  /** Routes of `host` to `destination` (`default` or a subnet number) via `.gateway` of `net`. */
  route(host: string, destination: "default" | number, net: number, gateway: number): void {
    const [d4, d6] = destination === "default"
      ? ["default", "default"]
      : [`10.0.${destination}.0/24`, `fd00:0:0:${destination}::/64`];
    this.routes.push({ host, destination: d4, via: bare(v4(net, gateway)) });
    this.routes.push({ host, destination: d6, via: bare(v6(net, gateway)) });
  }
}

/**
 * The plan of a topology with the given exercise options.
 *
 * @example
 * ```ts
 * import { planLab } from "./topology.ts";
 * const plan = planLab("campus", { querier: "v3", rpFilterStrict: false });
 * plan.policy; // { host: "rt2", family: "inet", remark: 10, dropPercent: null }
 * ```
 *
 * @param topology `lan`, `routed` or `campus`.
 * @param options The checked exercise options.
 * @returns The plan.
 */
export function planLab(topology: TopologyName, options: ClassroomOptions): LabPlan {
  const b = new PlanBuilder(options.querier);
  let routers: PlannedRouter[];
  let policyHost: string;
  let defaultRemark: number | null = null;
  let picture: string[];
  // Receiver r1 with strict reverse-path filtering gets no route back to the sender.
  const receiverRoute = (host: string, net: number) => {
    if (!(options.rpFilterStrict && host === "r1")) b.route(host, "default", net, 1);
  };
  if (topology === "lan") {
    const sw = b.switch("sw", 1);
    b.connect(b.host("sender", "sender"), 1, 10, sw);
    for (const k of [1, 2, 3]) b.connect(b.host(`r${k}`, "receiver"), 1, 10 + k, sw);
    routers = [];
    policyHost = "sw";
    picture = LAN_PICTURE;
  } else if (topology === "routed") {
    const sender = b.host("sender", "sender");
    const rt1 = b.host("rt1", "router");
    b.connect(sender, 1, 10, rt1, 1);
    const [sw1, sw2] = [b.switch("sw1", 2), b.switch("sw2", 3)];
    b.connect(rt1, 2, 1, sw1);
    b.connect(rt1, 3, 1, sw2);
    b.connect(b.host("r1", "receiver"), 2, 11, sw1);
    b.connect(b.host("r2", "receiver"), 2, 12, sw1);
    b.connect(b.host("r3", "receiver"), 3, 13, sw2);
    b.route("sender", "default", 1, 1);
    receiverRoute("r1", 2);
    receiverRoute("r2", 2);
    receiverRoute("r3", 3);
    routers = [{ host: "rt1", interfaces: ["eth0", "eth1", "eth2"] }];
    policyHost = "rt1";
    picture = ROUTED_PICTURE;
  } else {
    const sender = b.host("sender", "sender");
    const [rt1, rt2] = [b.host("rt1", "router"), b.host("rt2", "router")];
    b.connect(sender, 1, 10, rt1, 1);
    b.connect(rt1, 2, 1, rt2, 2);
    const sw = b.switch("sw", 3);
    b.connect(rt2, 3, 1, sw);
    b.connect(b.host("r1", "receiver"), 3, 11, sw);
    b.connect(b.host("r2", "receiver"), 3, 12, sw);
    b.connect(b.host("r3", "receiver"), 4, 13, rt1, 1);
    b.route("sender", "default", 1, 1);
    b.route("rt1", 3, 2, 2);
    b.route("rt2", "default", 2, 1);
    receiverRoute("r1", 3);
    receiverRoute("r2", 3);
    receiverRoute("r3", 4);
    routers = [
      { host: "rt1", interfaces: ["eth0", "eth1", "eth2"] },
      { host: "rt2", interfaces: ["eth0", "eth1"] },
    ];
    policyHost = "rt2";
    defaultRemark = 10; // AF11: the building router's policy, so that REMARKED shows up
    picture = CAMPUS_PICTURE;
  }
  const remark = options.remark ?? defaultRemark;
  const dropPercent = options.dropPercent ?? null;
  const policy: PlannedPolicy | null = remark === null && dropPercent === null ? null : {
    host: policyHost,
    family: topology === "lan" ? "bridge" : "inet",
    remark,
    dropPercent,
  };
  // Listed (and created) as a map reads: the sender and routers, the switches, the receivers.
  const hosts = [
    ...b.hosts.filter((h) => h.role !== "switch" && h.role !== "receiver"),
    ...b.hosts.filter((h) => h.role === "switch"),
    ...b.hosts.filter((h) => h.role === "receiver"),
  ];
  return {
    topology,
    hosts,
    links: b.links,
    switches: b.switches,
    routers,
    routes: b.routes,
    policy,
    rpFilterStrict: options.rpFilterStrict ? "r1" : null,
    picture,
  };
}

const LAN_PICTURE = [
  "  sender 10.0.1.10 ──┐",
  "      r1 10.0.1.11 ──┤   sw: bridge br0 10.0.1.2",
  "      r2 10.0.1.12 ──┼── IGMP/MLD snooping + querier",
  "      r3 10.0.1.13 ──┘",
];

const ROUTED_PICTURE = [
  "                                           ┌── r1 10.0.2.11",
  "                            ┌─ 10.0.2.1 ── sw1 (10.0.2.2)",
  "  sender ───────────── rt1 ─┤              └── r2 10.0.2.12",
  "  10.0.1.10     10.0.1.1    └─ 10.0.3.1 ── sw2 (10.0.3.2) ── r3 10.0.3.13",
];

const CAMPUS_PICTURE = [
  "                                                                  ┌── r1 10.0.3.11",
  "  sender ───────── rt1 ─ 10.0.2.1 ──── 10.0.2.2 ─ rt2 ─ 10.0.3.1 ── sw (10.0.3.2)",
  "  10.0.1.10   10.0.1.1 │                           remarks DSCP   └── r2 10.0.3.12",
  "                       └─ 10.0.4.1 ── r3 10.0.4.13",
];
