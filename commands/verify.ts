// `npm run verify -- <environment>`: compares what Vault holds with what the
// stacks declare (the verifier the sidecar also runs on a schedule) and exits
// 1 when anything deviates, one line per finding. Runners run it after every
// apply, with the read-only plan token:
//   VAULT_TOKEN=<plan token> VAULT_CACERT=<ca file> npm run --silent verify -- example
// VAULT_ADDR defaults to the environment's Vault address. Besides what the
// sidecar's verifier checks, it compares each tenant's login role, database
// connections and database roles with tenants/<environment>/*.yaml
// (VAULT_GKE_TENANTS overrides tenants/; VAULT_GKE_VERIFY_TENANTS=a,b or none
// compares only those, and then a tenant without a file is no finding; all,
// the default, compares every file). A tenant policy the sidecar has not
// written yet (a tenant applied seconds ago) is reported only when it is still
// missing after the sidecar's interval (VAULT_GKE_VERIFY_SETTLE_SECONDS,
// default 60). Exit codes: 0 no finding, 1 findings, 2 bad usage or settings,
// 3 Vault could not be read.
import { join, resolve } from "node:path";
import { VaultClient } from "@vault-gke/agent/vault";
import { readInventory, verify } from "@vault-gke/agent/verify";
import { readVaultCaFile } from "./vault-ca-file";
import { declaredAccess, declaredTenants } from "../config/declared-access";
import { ConfigError, environmentNames, loadEnvironmentFile } from "../config/load";
import { loadTenants } from "../config/load-tenants";
import { vaultAddress } from "../config/names";
import { connectionPins, environmentPolicies } from "../policies";

const root = resolve(__dirname, "..");

function fail(code: number, message: string): never {
  process.stderr.write(`verify: ${message}\n`);
  process.exit(code);
}

const USAGE = "usage: npm run verify -- <environment> (with VAULT_TOKEN, and VAULT_CACERT for a private CA)";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length !== 1) {
    fail(
      2,
      `${args.length === 0 ? "no environment given" : `expected one environment, got ${args.length} arguments (${args.map((a) => JSON.stringify(a)).join(" ")})`}; ${USAGE}`,
    );
  }
  const name = args[0];
  const dir = process.env.VAULT_GKE_ENVIRONMENTS ?? join(root, "environments");
  const known = environmentNames(dir);
  if (!known.includes(name)) {
    fail(
      2,
      `no environment ${JSON.stringify(name)} in ${dir}; ${known.length > 0 ? `use one of ${known.join(", ")}` : "write environments/<name>.yaml first (copy environments/example.yaml)"}`,
    );
  }
  let env;
  let tenants;
  try {
    env = loadEnvironmentFile(join(dir, `${name}.yaml`));
    tenants = loadTenants(join(process.env.VAULT_GKE_TENANTS ?? join(root, "tenants"), name), env);
  } catch (error) {
    if (error instanceof ConfigError) fail(2, error.problems.join("\n"));
    throw error;
  }
  const token = process.env.VAULT_TOKEN;
  if (!token) fail(2, "VAULT_TOKEN is not set; use the plan token (it reads everything the verifier needs and writes nothing)");
  const address = process.env.VAULT_ADDR ?? vaultAddress(env);
  const { ca, problem } = readVaultCaFile();
  if (problem) fail(2, problem);
  const vault = new VaultClient({ address, ca });
  const settleMs = settleSeconds() * 1000;
  const only = onlyTenants(tenants.map((t) => t.name));
  const declared = only
    ? declaredAccess(
        env,
        tenants.filter((t) => only.includes(t.name)),
        false,
      )
    : declaredAccess(env, tenants);
  const rendered = environmentPolicies(
    env.tenancy.clusters.map((c) => c.name),
    connectionPins(declaredTenants(tenants)),
  );
  // The provisioner policy pins every tenant's database, including those of other pull requests applied before
  // their merge: compared only with every tenant file (the scheduled run), not after one tenant's apply.
  const policies = only ? Object.fromEntries(Object.entries(rendered).filter(([name]) => name !== "provisioner")) : rendered;
  let findings;
  try {
    const started = Date.now();
    findings = verify(await readInventory(vault, token), declared, policies);
    // The sidecar writes a new tenant's policy on its next pass: read again until it has, or the interval is over.
    while (findings.some((f) => f.kind === "missing-tenant-policy") && Date.now() - started < settleMs) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      findings = verify(await readInventory(vault, token), declared, policies);
    }
  } catch (error) {
    fail(3, `reading ${address} failed: ${(error as Error).message}`);
  } finally {
    vault.close();
  }
  for (const f of findings) process.stdout.write(`finding ${f.kind} ${f.path}: ${f.detail}\n`);
  process.stdout.write(`${findings.length} finding(s) in ${address} for environment ${env.name}\n`);
  process.exit(findings.length > 0 ? 1 : 0);
}

/** VAULT_GKE_VERIFY_TENANTS: which tenant files to compare (comma-separated names, none, or all); unset: all. */
function onlyTenants(known: readonly string[]): string[] | undefined {
  const raw = process.env.VAULT_GKE_VERIFY_TENANTS;
  if (raw === undefined || raw === "" || raw === "all") return undefined;
  if (raw === "none") return [];
  const names = raw.split(",").map((n) => n.trim());
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0)
    fail(
      2,
      `VAULT_GKE_VERIFY_TENANTS names ${unknown.map((n) => JSON.stringify(n)).join(", ")}, which no tenant file of this environment declares; use names of ${known.join(", ") || "(no tenant file)"}, or none`,
    );
  return names;
}

function settleSeconds(): number {
  const raw = process.env.VAULT_GKE_VERIFY_SETTLE_SECONDS ?? "60";
  if (!/^\d+$/.test(raw)) fail(2, `VAULT_GKE_VERIFY_SETTLE_SECONDS is ${JSON.stringify(raw)}; give whole seconds, such as 60 (0: do not wait)`);
  return Number(raw);
}

void main();
