// The snapshot command's settings, object naming and hashing spool; and the
// built bundle's answer to bad settings (exit 2, one line per problem, no stack).
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { CRC32C } from "@google-cloud/storage";
import { loadSnapshotConfig, SNAPSHOT_VARIABLES } from "../../src/snapshot/config";
import { CommandConfigError } from "../../src/shared/command-env";
import { compactUtc, newestSnapshotName, snapshotMetadata, snapshotObjectName, snapshotTime } from "../../src/archive/object";
import { spool } from "../../src/archive/spool";
import { SNAPSHOT_BUNDLE } from "../support/snapshot-harness";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-snapshot-config-"));
  writeFileSync(join(dir, "ca.crt"), "ca");
  writeFileSync(join(dir, "token"), "jwt");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const valid = () => ({
  VAULT_ADDR: "https://vault-active.vault.svc:8200/",
  VAULT_CACERT: join(dir, "ca.crt"),
  KUBERNETES_TOKEN_FILE: join(dir, "token"),
  SNAPSHOT_BUCKET: "my-project-prod-vault-snapshots",
  ENVIRONMENT: "prod",
  SPOOL_DIR: dir,
  SNAPSHOT_MAX_AGE_SEC: "7200",
});

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadSnapshotConfig(env);
  } catch (error) {
    if (error instanceof CommandConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a CommandConfigError");
}

describe("snapshot config", () => {
  it("reads the CronJob's environment, with the documented defaults", () => {
    expect(loadSnapshotConfig(valid())).toEqual({
      vaultAddr: "https://vault-active.vault.svc:8200",
      vaultCaCertFile: join(dir, "ca.crt"),
      authPath: "in-cluster",
      role: "snapshot",
      tokenFile: join(dir, "token"),
      bucket: "my-project-prod-vault-snapshots",
      environment: "prod",
      spoolDir: dir,
      maxAgeSec: 7200,
      emulatorHost: undefined,
      logLevel: "info",
    });
    expect(SNAPSHOT_VARIABLES).toEqual(
      expect.arrayContaining([
        "VAULT_ADDR",
        "VAULT_CACERT",
        "VAULT_AUTH_PATH",
        "VAULT_ROLE",
        "KUBERNETES_TOKEN_FILE",
        "SNAPSHOT_BUCKET",
        "ENVIRONMENT",
        "SPOOL_DIR",
        "SNAPSHOT_MAX_AGE_SEC",
        "STORAGE_EMULATOR_HOST",
      ]),
    );
  });

  it("fails when the default token file and spool folder are missing (they are mounts the pod must have)", () => {
    const env: Record<string, string | undefined> = valid();
    delete env.KUBERNETES_TOKEN_FILE;
    delete env.SPOOL_DIR;
    expect(problems(env)).toEqual([
      expect.stringMatching(
        /^snapshot config: KUBERNETES_TOKEN_FILE: no such file; project a service account token with audience vault there .*\(got unset\)$/,
      ),
      expect.stringMatching(/^snapshot config: SPOOL_DIR: no such directory; mount a writable emptyDir there .*\(got unset\)$/),
    ]);
  });

  it.each([
    ["VAULT_ADDR", "http://vault:8200", /never talks plaintext/],
    ["VAULT_CACERT", "/nope/ca.crt", /no such file; mount the Vault TLS secret's ca.crt/],
    ["VAULT_AUTH_PATH", "/auth/in-cluster/", /without auth\/ and slashes/],
    ["SNAPSHOT_BUCKET", "gs://bucket", /GCS bucket name .* without gs:\/\//],
    ["ENVIRONMENT", "Prod", /environment name/],
    ["SNAPSHOT_MAX_AGE_SEC", "2h", /whole number of seconds, for example 7200/],
    ["STORAGE_EMULATOR_HOST", "localhost:4443", /http\(s\):\/\/ URL of a Cloud Storage emulator/],
    ["VAULT_ROLE", "snap shot", /must be the name of the Kubernetes auth role, for example snapshot/],
    ["LOG_LEVEL", "verbose", /must be one of trace, debug, info, warn, error/],
  ])("fails on a bad %s, naming it, its value and the fix", (name, value, fix) => {
    const lines = problems({ ...valid(), [name]: value });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^snapshot config: ${name}: `));
    expect(lines[0]).toMatch(fix);
    expect(lines[0]).toContain(`(got ${JSON.stringify(value)})`);
  });

  it("the built command exits 2 with one line per problem and no stack trace", () => {
    const run = spawnSync(process.execPath, [SNAPSHOT_BUNDLE], {
      env: { PATH: process.env.PATH, VAULT_ADDR: "http://vault:8200", SPOOL_DIR: dir },
      encoding: "utf8",
    });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trim().split("\n");
    expect(lines.every((l) => l.startsWith("snapshot config: "))).toBe(true);
    expect(lines.map((l) => l.split(":")[1].trim())).toEqual([
      "VAULT_ADDR",
      "VAULT_CACERT",
      "KUBERNETES_TOKEN_FILE",
      "SNAPSHOT_BUCKET",
      "ENVIRONMENT",
      "SNAPSHOT_MAX_AGE_SEC",
    ]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("snapshot objects", () => {
  it("are named <env>/<env>-<UTC YYYYMMDDTHHMMSSZ>.snap, whatever the local time zone", () => {
    const at = new Date("2026-03-29T01:30:05.999+02:00");
    expect(compactUtc(at)).toBe("20260328T233005Z");
    expect(snapshotObjectName("prod", at)).toBe("prod/prod-20260328T233005Z.snap");
    expect(snapshotTime("prod", "prod/prod-20260328T233005Z.snap")?.toISOString()).toBe("2026-03-28T23:30:05.000Z");
  });

  it("are told apart from anything else under the prefix, and the newest is found by name", () => {
    expect(snapshotTime("prod", "prod/prod-20261301T000000Z.snap")).toBeUndefined();
    expect(snapshotTime("prod", "prod/other-20260101T000000Z.snap")).toBeUndefined();
    expect(snapshotTime("prod", "prod-eu/prod-eu-20260101T000000Z.snap")).toBeUndefined();
    expect(snapshotTime("prod", "prod/prod-20260101T000000Z.snap.tmp")).toBeUndefined();
    const names = [
      "prod/prod-20260101T000000Z.snap",
      "prod/prod-20261231T235959Z.snap",
      "prod/prod-20260601T120000Z.snap",
      "prod/notes.txt",
      "prod/prod-99999999T999999Z.snap",
    ];
    expect(newestSnapshotName("prod", names)).toBe("prod/prod-20261231T235959Z.snap");
    expect(newestSnapshotName("prod", [])).toBeUndefined();
  });

  it("carry the SHA-256, the environment and the format version in their metadata", () => {
    expect(snapshotMetadata("prod", "ab".repeat(32))).toEqual({ sha256: "ab".repeat(32), environment: "prod", "vault-gke-format": "snapshot/v1" });
  });
});

describe("spool", () => {
  it("writes the stream to a new owner-only file and returns SHA-256, CRC32C and MD5 as GCS reports them", async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const file = join(dir, "spooled");
    const chunks = Array.from({ length: 7 }, (_, i) => data.subarray(Math.floor((i * data.length) / 7), Math.floor(((i + 1) * data.length) / 7)));
    const digests = await spool(Readable.from(chunks), file);
    expect(readFileSync(file).equals(data)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const crc = new CRC32C();
    crc.update(data);
    expect(digests).toEqual({
      bytes: data.length,
      sha256: createHash("sha256").update(data).digest("hex"),
      crc32c: crc.toString(),
      md5: createHash("md5").update(data).digest("base64"),
    });
    // Never over an existing file, and nothing left behind by a failed stream.
    await expect(spool(Readable.from([Buffer.from("x")]), file)).rejects.toThrow(/EEXIST/);
    const failing = new Readable({
      read() {
        this.destroy(new Error("vault went away"));
      },
    });
    await expect(spool(failing, join(dir, "broken"))).rejects.toThrow("vault went away");
    expect(() => statSync(join(dir, "broken"))).toThrow(/ENOENT/);
  });
});
