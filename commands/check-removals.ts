// `npm run --silent check-removals -- --base <git ref>`: refuses a change that
// removes a tenant file (or a whole environment) while the tenant's stack still
// manages resources. Atlantis and `cdktf deploy` never plan a stack whose code
// is gone, so its Vault engines, keys and login role would live on with nobody
// managing them. Offboarding destroys the stack first (README: offboarding).
// It reads each removed stack's Terraform state from the state bucket with the
// runner's read-only identity (Application Default Credentials).
// Exit codes: 0 nothing orphaned, 1 a removal would orphan resources, 2 bad
// usage, 3 a state could not be read (so the removal cannot be shown safe).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { storageClient } from "@vault-gke/agent/archive";
import { stateObject, tenantStackName } from "../config/names";
import type { EnvironmentConfig } from "../config/schema";

export interface RemovedStack {
  readonly file: string;
  readonly stack: string;
  /** gs://bucket/object of its state. */
  readonly bucket: string;
  readonly object: string;
}

/** Tenant files present in `base` and gone now, as the stacks they synthesized and where their state lives. */
export function removedTenantStacks(
  baseFiles: readonly string[],
  headFiles: readonly string[],
  environments: ReadonlyMap<string, Pick<EnvironmentConfig, "name" | "backend">>,
): RemovedStack[] {
  const head = new Set(headFiles);
  const out: RemovedStack[] = [];
  for (const file of baseFiles) {
    const m = /^tenants\/([^/]+)\/([^/]+)\.ya?ml$/.exec(file);
    if (!m || head.has(file)) continue;
    const env = environments.get(m[1]);
    if (!env) throw new Error(`${file} was removed, and environments/${m[1]}.yaml cannot be read at the base to find its state bucket`);
    const stack = tenantStackName(env as EnvironmentConfig, m[2]);
    out.push({ file, stack, bucket: env.backend.bucket, object: stateObject(env, stack) });
  }
  return out;
}

/** How many resources a Terraform state document manages (0 for none or an empty state). */
export function managedResources(state: Buffer | undefined): number {
  if (!state || state.length === 0) return 0;
  const doc = JSON.parse(state.toString("utf8")) as { resources?: { mode?: string; instances?: unknown[] }[] };
  return (doc.resources ?? []).filter((r) => r.mode !== "data").reduce((n, r) => n + (r.instances?.length ?? 1), 0);
}

function git(root: string, args: string[]): string {
  return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function headTenantFiles(root: string): string[] {
  const dir = join(root, "tenants");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) =>
      readdirSync(join(dir, e.name))
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => `tenants/${e.name}/${f}`),
    );
}

function usageError(problem: string): never {
  process.stderr.write(`check-removals: ${problem}\nusage: npm run --silent check-removals -- --base <git ref of the target branch>\n`);
  process.exit(2);
}

/** The --base ref, or a usage error naming what is missing or extra. */
function baseRef(args: readonly string[]): string {
  const i = args.indexOf("--base");
  if (i < 0) usageError("--base is missing; give the git ref the change merges into, for example --base origin/main");
  const base = args[i + 1];
  if (!base || base.startsWith("-"))
    usageError(`--base needs a git ref, got ${base === undefined ? "nothing" : JSON.stringify(base)}; for example --base origin/main`);
  const extra = args.filter((_, j) => j !== i && j !== i + 1);
  if (extra.length > 0)
    usageError(`unexpected argument${extra.length > 1 ? "s" : ""} ${extra.map((a) => JSON.stringify(a)).join(" ")}; give only --base <ref>`);
  return base;
}

async function main(): Promise<void> {
  const base = baseRef(process.argv.slice(2));
  const root = resolve(process.env.VAULT_GKE_REPO ?? resolve(__dirname, ".."));
  let baseFiles: string[];
  try {
    baseFiles = git(root, ["ls-tree", "-r", "--name-only", base, "--", "tenants"]).split("\n").filter(Boolean);
  } catch (error) {
    const reason =
      String((error as { stderr?: unknown }).stderr ?? "")
        .trim()
        .split("\n")[0] || (error as Error).message.split("\n")[0];
    process.stderr.write(
      `check-removals: --base ${JSON.stringify(base)}: cannot list tenants/ at this ref (${reason}); fetch the base branch first (git fetch origin <branch>) or fix the ref\n`,
    );
    process.exit(2);
  }
  // The environments as they were at the base: a removed environment's tenants are found there too.
  const environments = new Map<string, Pick<EnvironmentConfig, "name" | "backend">>();
  for (const file of git(root, ["ls-tree", "-r", "--name-only", base, "--", "environments"])
    .split("\n")
    .filter((f) => /\.ya?ml$/.test(f))) {
    const doc = parse(git(root, ["show", `${base}:${file}`])) as { name?: string; backend?: { bucket: string; prefix: string } };
    if (doc?.name && doc.backend)
      environments.set(doc.name, { name: doc.name, backend: { bucket: doc.backend.bucket, prefix: doc.backend.prefix.replace(/\/+$/, "") } });
  }
  let removed: RemovedStack[];
  try {
    removed = removedTenantStacks(baseFiles, headTenantFiles(root), environments);
  } catch (error) {
    process.stderr.write(`check-removals: ${(error as Error).message}\n`);
    process.exit(2);
  }
  // STORAGE_EMULATOR_HOST points the official client at a local stand-in (tests only).
  const storage = storageClient(process.env.STORAGE_EMULATOR_HOST);
  let refused = 0;
  let unreadable = 0;
  for (const r of removed) {
    let state: Buffer | undefined;
    try {
      const file = storage.bucket(r.bucket).file(r.object);
      const [exists] = await file.exists();
      state = exists ? (await file.download())[0] : undefined;
    } catch (error) {
      unreadable++;
      process.stderr.write(
        `check-removals: ${r.file}: cannot read the state of ${r.stack} at gs://${r.bucket}/${r.object} (${(error as Error).message.split("\n")[0]}); the removal cannot be shown safe\n`,
      );
      continue;
    }
    const count = managedResources(state);
    if (count > 0) {
      refused++;
      process.stdout.write(
        `${r.file}: removed, but stack ${r.stack} still manages ${count} resource(s) (gs://${r.bucket}/${r.object}); destroy it first (README: offboarding a tenant), then remove the file\n`,
      );
    } else {
      process.stdout.write(`${r.file}: removed; stack ${r.stack} manages nothing, fine\n`);
    }
  }
  if (removed.length === 0) process.stdout.write("no tenant file removed\n");
  process.exit(unreadable > 0 ? 3 : refused > 0 ? 1 : 0);
}

if (require.main === module) void main();
