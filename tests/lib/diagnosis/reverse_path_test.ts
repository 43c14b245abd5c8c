// Unit tests of the reverse-path decision (lib/diagnosis/reverse_path.ts): the mode in force as
// the larger of conf/all and the interface's rp_filter, and the kernel's rule for each mode and
// route back; the sysctls read from a stand-in procfs.

import assert from "node:assert/strict";
import {
  readRpFilter,
  reversePathVerdict,
  rpFilterMode,
} from "../../../lib/diagnosis/reverse_path.ts";

Deno.test("rpFilterMode is the larger of conf/all and the interface's value", () => {
  assert.equal(rpFilterMode(0, 0), 0);
  assert.equal(rpFilterMode(1, 0), 1);
  assert.equal(rpFilterMode(0, 1), 1);
  assert.equal(rpFilterMode(1, 2), 2);
  assert.equal(rpFilterMode(2, 1), 2);
  assert.equal(rpFilterMode(null, 1), null);
  assert.equal(rpFilterMode(1, null), null);
});

Deno.test("reversePathVerdict: off, strict, loose, no route back, not unicast", () => {
  const on = (type: string, iface: string) => ({ type, interface: iface });
  const cases: [0 | 1 | 2, ReturnType<typeof on> | null, boolean, string][] = [
    [0, null, true, "off"],
    [1, on("unicast", "eth1"), true, "strict-same-interface"],
    [1, on("unicast", "eth0"), false, "strict-other-interface"],
    [1, null, false, "no-route-back"],
    [2, on("unicast", "eth0"), true, "loose-route-back"],
    [2, null, false, "no-route-back"],
    [1, on("local", "lo"), false, "not-unicast"],
    [2, on("broadcast", "eth1"), false, "not-unicast"],
  ];
  for (const [mode, routeBack, accepted, reason] of cases) {
    assert.deepEqual(
      reversePathVerdict({ mode, receivingInterface: "eth1", routeBack }),
      { accepted, reason },
      JSON.stringify({ mode, routeBack }),
    );
  }
});

Deno.test("readRpFilter reads conf/all and the interface from procfs", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const conf = (name: string, value: string) => {
      Deno.mkdirSync(`${dir}/sys/net/ipv4/conf/${name}`, { recursive: true });
      Deno.writeTextFileSync(`${dir}/sys/net/ipv4/conf/${name}/rp_filter`, value);
    };
    conf("all", "2\n");
    conf("veth0", "1\n");
    assert.deepEqual(readRpFilter("veth0", { procRoot: dir }), { mode: 2, all: 2, iface: 1 });
    assert.deepEqual(readRpFilter("veth9", { procRoot: dir }), { mode: null, all: 2, iface: null });
    assert.deepEqual(readRpFilter("../x", { procRoot: dir }).iface, null);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
