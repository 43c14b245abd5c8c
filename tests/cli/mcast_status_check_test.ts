// `mcast-status --check` in namespaces: each broken setup is built, the tool must name what is
// wrong (finding id, what it names, exit 3), the fix it prints is run as printed, and then the
// check passes and a real receiver gets the stream — the receiver's count is the ground truth.
// A healthy setup gets exit 0 and no error, as root and as nobody (who cannot read the firewall:
// a warning says so). Usage errors are checked without a namespace.

import assert from "node:assert/strict";
import { labTest } from "../lab/mod.ts";
import { nobodyPath, nobodyRuntime } from "../_nobody.ts";
import {
  checkJson,
  checkText,
  errors,
  expectError,
  findings,
  pair,
  peerResult,
  runFix,
  startReceiver,
  startSender,
  statusArgv,
  withoutRouteBack,
} from "./_check_lab.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A receiver in rx counts what tx sends; returns the count. */
async function received(
  p: Awaited<ReturnType<typeof pair>>,
  group: string,
  options: { sources?: string[]; source?: string; port?: number } = {},
): Promise<number> {
  const receiver = await startReceiver(p.rx, group, {
    sources: options.sources,
    port: options.port,
    ms: 2500,
  });
  const sender = startSender(p.tx, group, {
    source: options.source,
    port: options.port,
    count: 100,
    intervalMs: 5,
  });
  const { received: count } = await peerResult<{ received: number }>(receiver);
  await sender.wait();
  return count;
}

labTest(
  "--check on a healthy link: exit 0, no error, the contract's JSON; a receiver gets the stream",
  async (lab) => {
    const p = await pair(lab);
    const tx = p.link.a.ipv4!;
    for (
      const args of [
        ["239.1.1.1", "-i", "veth0"],
        ["239.1.1.1"],
        ["232.1.1.1", tx, "-i", "veth0"],
        ["ff3e::8000:1", p.link.a.ipv6!, "-i", "veth0"],
      ]
    ) {
      const [code, json] = await checkJson(p.rx, args);
      assert.equal(code, 0, JSON.stringify(json));
      assert.deepEqual(errors(json), [], JSON.stringify(json.findings));
      assert.equal(json.interface, "veth0");
      assert.equal(json.group, args[0]);
      assert.equal(json.source, args[1]?.startsWith("-") || args[1] === undefined ? null : args[1]);
      for (const f of json.findings) assert.ok(["no-querier", "not-joined"].includes(f.id), f.id);
    }
    const text = await checkText(p.rx, ["232.1.1.1", tx, "-i", "veth0"], "healthy");
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^Receiving \(10\.100\.1\.1, 232\.1\.1\.1\) port 19779 on veth0\n/);
    assert.match(text.stdout, /\nReady: nothing blocks reception \(0 errors, 2 warnings\)\n$/);
    const mld = await checkText(
      p.rx,
      ["ff3e::8000:1", p.link.a.ipv6!, "-i", "veth0"],
      "no-querier",
    );
    assert.match(mld.stdout, /No MLD query has been received on veth0 since it came up/);
    const asmInSsm = await checkText(p.rx, ["232.1.1.1", "-i", "veth0"], "ssm-range");
    assert.match(asmInSsm.stdout, /warning ssm-range +232\.1\.1\.1 is an any-source join inside/);
    // The verdict is true: the stream arrives.
    assert.ok(await received(p, "232.1.1.1", { sources: [tx] }) >= 90);

    // Joined now: not-joined is gone while a receiver runs.
    const receiver = await startReceiver(p.rx, "239.1.1.1", { ms: 4000 });
    const [, joined] = await checkJson(p.rx, ["239.1.1.1", "-i", "veth0"]);
    assert.deepEqual(findings(joined, "not-joined"), []);
    await peerResult(receiver);

    // As nobody: the firewall cannot be read, which a warning says; still exit 0.
    // A Deno and a checkout nobody can reach (npx's cache and the clone may be root's only).
    const nobody = await nobodyRuntime();
    if (typeof nobody === "string") throw new Error(`cannot run as nobody: ${nobody}`);
    const [, , ...runArgs] = statusArgv(["--check", "239.1.1.1", "-i", "veth0", "--json"]);
    const result = await p.rx.run([
      ...nobody.prefix,
      nobody.deno,
      "run",
      "--cached-only",
      ...runArgs.map((arg) =>
        arg.startsWith("/") ? nobodyPath(nobody, new URL(`file://${arg}`)) : arg
      ),
    ], { cwd: nobody.root, timeoutMs: 30_000 });
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    assert.deepEqual(errors(json), []);
    const [firewall] = findings(json, "firewall");
    assert.equal(firewall.severity, "warning");
    assert.match(
      firewall.message,
      /^Cannot read all firewall rules \(iptables-save failed: .*root/,
    );
    assert.match(firewall.message, /nft failed: .*root/);
  },
  { requires: ["runuser"], timeoutMs: 90_000 },
);

