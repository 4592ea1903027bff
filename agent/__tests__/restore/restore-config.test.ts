// The restore command's flags and environment, its definition of an empty
// target, and the built bundle's usage answers (exit 0 for --help, 2 for a
// mistake, with one line that names it and never the token).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPolicyFiles } from "../../../policies";
import { HelpRequested, parseRestoreArgs, type RestoreOptions } from "../../src/restore/config";
import { BUILT_IN_POLICIES, PLATFORM_POLICIES, whyNotEmpty, type TargetContents } from "../../src/restore/target";
import { CommandConfigError } from "../../src/shared/command-env";
import { RESTORE_BUNDLE } from "../support/snapshot-harness";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-restore-config-"));
  writeFileSync(join(dir, "ca.crt"), "ca");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = "s.restoreTestTokenThatMustNeverShow1234";
const targetEnv = () => ({ VAULT_ADDR: "https://127.0.0.1:8200", VAULT_CACERT: join(dir, "ca.crt"), VAULT_TOKEN: TOKEN });
const base = ["--bucket", "p-prod-vault-snapshots", "--environment", "prod"];

function problems(argv: string[], env: Record<string, string | undefined>): string[] {
  try {
    parseRestoreArgs(argv, env);
  } catch (error) {
    if (error instanceof CommandConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a CommandConfigError");
}

describe("restore flags and environment", () => {
  it("takes --latest or one object, by full name or file name", () => {
    const latest: RestoreOptions = parseRestoreArgs([...base, "--latest"], targetEnv());
    expect(latest).toMatchObject({
      bucket: "p-prod-vault-snapshots",
      environment: "prod",
      object: undefined,
      dryRun: false,
      force: false,
      target: { addr: "https://127.0.0.1:8200", token: TOKEN },
    });
    expect(parseRestoreArgs([...base, "--object", "prod/prod-20260101T000000Z.snap"], targetEnv()).object).toBe("prod/prod-20260101T000000Z.snap");
    expect(parseRestoreArgs([...base, "--object", "prod-20260101T000000Z.snap", "--force"], targetEnv())).toMatchObject({
      object: "prod/prod-20260101T000000Z.snap",
      force: true,
    });
  });

  it("fails on a dry run with VAULT_ADDR but no CA or token (only a real restore needs the target; a dry run checks it when VAULT_ADDR is set)", () => {
    expect(parseRestoreArgs([...base, "--latest", "--dry-run"], {}).target).toBeUndefined();
    expect(parseRestoreArgs([...base, "--latest", "--dry-run"], targetEnv()).target?.addr).toBe("https://127.0.0.1:8200");
    expect(problems([...base, "--latest", "--dry-run"], { VAULT_ADDR: "https://127.0.0.1:8200" })).toEqual([
      expect.stringMatching(/^restore config: VAULT_CACERT: is required/),
      expect.stringMatching(/^restore config: VAULT_TOKEN: is required: a root or sudo token of the target vault \(got unset\)$/),
    ]);
  });

  it.each([
    [[...base], /exactly one of --object NAME and --latest/],
    [[...base, "--latest", "--object", "prod-20260101T000000Z.snap"], /exactly one of --object NAME and --latest/],
    [
      [...base, "--object", "staging/staging-20260101T000000Z.snap"],
      /is not one of environment prod's snapshots; expected prod\/prod-<YYYYMMDDTHHMMSSZ>\.snap/,
    ],
    [["--environment", "prod", "--latest"], /^restore: --bucket: is required/],
    [["--bucket", "gs://b", "--environment", "prod", "--latest"], /^restore: --bucket: must be a GCS bucket name .*\(got "gs:\/\/b"\)$/],
    [
      ["--bucket", "p-prod-vault-snapshots", "--environment", "Prod", "--latest"],
      /^restore: --environment: must be an environment name: lowercase letters, digits and -, starting with a letter \(got "Prod"\)$/,
    ],
    [[...base, "--latest", "--token", "x"], /Unknown option '--token'/],
  ])("fails on %j", (argv, message) => {
    expect(problems(argv, targetEnv())[0]).toMatch(message);
  });

  it.each([
    ["VAULT_ADDR", "http://127.0.0.1:8200", /must be an https:\/\/ URL of the active Vault server: the command never talks plaintext to Vault/],
    ["SPOOL_DIR", "/nonexistent/vault-gke-spool", /no such directory; point SPOOL_DIR at a folder with room for the snapshot, or unset it/],
    ["STORAGE_EMULATOR_HOST", "localhost:4443", /must be an http\(s\):\/\/ URL of a Cloud Storage emulator/],
    ["LOG_LEVEL", "verbose", /must be one of trace, debug, info, warn, error/],
  ])("fails on a bad %s, naming it, its value and the fix", (name, value, fix) => {
    const lines = problems([...base, "--latest"], { ...targetEnv(), [name]: value });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^restore config: ${name}: `));
    expect(lines[0]).toMatch(fix);
    expect(lines[0]).toContain(`(got ${JSON.stringify(value)})`);
  });

  it("fails on an empty VAULT_TOKEN, naming it without showing its value", () => {
    const lines = problems([...base, "--latest"], { ...targetEnv(), VAULT_TOKEN: "" });
    expect(lines).toContainEqual("restore config: VAULT_TOKEN: is required: a root or sudo token of the target vault (got a value (not shown))");
  });

  it("answers --help", () => {
    expect(() => parseRestoreArgs(["--help"], {})).toThrow(HelpRequested);
  });
});

describe("an empty target", () => {
  const fresh: TargetContents = {
    mounts: { "cubbyhole/": "cubbyhole", "identity/": "identity", "sys/": "system" },
    authMethods: { "token/": "token" },
    policies: ["default", "root"],
    entities: 0,
    groups: 0,
  };

  it("is a freshly initialized vault, also after the bootstrap sidecar wrote the platform's policies", () => {
    expect(whyNotEmpty(fresh)).toEqual([]);
    expect(whyNotEmpty({ ...fresh, policies: [...BUILT_IN_POLICIES, ...PLATFORM_POLICIES] })).toEqual([]);
  });

  it("holds no secrets engine, auth method, other policy, entity or group", () => {
    expect(
      whyNotEmpty({
        mounts: { ...fresh.mounts, "tenants/a/kv/": "kv", "secret/": "kv" },
        authMethods: { ...fresh.authMethods, "kubernetes-apps/": "kubernetes" },
        policies: ["default", "root", "admin", "tenant-a"],
        entities: 2,
        groups: 1,
      }),
    ).toEqual([
      "secrets engines: secret/ (kv), tenants/a/kv/ (kv)",
      "auth methods: kubernetes-apps/ (kubernetes)",
      "policies: tenant-a",
      "identity entities: 2",
      "identity groups: 1",
    ]);
  });

  it("counts every policy in policies/ as the platform's own (the list follows the folder)", () => {
    expect(PLATFORM_POLICIES).toEqual(expect.arrayContaining(Object.keys(loadPolicyFiles())));
  });
});

describe("the built restore command", () => {
  it("prints the usage for --help and exits 0", () => {
    const run = spawnSync(process.execPath, [RESTORE_BUNDLE, "--help"], { env: { PATH: process.env.PATH }, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: restore --bucket BUCKET --environment ENV \(--object NAME \| --latest\) \[--dry-run\] \[--force\]/);
  });

  it("exits 2 on a usage mistake, with the line and a pointer to --help, no stack trace and no token", () => {
    const run = spawnSync(process.execPath, [RESTORE_BUNDLE, ...base], { env: { PATH: process.env.PATH, ...targetEnv() }, encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("restore: give exactly one of --object NAME and --latest\nrun restore --help for the usage\n");
    expect(run.stdout).toBe("");
  });
});
