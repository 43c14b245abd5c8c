import assert from "node:assert/strict";
import { classroomOptions } from "../../../lib/classroom/options.ts";
import { type LabPlan, planLab } from "../../../lib/classroom/topology.ts";

const defaults = classroomOptions({});

function addresses(plan: LabPlan): Map<string, string> {
  const found = new Map<string, string>();
  for (const host of plan.hosts) {
    for (const i of host.interfaces) {
      if (i.ipv4 !== null) found.set(`${host.name}/${i.name}`, i.ipv4);
    }
  }
  return found;
}

/** Every link joins interfaces the plan has, and every interface is on exactly one link. */
function assertConsistent(plan: LabPlan): void {
  const names = new Set(plan.hosts.map((h) => h.name));
  assert.equal(names.size, plan.hosts.length, "host names are unique");
  const used = new Set<string>();
  for (const { a, b } of plan.links) {
    for (const end of [a, b]) {
      const host = plan.hosts.find((h) => h.name === end.host);
      assert.ok(host?.interfaces.some((i) => i.name === end.iface), `${end.host}/${end.iface}`);
      assert.ok(!used.has(`${end.host}/${end.iface}`), `${end.host}/${end.iface} on two links`);
      used.add(`${end.host}/${end.iface}`);
    }
  }
  for (const host of plan.hosts) {
    for (const i of host.interfaces) {
      if (i.name !== "br0") assert.ok(used.has(`${host.name}/${i.name}`), `${host.name}/${i.name}`);
      assert.ok(i.name.length <= 15);
    }
  }
  for (const route of plan.routes) {
    assert.ok(names.has(route.host));
    const gateways = [...addresses(plan).values()].map((c) => c.split("/")[0]);
    if (!route.via.includes(":")) assert.ok(gateways.includes(route.via), route.via);
  }
}

Deno.test("lan: sender and r1..r3 on a snooping switch; the sender is 10.0.1.10", () => {
  const plan = planLab("lan", defaults);
  assertConsistent(plan);
  assert.deepEqual(plan.hosts.map((h) => `${h.name}:${h.role}`), [
    "sender:sender",
    "sw:switch",
    "r1:receiver",
    "r2:receiver",
    "r3:receiver",
  ]);
  assert.deepEqual(Object.fromEntries(addresses(plan)), {
    "sender/eth0": "10.0.1.10/24",
    "sw/br0": "10.0.1.2/24",
    "r1/eth0": "10.0.1.11/24",
    "r2/eth0": "10.0.1.12/24",
    "r3/eth0": "10.0.1.13/24",
  });
  assert.equal(plan.hosts[0].interfaces[0].ipv6, "fd00:0:0:1::10/64");
  assert.deepEqual(plan.switches, [{ host: "sw", querier: "v3" }]);
  assert.deepEqual(plan.routers, []);
  assert.deepEqual(plan.routes, []);
  assert.equal(plan.policy, null);
  assert.deepEqual(
    plan.hosts.find((h) => h.name === "sw")!.interfaces.map((i) => i.name),
    ["br0", "p-sender", "p-r1", "p-r2", "p-r3"],
  );
});

Deno.test("routed: one smcroute router between the sender and two receiver LANs", () => {
  const plan = planLab("routed", defaults);
  assertConsistent(plan);
  assert.deepEqual(plan.routers, [{ host: "rt1", interfaces: ["eth0", "eth1", "eth2"] }]);
  assert.deepEqual(plan.switches.map((s) => s.host), ["sw1", "sw2"]);
  assert.equal(addresses(plan).get("r3/eth0"), "10.0.3.13/24");
  assert.ok(
    plan.routes.some((r) => r.host === "r1" && r.destination === "default" && r.via === "10.0.2.1"),
  );
  assert.ok(
    plan.routes.some((r) =>
      r.host === "r3" && r.destination === "default" && r.via === "fd00:0:0:3::1"
    ),
  );
});

Deno.test("campus: two routers in a chain; rt2 remarks AF11 unless told otherwise", () => {
  const plan = planLab("campus", defaults);
  assertConsistent(plan);
  assert.deepEqual(plan.routers.map((r) => r.host), ["rt1", "rt2"]);
  assert.deepEqual(plan.policy, { host: "rt2", family: "inet", remark: 10, dropPercent: null });
  assert.ok(
    plan.routes.some((r) =>
      r.host === "rt1" && r.destination === "10.0.3.0/24" && r.via === "10.0.2.2"
    ),
  );
  assert.ok(
    plan.routes.some((r) =>
      r.host === "rt2" && r.destination === "default" && r.via === "10.0.2.1"
    ),
  );
  const custom = planLab("campus", classroomOptions({ remark: "cs1", drop: "3" }));
  assert.deepEqual(custom.policy, { host: "rt2", family: "inet", remark: 8, dropPercent: 3 });
});

Deno.test("the policy box: the switch in lan (bridge), rt1 in routed", () => {
  const drop = classroomOptions({ drop: "10" });
  assert.deepEqual(planLab("lan", drop).policy, {
    host: "sw",
    family: "bridge",
    remark: null,
    dropPercent: 10,
  });
  assert.deepEqual(planLab("routed", drop).policy, {
    host: "rt1",
    family: "inet",
    remark: null,
    dropPercent: 10,
  });
});

Deno.test("--rp-filter strict: r1 filters and has no route back; the others keep theirs", () => {
  const plan = planLab("routed", classroomOptions({ rpFilter: "strict" }));
  assert.equal(plan.rpFilterStrict, "r1");
  assert.ok(!plan.routes.some((r) => r.host === "r1"));
  assert.ok(plan.routes.some((r) => r.host === "r2"));
  assert.equal(planLab("routed", defaults).rpFilterStrict, null);
});

Deno.test("every topology has a picture, and the querier option reaches every switch", () => {
  for (const topology of ["lan", "routed", "campus"] as const) {
    const plan = planLab(topology, classroomOptions({ querier: "v2" }));
    assert.ok(plan.picture.length >= 3);
    assert.ok(plan.switches.length > 0 && plan.switches.every((s) => s.querier === "v2"));
  }
});