labTest(
  "--check without a multicast route: no-route, and its fix makes joins work",
  async (lab) => {
    const p = await pair(lab, false);
    const [code, json] = await checkJson(p.rx, ["239.1.1.1"]);
    assert.equal(code, 3);
    assert.equal(json.interface, null);
    const [noRoute] = findings(json, "no-route");
    assert.equal(noRoute.severity, "error");
    assert.equal(
      noRoute.message,
      "No route for 239.1.1.1 (Network is unreachable): a join that names no interface fails",
    );
    assert.equal(noRoute.fix, "ip route add 224.0.0.0/4 dev veth0");
    // Ground truth: a join that names no interface fails.
    const failed = await peerResult<{ error?: string }>(
      await startReceiver(p.rx, "239.1.1.1", { iface: null, ms: 100 }),
    );
    assert.match(failed.error ?? "", /ENODEV|ENETUNREACH/);
    // Naming the interface, the join works: only a warning.
    const [named, withInterface] = await checkJson(p.rx, ["239.1.1.1", "-i", "veth0"]);
    assert.equal(named, 0);
    assert.equal(findings(withInterface, "no-route")[0].severity, "warning");

    await checkText(p.rx, ["239.1.1.1"], "no-route");
    await runFix(p.rx, noRoute.fix, "no-route");
    const [after, fixed] = await checkJson(p.rx, ["239.1.1.1"]);
    assert.equal(after, 0);
    assert.equal(fixed.interface, "veth0");
    assert.deepEqual(findings(fixed, "no-route"), []);
    assert.ok(await received(p, "239.1.1.1") >= 90);
  },
  { timeoutMs: 60_000 },
);

labTest("--check with the multicast route on another interface: wrong-interface", async (lab) => {
  const p = await pair(lab);
  const other = await lab.addNamespace("other");
  await lab.link(other, p.rx); // rx's veth1; its 224.0.0.0/4 route stays on veth0
  const [code, json] = await checkJson(p.rx, ["239.1.1.1", "-i", "veth1"]);
  assert.equal(code, 0, "a receiver that names veth1 still gets the group");
  const [wrong] = findings(json, "wrong-interface");
  assert.deepEqual(wrong, {
    id: "wrong-interface",
    severity: "warning",
    message: "The kernel routes 239.1.1.1 out of veth0, not veth1: receivers that name no " +
      "interface join on veth0",
    fix: "ip route replace 224.0.0.0/4 dev veth1",
  });
  await checkText(p.rx, ["239.1.1.1", "-i", "veth1"], "wrong-interface");
  await runFix(p.rx, wrong.fix, "wrong-interface");
  const [, fixed] = await checkJson(p.rx, ["239.1.1.1", "-i", "veth1"]);
  assert.deepEqual(findings(fixed, "wrong-interface"), []);
});

