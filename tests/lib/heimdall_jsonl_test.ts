import assert from "node:assert/strict";
import { ClosedError, InvalidValueError, McastError, MismatchError } from "../../lib/errors.ts";
import {
  HEIMDALL_JSONL_SCHEMA,
  heimdallHeader,
  HeimdallJsonlWriter,
  inferNodeId,
  NETWORK_ARTIFACT_TYPE,
  networkSampleRow,
  RESERVED_HEADER_KEYS,
  validateHeader,
} from "../../lib/heimdall_jsonl.ts";
import { ContextMetricsSnapshot } from "../../lib/metrics.ts";

const SEED_ROW_KEYS = [
  "ts",
  "interval_secs",
  "active_publications",
  "publications_added_total",
  "publications_added_delta",
  "publications_removed_total",
  "publications_removed_delta",
  "send_calls_total",
  "send_calls_delta",
  "packets_sent_total",
  "packets_sent_delta",
  "bytes_sent_total",
  "bytes_sent_delta",
  "send_errors_total",
  "send_errors_delta",
  "send_calls_per_sec",
  "packets_per_sec",
  "bytes_per_sec",
  "send_errors_per_sec",
];

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mctx-jsonl-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const header = (nodeId = "sender-0001") =>
  heimdallHeader({
    nodeId,
    producer: "mcast/test",
    flags: { role: "sender", multicast_port: 5000 },
    createdAtMs: 1_700_000_000_000,
  });

function snapshots() {
  const base = {
    publicationsAdded: 1,
    publicationsRemoved: 0,
    activePublications: 1,
    totalSendCalls: 0,
    totalPacketsSent: 0,
    totalBytesSent: 0,
    totalSendErrors: 0,
    totalWouldBlocks: 0,
  };
  const earlier = new ContextMetricsSnapshot({
    ...base,
    capturedAt: { monotonicNs: 1_000_000_000n, wallClockMs: 1_700_000_001_000 },
  });
  const later = new ContextMetricsSnapshot({
    ...base,
    totalSendCalls: 10,
    totalPacketsSent: 10,
    totalBytesSent: 500,
    totalSendErrors: 1,
    capturedAt: { monotonicNs: 3_000_000_000n, wallClockMs: 1_700_000_003_000 },
  });
  return { earlier, later };
}

Deno.test("header and rows match the seed's schema: one header, compact rows", async () => {
  await withDir((dir) => {
    const path = `${dir}/sender-0001/network.jsonl`;
    const { earlier, later } = snapshots();
    using writer = HeimdallJsonlWriter.open(path, header(inferNodeId(path)));
    writer.writeRow(networkSampleRow(later, later.deltaSince(earlier)));
    writer.writeRow(networkSampleRow(later, later.deltaSince(later)));
    writer.close();
    const lines = Deno.readTextFileSync(path).split("\n");
    assert.equal(lines.pop(), "", "file ends with a newline");
    assert.equal(lines.length, 3);
    const head = JSON.parse(lines[0]);
    assert.deepEqual(Object.keys(head), [
      "schema",
      "artifact_type",
      "node_id",
      "producer",
      "created_at",
      "flags",
    ]);
    assert.equal(head.schema, HEIMDALL_JSONL_SCHEMA);
    assert.equal(head.artifact_type, NETWORK_ARTIFACT_TYPE);
    assert.equal(head.node_id, "sender-0001");
    assert.equal(head.created_at, 1_700_000_000);
    assert.deepEqual(head.flags, { role: "sender", multicast_port: 5000 });
    for (const line of lines.slice(1)) {
      assert.ok(!line.includes(" "), "rows are compact");
      const row = JSON.parse(line);
      for (const key of SEED_ROW_KEYS) assert.ok(key in row, `row has ${key}`);
      for (const key of RESERVED_HEADER_KEYS) assert.ok(!(key in row), `row lacks ${key}`);
    }
    const row = JSON.parse(lines[1]);
    assert.equal(row.ts, 1_700_000_003);
    assert.equal(row.interval_secs, 2);
    assert.equal(row.packets_sent_total, 10);
    assert.equal(row.packets_sent_delta, 10);
    assert.equal(row.bytes_sent_delta, 500);
    assert.equal(row.send_errors_total, 1);
    assert.equal(row.packets_per_sec, 5);
  });
});

Deno.test("a second writer on the same file is refused at once while the first holds it", async () => {
  await withDir((dir) => {
    const path = `${dir}/n1/network.jsonl`;
    using first = HeimdallJsonlWriter.open(path, header("n1"));
    assert.throws(() => HeimdallJsonlWriter.open(path, header("n1")), (error: unknown) => {
      assert.ok(error instanceof McastError);
      assert.match(error.message, /^Metrics file is locked by another writer: /);
      return true;
    });
    first.writeRow({ ts: 1, interval_secs: 1 });
    first.close();
    using second = HeimdallJsonlWriter.open(path, header("n1"));
    second.writeRow({ ts: 2, interval_secs: 1 });
    second.close();
    const lines = Deno.readTextFileSync(path).trim().split("\n");
    assert.equal(lines.length, 3, "appending to a matching header keeps one header");
    assert.equal(JSON.parse(lines[0]).schema, HEIMDALL_JSONL_SCHEMA);
  });
});

