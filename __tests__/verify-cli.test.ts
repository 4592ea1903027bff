// `npm run verify` refuses bad arguments and settings before it contacts any
// Vault: exit 2, one line naming what is wrong, the value and the fix, and no
// stack trace.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandArgs, EXAMPLE_FILE } from "./helpers";

let envDir: string;
beforeAll(() => {
  envDir = mkdtempSync(join(tmpdir(), "vault-gke-verify-cli-"));
  copyFileSync(EXAMPLE_FILE, join(envDir, "example.yaml"));
});
afterAll(() => rmSync(envDir, { recursive: true, force: true }));

/** Runs the command, expects exit 2 with nothing on stdout and no stack trace, and returns stderr. */
function failure(args: string[], env: Record<string, string> = {}): string {
  const run = spawnSync(process.execPath, [...commandArgs("verify"), ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", VAULT_TOKEN: "not-used", VAULT_GKE_ENVIRONMENTS: envDir, ...env },
  });
  expect([run.status, run.stdout]).toEqual([2, ""]);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  return run.stderr;
}

describe("npm run verify", () => {
  it.each([
    ["no environment", [], /^verify: no environment given; usage: npm run verify -- <environment>/],
    ["extra arguments", ["example", "prod"], /^verify: expected one environment, got 2 arguments \("example" "prod"\); usage: npm run verify -- <environment>/],
    ["an unknown environment", ["nope"], /^verify: no environment "nope" in .*; use one of example\n$/],
  ])("fails on %s, naming it and the fix", (_, args, message) => {
    expect(failure(args)).toMatch(message);
  });

  it("fails on a settle time that is not whole seconds, naming it and the fix, before contacting Vault", () => {
    expect(failure(["example"], { VAULT_GKE_VERIFY_SETTLE_SECONDS: "1m" })).toBe(
      'verify: VAULT_GKE_VERIFY_SETTLE_SECONDS is "1m"; give whole seconds, such as 60 (0: do not wait)\n',
    );
  });

  it("fails on a tenant no tenant file declares in VAULT_GKE_VERIFY_TENANTS, naming the ones there are", () => {
    expect(failure(["example"], { VAULT_GKE_VERIFY_TENANTS: "payments,nobody" })).toBe(
      'verify: VAULT_GKE_VERIFY_TENANTS names "nobody", which no tenant file of this environment declares; use names of payments, search, or none\n',
    );
  });

  it("fails on an unreadable VAULT_CACERT, naming it and the fix, before contacting Vault", () => {
    expect(failure(["example"], { VAULT_CACERT: join(envDir, "no-ca.pem") })).toBe(
      `verify: VAULT_CACERT: cannot read ${join(envDir, "no-ca.pem")} (ENOENT); point it at Vault's CA certificate\n`,
    );
  });
});