labTest(
  "--check on a down interface, one without carrier, one without MULTICAST",
  async (lab) => {
    const p = await pair(lab);
    await p.rx.ip(["link", "set", "veth0", "down"]);
    const down = await expectError(p.rx, ["239.1.1.1", "-i", "veth0"], "interface-down");
    assert.equal(down.fix, "ip link set dev veth0 up");
    assert.match(down.message, /^veth0 is down \(administratively\)/);
    await checkText(p.rx, ["239.1.1.1", "-i", "veth0"], "interface-down");
    await runFix(p.rx, down.fix, "interface-down");

    // The other end down: no carrier.
    await p.tx.ip(["link", "set", "veth0", "down"]);
    const noCarrier = await expectError(p.rx, ["239.1.1.1", "-i", "veth0"], "interface-down");
    assert.match(
      noCarrier.message,
      /^veth0 is up but has no carrier \(operstate down\): nothing can arrive on it$/,
    );
    await checkText(p.rx, ["239.1.1.1", "-i", "veth0"], "interface-down");
    await p.tx.ip(["link", "set", "veth0", "up"]);
    await p.tx.setMulticastRoute("veth0", 4);
    for (let i = 0; i < 100; i++) {
      const [ok] = await checkJson(p.rx, ["239.1.1.1", "-i", "veth0"]);
      if (ok === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }

    // MULTICAST off: Linux still receives on a veth, so only a warning — and it is true.
    await p.rx.ip(["link", "set", "veth0", "multicast", "off"]);
    const [flagCode, flag] = await checkJson(p.rx, ["239.1.1.1", "-i", "veth0"]);
    assert.equal(flagCode, 0);
    const [noMulticast] = findings(flag, "no-multicast");
    await checkText(p.rx, ["239.1.1.1", "-i", "veth0"], "no-multicast");
    assert.deepEqual([noMulticast.severity, noMulticast.fix], [
      "warning",
      "ip link set dev veth0 multicast on",
    ]);
    assert.ok(await received(p, "239.1.1.1") >= 90);
  },
  { timeoutMs: 60_000 },
);

labTest(
  "--check with conf/all forcing IGMPv2 and an SSM join: version-forced, cleared by its fix",
  async (lab) => {
    const p = await pair(lab);
    await p.rx.sysctl("net.ipv4.conf.all.force_igmp_version", 2);
    const source = p.link.a.ipv4!;
    const forced = await expectError(p.rx, ["232.1.1.1", source, "-i", "veth0"], "version-forced");
    assert.match(
      forced.message,
      /^Cannot join \(10\.100\.1\.1, 232\.1\.1\.1\) on veth0: net\.ipv4\.conf\.all\.force_igmp_version = 2 forces IGMPv2 on every interface/,
    );
    assert.equal(forced.fix, "sysctl -w net.ipv4.conf.all.force_igmp_version=0");
    // An any-source join does not need IGMPv3.
    const [asm] = await checkJson(p.rx, ["239.1.1.1", "-i", "veth0"]);
    assert.equal(asm, 0);
    await checkText(p.rx, ["232.1.1.1", source, "-i", "veth0"], "version-forced");
    await runFix(p.rx, forced.fix, "version-forced");
    const [after] = await checkJson(p.rx, ["232.1.1.1", source, "-i", "veth0"]);
    assert.equal(after, 0);
  },
);

labTest(
  "--check with a strict rp_filter and no route back: rp-filter names the source; the fix works",
  async (lab) => {
    const p = await pair(lab);
    const source = await withoutRouteBack(p);
    const rp = await expectError(p.rx, ["232.1.1.1", source, "-i", "veth0"], "rp-filter");
    assert.equal(
      rp.message,
      "Reverse-path filtering drops 192.0.2.10 on veth0: rp_filter = 1 (strict: the larger of " +
        "conf/all = 1 and conf/veth0 = 0) and there is no route back to 192.0.2.10 (Network is " +
        "unreachable)",
    );
    assert.equal(rp.fix, "ip route add 192.0.2.10 dev veth0");
    await checkText(p.rx, ["232.1.1.1", source, "-i", "veth0"], "rp-filter");
    // Ground truth: the datagrams arrive, the kernel drops and counts them, the socket gets none.
    const drops = async () =>
      parseNetstatValue((await p.rx.run(["cat", "/proc/net/netstat"], { check: true })).stdout);
    const before = await drops();
    assert.equal(await received(p, "232.1.1.1", { sources: [source], source }), 0);
    assert.ok(await drops() - before >= 90, `${before} → ${await drops()}`);
    // Loose mode accepts any route back, but there is none: still dropped.
    await p.rx.sysctl("net.ipv4.conf.veth0.rp_filter", 2);
    const [, loose] = await checkJson(p.rx, ["232.1.1.1", source, "-i", "veth0"]);
    assert.match(findings(loose, "rp-filter")[0].message, /rp_filter = 2 \(loose/);
    await checkText(p.rx, ["232.1.1.1", source, "-i", "veth0"], "rp-filter");
    await runFix(p.rx, rp.fix, "rp-filter");
    const [after, fixed] = await checkJson(p.rx, ["232.1.1.1", source, "-i", "veth0"]);
    assert.equal(after, 0, JSON.stringify(fixed));
    assert.ok(await received(p, "232.1.1.1", { sources: [source], source }) >= 90);
  },
  { timeoutMs: 60_000 },
);

labTest("--check with an nft rule dropping the port: firewall names the rule", async (lab) => {
  const p = await pair(lab);
  await p.rx.run(["nft", "add", "table", "inet", "fw"], { check: true });
  await p.rx.run([
    "nft",
    "add chain inet fw input { type filter hook input priority 0; policy accept; }",
  ], { check: true });
  await p.rx.run(["nft", "add", "rule", "inet", "fw", "input", "udp", "dport", "19779", "drop"], {
    check: true,
  });
  const firewall = await expectError(p.rx, ["239.1.1.1", "-i", "veth0"], "firewall");
  assert.match(
    firewall.message,
    /^nft inet fw input \(hook input\) drops UDP to 239\.1\.1\.1 port 19779: udp dport 19779 drop \(chain input, handle \d+\)$/,
  );
  assert.match(firewall.fix, /^nft delete rule inet fw input handle \d+$/);
  // Another port passes the rule.
  const [other] = await checkJson(p.rx, ["239.1.1.1", "-i", "veth0", "--port", "5000"]);
  assert.equal(other, 0);
  assert.equal(await received(p, "239.1.1.1"), 0, "the rule drops the stream");
  await checkText(p.rx, ["239.1.1.1", "-i", "veth0"], "firewall");
  await runFix(p.rx, firewall.fix, "firewall");
  const [after] = await checkJson(p.rx, ["239.1.1.1", "-i", "veth0"]);
  assert.equal(after, 0);
  assert.ok(await received(p, "239.1.1.1") >= 90);
}, { requires: ["nft"], timeoutMs: 60_000 });

Deno.test("mcast-status --check refuses bad input with exit 2 and one line", async () => {
  for (
    const args of [
      ["--check", "10.0.0.1"],
      ["--check", "239.1.1.1", "fd00::1"],
      ["--check", "239.1.1.1", "--port", "0"],
      ["--check", "239.1.1.1", "-i", "no-such-if0"],
      ["--check", "239.1.1.1", "--watch"],
      ["--check"],
      ["10.0.0.1"],
      ["--port", "5000"],
    ]
  ) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: statusArgv(args).slice(1),
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 2, `${args.join(" ")}: ${stderr}`);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.match(stderr, /^mcast-status: /);
  }
});

function parseNetstatValue(text: string): number {
  const lines = text.split("\n");
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  return Number(values[names.indexOf("IPReversePathFilter")]);
}
