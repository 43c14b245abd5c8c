// lib/group_list.ts: the group forms G, G+N and G1,G2,… (issue 11, CONTRACT "Groups") — the
// groups each form names, in order and canonical, and every bad form refused naming its part.

import assert from "node:assert/strict";
import { MAX_GROUPS, parseGroupList } from "../../lib/group_list.ts";
import { InvalidValueError, MismatchError } from "../../lib/errors.ts";

Deno.test("G: one group, canonical, with its family; the zone of an IPv6 group kept in first", () => {
  assert.deepEqual(parseGroupList("239.1.1.1").groups, ["239.1.1.1"]);
  assert.equal(parseGroupList("239.1.1.1").family, "IPv4");
  const v6 = parseGroupList("FF3E:0::8000:1");
  assert.deepEqual(v6.groups, ["ff3e::8000:1"]);
  assert.equal(v6.family, "IPv6");
  const zoned = parseGroupList("ff02::1234%lo");
  assert.deepEqual(zoned.groups, ["ff02::1234"]);
  assert.equal(zoned.first.zone, "lo");
});

Deno.test("G+N: G and the next N, across octet and group boundaries", () => {
  assert.deepEqual(parseGroupList("239.1.1.1+0").groups, ["239.1.1.1"]);
  assert.deepEqual(parseGroupList("239.1.1.254+3").groups, [
    "239.1.1.254",
    "239.1.1.255",
    "239.1.2.0",
    "239.1.2.1",
  ]);
  const sixtyFour = parseGroupList("239.1.1.1+63").groups;
  assert.equal(sixtyFour.length, 64);
  assert.equal(sixtyFour[63], "239.1.1.64");
  const many = parseGroupList("239.1.1.1+2047").groups;
  assert.equal(many.length, 2048);
  assert.equal(new Set(many).size, 2048);
  assert.equal(many[2047], "239.1.9.0");
  assert.deepEqual(parseGroupList("ff3e::fffe+2").groups, [
    "ff3e::fffe",
    "ff3e::ffff",
    "ff3e::1:0",
  ]);
  assert.deepEqual(parseGroupList(" 239.1.1.1 + 1 ").groups, ["239.1.1.1", "239.1.1.2"]);
  // The top of the multicast range, and the largest N.
  assert.deepEqual(parseGroupList("239.255.255.254+1").groups, [
    "239.255.255.254",
    "239.255.255.255",
  ]);
  assert.equal(parseGroupList(`230.0.0.0+${MAX_GROUPS - 1}`).groups.length, MAX_GROUPS);
  // A zone is fine for one group.
  assert.deepEqual(parseGroupList("ff02::1%lo+0").groups, ["ff02::1"]);
});

Deno.test("G1,G2,…: the list in the order given, canonical, blanks trimmed", () => {
  const list = parseGroupList("239.1.1.9, 239.1.1.1,239.2.0.1");
  assert.deepEqual(list.groups, ["239.1.1.9", "239.1.1.1", "239.2.0.1"]);
  assert.equal(list.family, "IPv4");
  assert.equal(list.first.family, "IPv4");
  assert.deepEqual(parseGroupList("FF3E::1,ff3e:0:0::2").groups, ["ff3e::1", "ff3e::2"]);
});

/** Asserts that `form` is refused with an InvalidValueError whose message contains `part`. */
function refused(form: string, part: string, kind = InvalidValueError): string {
  let message = "";
  assert.throws(() => parseGroupList(form), (error: unknown) => {
    assert.ok(error instanceof kind, `${form}: ${error}`);
    message = (error as Error).message;
    return true;
  });
  assert.ok(message.includes(part), `${form}: ${JSON.stringify(part)} not in: ${message}`);
  assert.equal(message.split("\n").length, 1, message);
  return message;
}

Deno.test("bad counts are refused naming the +N part", () => {
  for (const count of ["x", "", "-1", "1.5", "0x10", "99999", String(MAX_GROUPS)]) {
    refused(`239.1.1.1+${count}`, `+${count}`);
  }
});

Deno.test("a range leaving the multicast range or the address space is refused", () => {
  const message = refused("239.255.255.255+1", "239.255.255.255+1");
  assert.ok(message.includes("240.0.0.0 is not multicast"), message);
  refused("224.0.0.0+4096", "+4096");
  refused("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff+1", "stays within the addresses");
});

Deno.test("an IPv6 range crossing a scope or flags boundary is refused", () => {
  // ff3e:ffff:…:ffff is the last group of flags 3 scope e; the next one is ff3f::.
  const message = refused(
    "ff3e:ffff:ffff:ffff:ffff:ffff:ffff:ffff+1",
    "ff3e:ffff:ffff:ffff:ffff:ffff:ffff:ffff+1",
  );
  assert.ok(message.includes("ff3f::"), message);
  refused("ff1e:ffff:ffff:ffff:ffff:ffff:ffff:fffe+2", "ff1f::");
});

Deno.test("two families, a duplicate, an empty or unicast part, a zone in a list or range", () => {
  const mixed = refused("239.1.1.1,ff3e::1", "ff3e::1", MismatchError);
  assert.match(mixed, /IPv4.*IPv6/);
  refused("ff3e::1,239.1.1.1", "239.1.1.1", MismatchError);
  refused("239.1.1.1,239.1.1.2,239.1.1.1", "239.1.1.1 is given twice");
  refused("ff3e::1,ff3e:0::1", "ff3e::1 is given twice");
  refused("239.1.1.1,,239.1.1.2", "empty part");
  refused("239.1.1.1,", "empty part");
  refused("239.1.1.1,10.0.0.1", "10.0.0.1");
  refused("10.0.0.1", "10.0.0.1");
  refused("10.0.0.1+3", "10.0.0.1");
  refused("not-a-group", "not-a-group");
  refused("239.1.1.1+1,239.2.2.2", "239.1.1.1+1");
  refused("ff02::1%lo,ff02::2", "%zone");
  refused("ff02::1%lo+1", "%zone");
  refused("", "group");
});

Deno.test("at most MAX_GROUPS groups in a list", () => {
  const list = (n: number) =>
    Array.from({ length: n }, (_, i) => `239.1.${i >> 8}.${i & 255}`).join(",");
  assert.equal(parseGroupList(list(MAX_GROUPS)).groups.length, MAX_GROUPS);
  refused(list(MAX_GROUPS + 1), `at most ${MAX_GROUPS} groups`);
});