Deno.test("an invalid header is refused before the file is created", async () => {
  await withDir((dir) => {
    const path = `${dir}/nested/network.jsonl`;
    assert.throws(
      () => HeimdallJsonlWriter.open(path, { ...header(), schema: "heimdall-jsonl-v0" }),
      InvalidValueError,
    );
    assert.throws(
      () => HeimdallJsonlWriter.open(path, { ...header(), node_id: "" }),
      InvalidValueError,
    );
    assert.throws(() => Deno.statSync(`${dir}/nested`), Deno.errors.NotFound);
    assert.throws(() => validateHeader({ ...header(), flags: [] }), InvalidValueError);
  });
});

Deno.test("an existing file without a valid header is refused", async () => {
  await withDir((dir) => {
    const cases: [string, string][] = [
      ["rows only", '{"ts":1.0,"interval_secs":1.0}\n'],
      ["not JSON", "hello\n"],
      ["second header", `${JSON.stringify(header())}\n{"ts":1}\n${JSON.stringify(header())}\n`],
      ["row with a header key", `${JSON.stringify(header())}\n{"ts":1,"node_id":"x"}\n`],
      ["row that is not an object", `${JSON.stringify(header())}\n[1,2]\n`],
    ];
    for (const [name, content] of cases) {
      const path = `${dir}/${name.replaceAll(" ", "_")}.jsonl`;
      Deno.writeTextFileSync(path, content);
      assert.throws(() => HeimdallJsonlWriter.open(path, header()), InvalidValueError, name);
      assert.equal(Deno.readTextFileSync(path), content, `${name}: file untouched`);
    }
  });
});

Deno.test("an existing header that does not match is refused; created_at may differ", async () => {
  await withDir((dir) => {
    const path = `${dir}/network.jsonl`;
    HeimdallJsonlWriter.open(path, header("sender-a")).close();
    assert.throws(() => HeimdallJsonlWriter.open(path, header("sender-b")), (error: unknown) => {
      assert.ok(error instanceof MismatchError);
      assert.match(error.message, /node_id/);
      return true;
    });
    const later = { ...header("sender-a"), created_at: 1_800_000_000 };
    using writer = HeimdallJsonlWriter.open(path, later);
    assert.equal(writer.header.created_at, 1_700_000_000, "the file's header is kept");
  });
});

Deno.test("rows with header keys are refused; a closed writer refuses rows", async () => {
  await withDir((dir) => {
    const writer = HeimdallJsonlWriter.open(`${dir}/x.jsonl`, header());
    assert.throws(() => writer.writeRow({ ts: 1, schema: "x" }), InvalidValueError);
    writer.close();
    writer.close();
    assert.throws(() => writer.writeRow({ ts: 1 }), ClosedError);
  });
});

Deno.test("inferNodeId: parent directory, then file stem, then unknown", () => {
  assert.equal(inferNodeId("/tmp/sender-0001/network-metrics.jsonl"), "sender-0001");
  assert.equal(inferNodeId("results/sender-0001/network.jsonl"), "sender-0001");
  assert.equal(inferNodeId("network.jsonl"), "network");
  assert.equal(inferNodeId("/network.jsonl"), "network");
  assert.equal(inferNodeId(""), "unknown");
});

const WRITER_SCRIPT = (libUrl: string) => `
import { heimdallHeader, HeimdallJsonlWriter } from ${JSON.stringify(libUrl)};
const path = Deno.args[0];
const writer = HeimdallJsonlWriter.open(path, heimdallHeader({ nodeId: "killed", producer: "mcast/test", flags: { pad: "x".repeat(200) } }));
console.log("OPEN");
const deadline = performance.now() + 20_000;
for (let i = 0; i < 5_000_000 && performance.now() < deadline; i++) {
  writer.writeRow({ ts: Date.now() / 1000, seq: i, padding: "y".repeat(i % 300) });
}
`;

Deno.test("rows parse after kill -9 mid-run, and the lock dies with the process", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/killed/network.jsonl`;
    const script = `${dir}/writer.ts`;
    const libUrl = new URL("../../lib/heimdall_jsonl.ts", import.meta.url).href;
    Deno.writeTextFileSync(script, WRITER_SCRIPT(libUrl));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", script, path],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const reader = child.stdout.getReader();
      const first = await reader.read();
      assert.match(new TextDecoder().decode(first.value), /OPEN/);
      reader.releaseLock();
      // Let it write for a while, prove the lock holds across processes, then kill -9.
      const deadline = performance.now() + 10_000;
      while (Deno.statSync(path).size < 2_000_000 && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.throws(
        () => HeimdallJsonlWriter.open(path, header("killed")),
        /locked by another writer/,
      );
      child.kill("SIGKILL");
      const status = await child.status;
      assert.equal(status.signal, "SIGKILL");
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
    }
    const text = Deno.readTextFileSync(path);
    assert.ok(text.endsWith("\n"), "the last row is whole");
    const lines = text.slice(0, -1).split("\n");
    assert.ok(lines.length > 100, `wrote ${lines.length} lines`);
    const head = JSON.parse(lines[0]);
    assert.equal(head.node_id, "killed");
    for (let i = 1; i < lines.length; i++) {
      const row = JSON.parse(lines[i]);
      assert.equal(row.seq, i - 1);
    }
    // The lock went with the process: a new writer can append.
    const flags = head.flags;
    using writer = HeimdallJsonlWriter.open(path, { ...head, flags });
    writer.writeRow({ ts: 1, seq: -1 });
  });
});
