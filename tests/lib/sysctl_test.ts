// Unit tests of the one reader of one-number kernel files (lib/sysctl.ts), against stand-in
// files in a temporary directory, plus two real ones that are only read.

import assert from "node:assert/strict";
import { currentLinkState, linkState, listInterfaces } from "../../lib/interfaces.ts";
import {
  interfaceCarrier,
  interfaceMtu,
  readSysctl,
  readSysctlStatus,
  validInterfaceName,
} from "../../lib/sysctl.ts";
import { runRestricted } from "./_restricted_script.ts";

async function withDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readSysctl reads a decimal number, surrounding whitespace allowed", async () => {
  await withDir((dir) => {
    const cases: Array<[string, number | null]> = [
      ["0\n", 0],
      ["  2\t\n", 2],
      ["1500", 1500],
      ["65536\n", 65536],
      ["123456789012345\n", 123456789012345],
      ["1234567890123456\n", null], // 16 digits: not exact as a number, so not a value
      ["-1\n", null],
      ["2 3\n", null],
      ["0x10\n", null],
      ["junk\n", null],
      ["", null],
    ];
    for (const [text, want] of cases) {
      Deno.writeTextFileSync(`${dir}/value`, text);
      assert.equal(readSysctl(`${dir}/value`), want, JSON.stringify(text));
      assert.equal(readSysctlStatus(`${dir}/value`), want ?? "missing", JSON.stringify(text));
    }
  });
});

Deno.test("readSysctlStatus tells a missing file from one the kernel refuses", async () => {
  await withDir((dir) => {
    assert.equal(readSysctlStatus(`${dir}/absent`), "missing");
    assert.equal(readSysctlStatus(`${dir}/absent/deeper`), "missing");
    assert.equal(readSysctl(`${dir}/absent`), null);
  });
});

Deno.test({
  name: "readSysctlStatus: a write-only sysctl is denied, even to root",
  ignore: Deno.build.os !== "linux",
  fn() {
    // Mode 0200: reading it fails with EACCES for every user, and reading does not flush.
    assert.equal(readSysctlStatus("/proc/sys/net/ipv4/route/flush"), "denied");
    assert.equal(readSysctl("/proc/sys/net/ipv4/route/flush"), null);
  },
});

Deno.test("readSysctlStatus: without --allow-ffi Deno refuses (not-capable)", async () => {
  await withDir(async (dir) => {
    const url = new URL("../../lib/sysctl.ts", import.meta.url).href;
    await Deno.writeTextFile(`${dir}/value`, "3\n");
    const read = await runRestricted(
      dir,
      `import { readSysctlStatus } from ${JSON.stringify(url)};
      console.log(JSON.stringify(readSysctlStatus(${JSON.stringify(`${dir}/value`)})));`,
    );
    assert.equal(read, "not-capable");
  });
});

Deno.test("validInterfaceName accepts what the kernel could name an interface", () => {
  for (const good of ["lo", "eth0", "veth0.10", "br-lan", "wlp0s20f3", "fifteen-chars-x"]) {
    assert.equal(validInterfaceName(good), true, good);
  }
  for (const bad of ["", ".", "..", "a/b", "eth0:1", "a b", "tab\t", "sixteen-chars-xx"]) {
    assert.equal(validInterfaceName(bad), false, bad);
  }
  assert.equal(validInterfaceName(undefined as unknown as string), false);
});

Deno.test("interfaceMtu reads /sys/class/net/<name>/mtu", async () => {
  await withDir((dir) => {
    const write = (name: string, text: string) => {
      Deno.mkdirSync(`${dir}/class/net/${name}`, { recursive: true });
      Deno.writeTextFileSync(`${dir}/class/net/${name}/mtu`, text);
    };
    write("eth0", "1500\n");
    write("jumbo0", "9000\n");
    write("zero0", "0\n");
    write("junk0", "many\n");
    assert.equal(interfaceMtu("eth0", { sysRoot: dir }), 1500);
    assert.equal(interfaceMtu("jumbo0", { sysRoot: `${dir}/` }), 9000);
    assert.equal(interfaceMtu("zero0", { sysRoot: dir }), null);
    assert.equal(interfaceMtu("junk0", { sysRoot: dir }), null);
    assert.equal(interfaceMtu("eth9", { sysRoot: dir }), null);
    // Not an interface name: never turned into a path (this one would reach a real file).
    Deno.mkdirSync(`${dir}/class/eth0`);
    Deno.writeTextFileSync(`${dir}/class/eth0/mtu`, "1500\n");
    assert.equal(interfaceMtu("../eth0", { sysRoot: dir }), null);
  });
});

Deno.test("interfaceCarrier reads the carrier file, believed only for the same index", async () => {
  await withDir((dir) => {
    const write = (name: string, carrier: string | null, index: number) => {
      Deno.mkdirSync(`${dir}/class/net/${name}`, { recursive: true });
      Deno.writeTextFileSync(`${dir}/class/net/${name}/ifindex`, `${index}\n`);
      if (carrier !== null) Deno.writeTextFileSync(`${dir}/class/net/${name}/carrier`, carrier);
    };
    write("veth0", "0\n", 5);
    write("veth1", "1\n", 6);
    write("down0", null, 7); // an interface that is down refuses the read: no file here
    assert.equal(interfaceCarrier("veth0", { sysRoot: dir }), false);
    assert.equal(interfaceCarrier("veth0", { sysRoot: dir, index: 5 }), false);
    assert.equal(interfaceCarrier("veth1", { sysRoot: dir, index: 6 }), true);
    // A sysfs of another network namespace lists another veth0: not believed.
    assert.equal(interfaceCarrier("veth0", { sysRoot: dir, index: 9 }), null);
    assert.equal(interfaceCarrier("down0", { sysRoot: dir }), null);
    assert.equal(interfaceCarrier("eth9", { sysRoot: dir }), null);
    assert.equal(interfaceCarrier("../veth0", { sysRoot: dir }), null);
  });
});

Deno.test({
  name: "currentLinkState of the real lo: what linkState says of the listed interface",
  ignore: Deno.build.os !== "linux",
  fn() {
    const lo = listInterfaces().find((i) => i.name === "lo")!;
    assert.deepEqual(currentLinkState("lo", lo.index), linkState(lo));
    assert.equal(currentLinkState("lo", lo.index + 100_000), null);
    assert.equal(currentLinkState("not-lo", lo.index), null);
  },
});

Deno.test({
  name: "interfaceMtu of the real lo",
  ignore: Deno.build.os !== "linux",
  fn() {
    const text = Deno.readTextFileSync("/sys/class/net/lo/mtu").trim();
    assert.equal(interfaceMtu("lo"), Number(text));
  },
});
