// Receivers forcing versions on one interface share it (issue 9, item 3): the value stays forced
// while any holder lives and goes back to the original after the last one; a holder killed with
// SIGKILL is pruned by the next receiver, which says so and restores the original first. Against
// a stand-in procfs (the sysctl files are plain files) with the records beside it; the other
// holders are real processes, so liveness is tested by pid and start time.

import assert from "node:assert/strict";
import { listForceRecords, splitHolders } from "../../lib/force_record.ts";
import { isAlive, processIdentity } from "../../lib/host_identity.ts";
import { ForcedMembershipVersion } from "../../lib/igmp_version.ts";

const IGMP_URL = new URL("../../lib/igmp_version.ts", import.meta.url).href;

async function withProc(fn: (root: string, file: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "mcast_force_" });
  try {
    await Deno.mkdir(`${root}/sys/net/ipv4/conf/lo`, { recursive: true });
    const file = `${root}/sys/net/ipv4/conf/lo/force_igmp_version`;
    await Deno.writeTextFile(file, "0\n");
    await fn(root, file);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** A child process that forces `version` on lo of the stand-in procfs and waits for stdin. */
function holder(root: string, version: number): Deno.ChildProcess {
  const code = `
    import { ForcedMembershipVersion } from ${JSON.stringify(IGMP_URL)};
    const forced = ForcedMembershipVersion.apply("lo", {
      version: ${version}, procRoot: ${JSON.stringify(root)}, onSignal: "restore",
      onWarning: (m) => console.error(m),
    });
    console.log(JSON.stringify({ status: forced.status, value: forced.value }));
    for await (const _ of Deno.stdin.readable) break;
    forced.restore();
    console.log("restored");
  `;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", code],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads the first line the child prints. */
async function firstLine(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.split("\n")[0];
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("\n"));
  await writer.close();
  await child.status;
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel().catch(() => {});
}

Deno.test("A forces 2, B asks 1: B keeps A's 2, the value outlives A and goes back after B", async () => {
  await withProc(async (root, file) => {
    const a = holder(root, 2);
    assert.deepEqual(JSON.parse(await firstLine(a)), { status: "forced", value: 2 });
    assert.equal(await Deno.readTextFile(file), "2\n");
    const b = holder(root, 1);
    assert.deepEqual(JSON.parse(await firstLine(b)), { status: "held", value: 2 });
    assert.equal(await Deno.readTextFile(file), "2\n", "B leaves A's value alone");
    let [record] = listForceRecords(`${root}/run-mcast-force`);
    assert.deepEqual(
      [record.original, record.forced, record.holders.map((h) => h.requested)],
      [0, 2, [2, 1]],
    );
    await stop(a);
    assert.equal(await Deno.readTextFile(file), "2\n", "still forced while B runs");
    [record] = listForceRecords(`${root}/run-mcast-force`);
    assert.equal(record.holders.length, 1);
    await stop(b);
    assert.equal(await Deno.readTextFile(file), "0\n", "back to the original after the last");
    assert.deepEqual(listForceRecords(`${root}/run-mcast-force`), []);
  });
});

Deno.test("two holds asking the same version share it; in one process too", async () => {
  await withProc(async (root, file) => {
    const first = ForcedMembershipVersion.apply("lo", { version: 2, procRoot: root });
    const second = ForcedMembershipVersion.apply("lo", { version: 2, procRoot: root });
    assert.deepEqual([first.status, second.status], ["forced", "shared"]);
    first.restore();
    assert.equal(await Deno.readTextFile(file), "2\n");
    second.restore();
    assert.equal(await Deno.readTextFile(file), "0\n");
  });
});

Deno.test("a holder killed with SIGKILL is pruned by the next one, which restores first", async () => {
  await withProc(async (root, file) => {
    const doomed = holder(root, 2);
    assert.equal(JSON.parse(await firstLine(doomed)).status, "forced");
    const identity = processIdentity(doomed.pid)!;
    doomed.kill("SIGKILL");
    await doomed.status;
    await doomed.stdout.cancel().catch(() => {});
    await doomed.stderr.cancel().catch(() => {});
    assert.equal(isAlive(identity), false);
    assert.equal(await Deno.readTextFile(file), "2\n", "the killed run left its value");
    // What mcast-status shows meanwhile: the record, its holder dead.
    const [left] = listForceRecords(`${root}/run-mcast-force`);
    assert.deepEqual(splitHolders(left.holders).dead.map((h) => h.pid), [doomed.pid]);

    const notes: string[] = [];
    const next = ForcedMembershipVersion.apply("lo", {
      version: 3,
      procRoot: root,
      onNote: (note) => notes.push(note),
    });
    assert.equal(next.status, "unchanged", "restored to 0, which already gives IGMPv3");
    assert.equal(await Deno.readTextFile(file), "0\n");
    assert.equal(notes.length, 2, notes.join("\n"));
    assert.match(
      notes[0],
      new RegExp(
        `^pruned pid ${doomed.pid} from the net\\.ipv4\\.conf\\.lo\\.force_igmp_version record`,
      ),
    );
    assert.equal(
      notes[1],
      "restored net.ipv4.conf.lo.force_igmp_version to 0: it was left at 2 by a receiver that " +
        "did not exit normally",
    );
    assert.deepEqual(listForceRecords(`${root}/run-mcast-force`), []);
    next.restore();
  });
});

Deno.test("a record of a recreated interface (another index) is dropped, not restored", async () => {
  await withProc(async (root, file) => {
    const dir = `${root}/run-mcast-force`;
    const forced = ForcedMembershipVersion.apply("lo", { version: 2, procRoot: root });
    const [record] = listForceRecords(dir);
    // As if lo had been deleted and made again: the index in the record no longer matches.
    const path = `${dir}/${record.netns}-igmp-lo.json`;
    await Deno.writeTextFile(path, JSON.stringify({ ...record, ifindex: 9999 }));
    await Deno.writeTextFile(file, "1\n");
    const notes: string[] = [];
    const next = ForcedMembershipVersion.apply("lo", {
      version: 1,
      procRoot: root,
      onNote: (n) => notes.push(n),
    });
    assert.equal(next.status, "unchanged");
    assert.match(notes[0], /dropped the forcing record of a former lo \(index 9999/);
    assert.equal(await Deno.readTextFile(file), "1\n", "nothing restored into the new interface");
    forced.restore();
    next.restore();
  });
});
