import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { ConfigError } from "../../config/load";
import { loadTenants } from "../../config/load-tenants";
import { exampleEnv, merge, ROOT } from "../helpers";

const env = exampleEnv();
const payments = () => parse(readFileSync(join(ROOT, "tenants", "example", "payments.yaml"), "utf8")) as Record<string, unknown>;
let root: string;
let n = 0;
beforeAll(() => (root = mkdtempSync(join(tmpdir(), "vault-gke-tenants-"))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh tenants/<env> folder with the given tenant documents (by name). */
function folder(...docs: Record<string, unknown>[]): string {
  const dir = join(root, `env-${n++}`);
  mkdirSync(dir);
  for (const doc of docs) writeFileSync(join(dir, `${doc.name}.yaml`), stringify(doc));
  return dir;
}

function problems(dir: string): string[] {
  try {
    loadTenants(dir, env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a ConfigError");
}

function failure(dir: string, file: string, field: string): string {
  const line = problems(dir).find((p) => p.startsWith(join(dir, file)) && p.includes(`: ${field}: `));
  if (!line) throw new Error(`no problem for ${file} ${field}:\n${problems(dir).join("\n")}`);
  expect(line).toMatch(/^[^:]+\.yaml(:\d+:\d+)?: /);
  expect(line).not.toMatch(/\n|at .*\(.*\.ts:\d+/); // one line, no stack trace
  return line;
}

describe("tenant files", () => {
  it("loads the example tenants with defaults", () => {
    const tenants = loadTenants(join(ROOT, "tenants", "example"), env);
    expect(tenants.map((t) => t.name)).toEqual(["payments", "search"]);
    const search = tenants[1];
    expect(search).toMatchObject({ tokenTtl: 1800, tokenMaxTtl: 3600, allowWildcards: false, engines: { kv: { maxVersions: 10 } } });
    expect(tenants[0].engines.postgres).toMatchObject({ defaultTtl: 900, maxTtl: 3600, sslMode: "verify-full" });
  });

  it("has no tenants when the folder does not exist", () => {
    expect(loadTenants(join(root, "nope"), env)).toEqual([]);
  });

  it("fails on an unknown engine, listing the engines", () => {
    const dir = folder(merge(payments(), { engines: { mongodb: { host: "x" } } }) as Record<string, unknown>);
    expect(failure(dir, "payments.yaml", "engines.mongodb")).toContain("unknown engine; choose from kv, transit and postgres");
  });

  // Each transit key is a resource named after it: a key listed twice was a cdktf stack trace at synth.
  it("fails on a transit key listed twice, naming the second one and the fix", () => {
    const dir = folder(merge(payments(), { engines: { transit: { keys: ["card-tokens", "iban", "card-tokens"] } } }) as Record<string, unknown>);
    expect(failure(dir, "payments.yaml", "engines.transit.keys[2]")).toContain(
      ': engines.transit.keys[2]: got "card-tokens"; this key is listed twice (engines.transit.keys[0]); list each key once',
    );
  });

  it("fails on a wildcard service account without the explicit opt-in", () => {
    const dir = folder({ ...payments(), serviceAccounts: ["*"] });
    const line = failure(dir, "payments.yaml", "serviceAccounts[0]");
    expect(line).toContain("set allowWildcards: true to mean it");
  });

  it("accepts a wildcard with the opt-in", () => {
    const dir = folder({ ...payments(), serviceAccounts: ["*"], allowWildcards: true });
    expect(loadTenants(dir, env)[0].serviceAccounts).toEqual(["*"]);
  });

  it("fails on a TTL above the environment's maximum", () => {
    const dir = folder({ ...payments(), tokenMaxTtl: "2h" });
    expect(failure(dir, "payments.yaml", "tokenMaxTtl")).toContain("above the environment's tenancy.maxTokenTtl (1h); use 1h or less");
  });

  it("fails on database leases above the environment's maximum", () => {
    const dir = folder(merge(payments(), { engines: { postgres: { maxTtl: "3h" } } }) as Record<string, unknown>);
    expect(failure(dir, "payments.yaml", "engines.postgres.maxTtl")).toContain("use 1h or less");
  });

  it("fails when two tenants claim the same namespace of the same cluster", () => {
    const other = { ...payments(), name: "ledger", namespaces: ["payments"], secrets: [] };
    const dir = folder(payments(), other);
    const line = problems(dir).find((p) => p.includes("namespaces:"));
    expect(line).toMatch(/payments\.yaml: namespaces: namespace "payments" of cluster "apps-prod" is already claimed by tenant ledger \(.*ledger\.yaml\)/);
  });

  it("allows the same namespace name on another registered cluster", () => {
    const clusters = [...env.tenancy.clusters, { ...env.tenancy.clusters[0], name: "apps-eu" }];
    const twoClusters = { ...env, tenancy: { ...env.tenancy, clusters } };
    const other = { ...payments(), name: "ledger", cluster: "apps-eu", secrets: [] };
    expect(loadTenants(folder(payments(), other), twoClusters).map((t) => t.name)).toEqual(["ledger", "payments"]);
  });

  it("fails on a cluster the platform team has not registered, naming the registered ones", () => {
    const dir = folder({ ...payments(), cluster: "apps-eu" });
    const line = failure(dir, "payments.yaml", "cluster");
    expect(line).toContain('got "apps-eu"; no such cluster is registered in environments/example.yaml (tenancy.clusters: apps-prod)');
    expect(line).toContain("ask the platform team to register the cluster");
  });

  it("fails on a tenant file that still describes its cluster's API server and CA", () => {
    const dir = folder({ ...payments(), cluster: { name: "apps-prod", apiServerUrl: "https://203.0.113.9", caCertificate: "-----BEGIN CERTIFICATE-----" } });
    const line = failure(dir, "payments.yaml", "cluster");
    expect(line).toContain("got a cluster description (apiServerUrl, caCertificate)");
    expect(line).toContain("cannot choose the API server or CA that Vault trusts");
    expect(line).toContain("write cluster: apps-prod");
  });

  it("fails on a tenant file that carries only an API server URL", () => {
    const line = failure(folder({ ...payments(), cluster: { apiServerUrl: "https://203.0.113.9" } }), "payments.yaml", "cluster");
    expect(line).toContain("got a cluster description (apiServerUrl)");
  });

  it("fails on an empty audience", () => {
    const line = failure(folder({ ...payments(), audience: "" }), "payments.yaml", "audience");
    expect(line).toContain("the audience cannot be empty");
  });

  const passwordVersion = (v: unknown) => ({ engines: { postgres: { passwordVersion: v } } });
  const audience = (v: unknown) => ({ audience: v });
  it.each([
    ["engines.postgres.passwordVersion", 0, passwordVersion, "; use 1 or more"],
    ["engines.postgres.passwordVersion", -2, passwordVersion, "; use 1 or more"],
    ["engines.postgres.passwordVersion", 1.5, passwordVersion, ", expected a whole number; write a whole number"],
    ["engines.postgres.passwordVersion", "2", passwordVersion, ", expected a number; write a number"],
    ["audience", "vault api", audience, "; an audience has no spaces; for example vault"],
    ["audience", " vault", audience, "; an audience has no spaces; for example vault"],
  ])("fails on %s %j, naming the file, the value and the fix", (field, value, overrides, fix) => {
    const line = failure(folder(merge(payments(), overrides(value)) as Record<string, unknown>), "payments.yaml", field);
    expect(line).toContain(`: ${field}: got ${JSON.stringify(value)}${fix}`);
  });

  it("defaults the audience to vault", () => {
    const { audience, ...rest } = payments();
    expect(audience).toBe("vault");
    expect(loadTenants(folder(rest), env)[0].audience).toBe("vault");
  });

  it("fails when the name does not match the file", () => {
    const dir = join(root, `env-${n++}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "payments.yaml"), stringify({ ...payments(), name: "other" }));
    expect(problems(dir)[0]).toContain("write name: payments");
  });
});
