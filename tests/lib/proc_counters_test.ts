// Unit tests of the counter readers (lib/proc_counters.ts) on /proc/net/netstat and
// /proc/net/dev_snmp6/veth1 captured in a namespace after a strict rp_filter dropped datagrams
// from a source without a route back (IPReversePathFilter 191) and a bridge querier sent MLD
// queries (Icmp6InGroupMembQueries 38).

import assert from "node:assert/strict";
import {
  parseNetstat,
  parseSnmp6,
  readMldQueriesReceived,
  readReversePathDrops,
} from "../../lib/proc_counters.ts";

const NETSTAT = Deno.readTextFileSync(new URL("../fixtures/proc_net_netstat.txt", import.meta.url));
const SNMP6 = Deno.readTextFileSync(new URL("../fixtures/proc_net_dev_snmp6.txt", import.meta.url));

Deno.test("parseNetstat reads every section of the captured file", () => {
  const counters = parseNetstat(NETSTAT);
  assert.equal(counters.get("TcpExt.IPReversePathFilter"), 191);
  assert.equal(counters.get("TcpExt.SyncookiesSent"), 0);
  assert.ok(counters.has("IpExt.InMcastPkts"));
  assert.ok(counters.size > 100, `${counters.size} counters`);
  assert.equal(parseNetstat("TcpExt: A B\nTcpExt: 1\n").size, 0, "names and values must pair");
});

Deno.test("parseSnmp6 reads the captured per-interface file", () => {
  const counters = parseSnmp6(SNMP6);
  assert.equal(counters.get("Icmp6InGroupMembQueries"), 38);
  assert.equal(counters.get("Icmp6OutGroupMembQueries"), 0);
});

Deno.test("the readers find the files under a procfs root, and say null when they cannot", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/net/dev_snmp6`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/net/netstat`, NETSTAT);
    Deno.writeTextFileSync(`${dir}/net/dev_snmp6/veth1`, SNMP6);
    assert.equal(readReversePathDrops({ procRoot: dir }), 191);
    assert.equal(readMldQueriesReceived("veth1", { procRoot: dir }), 38);
    assert.equal(readMldQueriesReceived("veth2", { procRoot: dir }), null);
    assert.equal(readMldQueriesReceived("../netstat", { procRoot: dir }), null);
    assert.equal(readReversePathDrops({ procRoot: `${dir}/none` }), null);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
