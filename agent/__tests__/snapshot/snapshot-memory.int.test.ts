// The snapshot command streams: Vault's answer goes through the hashes into a
// spool file and from there to Cloud Storage, never whole into memory. The
// built command runs here with its V8 heap capped far below the snapshot's
// size (docs/disaster-recovery.md, "How a snapshot is taken"), and its peak
// RSS grows by much less than the snapshot over a run on a near-empty vault
// (the heap cap alone would not show it: Buffers live outside the V8 heap).
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopAllBao } from "../../../__tests__/support/bao";
import { startFakeGcs, stopAllFakeGcs, type FakeGcs } from "../../../__tests__/support/fake-gcs";
import { startTokenReviewStandIn, type TokenReviewStandIn } from "../../../__tests__/support/token-review-stand-in";
import { SnapshotVault } from "../../src/vault/snapshot-api";
import {
  configureInClusterLogin,
  expectExit,
  runCommand,
  SNAPSHOT_BUNDLE,
  startShamirVault,
  untilKvServes,
  type ShamirVault,
} from "../support/snapshot-harness";

jest.setTimeout(120_000);

const BUCKET = "example-project-example-vault-snapshots";
/** The command's own live heap is about 16 MB after a GC, whatever the snapshot's size: 24 MB leaves it room. */
const HEAP_MB = 24;
/** Random bytes per KV entry (base64 in the entry: under Raft's 1 MiB entry limit; encrypted, so gzip cannot shrink it). */
const VALUE_BYTES = 640 * 1024;
/** Enough entries for a snapshot of more than three times the heap cap. */
const ENTRIES = 96;

let dir: string;
let gcs: FakeGcs;
let k8s: TokenReviewStandIn;
let vault: ShamirVault;
/** Preloaded into the command: appends its peak RSS (KB, getrusage) to VAULT_GKE_RSS_FILE at exit. */
let rssReporter: string;

/** Runs the snapshot command with the heap cap; returns what it stored and its peak RSS in bytes. */
async function snapshotWithHeapCap(): Promise<{ bytes: number; object: string; peakRss: number }> {
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, k8s.issue({ namespace: "vault", serviceAccount: "vault-snapshot", audiences: ["vault"], ttlSec: 600 }));
  const rssFile = join(dir, `rss-${Date.now()}`);
  const run = await runCommand(
    SNAPSHOT_BUNDLE,
    [],
    {
      VAULT_ADDR: (await vault.active()).addr,
      VAULT_CACERT: vault.cluster.pki.caCertFile,
      KUBERNETES_TOKEN_FILE: tokenFile,
      SNAPSHOT_BUCKET: BUCKET,
      ENVIRONMENT: "example",
      SPOOL_DIR: join(dir, "spool"),
      SNAPSHOT_MAX_AGE_SEC: "7200",
      STORAGE_EMULATOR_HOST: gcs.url,
      NODE_OPTIONS: `--require ${rssReporter}`,
      VAULT_GKE_RSS_FILE: rssFile,
    },
    { nodeArgs: [`--max-old-space-size=${HEAP_MB}`] },
  );
  expectExit(run, 0);
  const stored = run.lines.find((l) => l.msg === "snapshot stored");
  return { bytes: Number(stored?.bytes), object: String(stored?.object), peakRss: Number(readFileSync(rssFile, "utf8").trim()) * 1024 };
}

/** Fills the vault with incompressible KV entries. */
async function fill(): Promise<void> {
  const server = await vault.active();
  const client = new SnapshotVault({ address: server.addr, ca: server.ca, idleTimeoutMs: 60_000 });
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = next++; i < ENTRIES; i = next++) {
          await client.expect("write", "POST", `tenants/alpha/kv/data/large-${i}`, [200, 204], {
            token: vault.rootToken,
            body: { data: { value: randomBytes(VALUE_BYTES).toString("base64") } },
          });
        }
      }),
    );
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-snapshot-memory-"));
  mkdirSync(join(dir, "spool"));
  rssReporter = join(dir, "rss-reporter.js");
  writeFileSync(
    rssReporter,
    'process.on("exit", () => require("node:fs").appendFileSync(process.env.VAULT_GKE_RSS_FILE, `${process.resourceUsage().maxRSS}\\n`));\n',
  );
  gcs = await startFakeGcs();
  await gcs.createBucket(BUCKET);
  k8s = await startTokenReviewStandIn();
  vault = await startShamirVault(join(dir, "vault"), 1, 1, 1);
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await vault.call(vault.rootToken, method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  await ok("POST", "sys/mounts/tenants/alpha/kv", { type: "kv", options: { version: "2" } });
  // One small entry once the new mount serves, so the fill below never meets its upgrade.
  await untilKvServes("POST tenants/alpha/kv/data/ready", () => vault.call(vault.rootToken, "POST", "tenants/alpha/kv/data/ready", { data: { ready: "yes" } }));
  await ok("PUT", "sys/policies/acl/snapshot", { policy: readFileSync(join(__dirname, "..", "..", "..", "policies", "snapshot.hcl"), "utf8") });
  await configureInClusterLogin(ok, k8s, {
    bound_service_account_names: ["vault-snapshot"],
    bound_service_account_namespaces: ["vault"],
    audience: "vault",
    token_policies: ["snapshot"],
    token_ttl: "15m",
  });
});

afterAll(async () => {
  await stopAllBao();
  await stopAllFakeGcs();
  await k8s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it(`stores a snapshot of more than three times its heap with --max-old-space-size=${HEAP_MB}, its memory growing by far less than the snapshot`, async () => {
  const small = await snapshotWithHeapCap();
  await fill();
  const large = await snapshotWithHeapCap();
  expect(large.bytes).toBeGreaterThan(3 * HEAP_MB * 2 ** 20);
  expect((await gcs.describeObject(BUCKET, large.object))?.size).toBe(large.bytes);
  // Holding the snapshot whole (even in a Buffer, outside the heap cap) would add at least its size.
  expect(large.peakRss - small.peakRss).toBeLessThan(large.bytes / 2);
});
