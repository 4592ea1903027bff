// A tenant file's secrets[]: the rules the loader adds (its own KV mount, a
// namespace it names, a bounded refresh, a service account it lists, each
// Secret once), each refusal one line with the file, field, value and fix.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { ConfigError } from "../../config/load";
import { loadTenants } from "../../config/load-tenants";
import { exampleEnv, ROOT } from "../helpers";

const env = exampleEnv();
const payments = () => parse(readFileSync(join(ROOT, "tenants", "example", "payments.yaml"), "utf8")) as Record<string, unknown>;
const secret = (over: Record<string, unknown> = {}) => ({
  name: "db",
  namespace: "payments",
  path: "tenants/payments/kv/db",
  keys: { PASSWORD: "password" },
  ...over,
});
let root: string;
let n = 0;
beforeAll(() => (root = mkdtempSync(join(tmpdir(), "vault-gke-tenant-secrets-"))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function load(doc: Record<string, unknown>, environment = env) {
  const dir = join(root, `env-${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, `${doc.name}.yaml`), stringify(doc));
  return { dir, run: () => loadTenants(dir, environment) };
}

/** The one problem of `field`, checked to be one line with the file and line. */
function failure(doc: Record<string, unknown>, field: string, environment = env): string {
  const { dir, run } = load(doc, environment);
  let problems: readonly string[] = [];
  try {
    run();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = error.problems;
  }
  const line = problems.find((p) => p.includes(`: ${field}: `));
  if (!line) throw new Error(`no problem for ${field}:\n${problems.join("\n")}`);
  expect(line.startsWith(join(dir, "payments.yaml"))).toBe(true);
  expect(line).toMatch(/^[^:]+\.yaml:\d+:\d+: /);
  expect(line).not.toMatch(/\n/);
  return line;
}

describe("a tenant file's secrets", () => {
  it("loads the example's secret with its refresh in seconds", () => {
    const [tenant] = loadTenants(join(ROOT, "tenants", "example"), env);
    expect(tenant.secrets).toEqual([
      {
        name: "payments-db",
        namespace: "payments",
        path: "tenants/payments/kv/db",
        keys: { DB_USER: "username", DB_PASSWORD: "password" },
        refreshInterval: 300,
        serviceAccount: "payments-api",
      },
    ]);
  });

  it("defaults to no secrets, and a secret's refresh to 15 minutes", () => {
    const { run } = load({ ...payments(), secrets: undefined });
    expect(run()[0].secrets).toEqual([]);
    const { run: run2 } = load({ ...payments(), secrets: [secret()] });
    expect(run2()[0].secrets[0].refreshInterval).toBe(900);
  });

  it.each([
    [
      "another tenant's mount",
      "tenants/search/kv/db",
      `got "tenants/search/kv/db"; that is tenant search's; a tenant reads only its own KV mount (tenants/payments/kv): write tenants/payments/kv/<secret>`,
    ],
    [
      "another engine of its own",
      "tenants/payments/transit/keys/x",
      `got "tenants/payments/transit/keys/x"; a tenant reads only its own KV mount (tenants/payments/kv)`,
    ],
    ["the mount itself", "tenants/payments/kv", `got "tenants/payments/kv"; a tenant reads only its own KV mount`],
    ["a path outside tenants/", "secret/db", `got "secret/db"; a tenant reads only its own KV mount`],
    [
      "the API's data/ segment",
      "tenants/payments/kv/data/db",
      `got "tenants/payments/kv/data/db"; write the secret's path without the API's data/ segment: tenants/payments/kv/db`,
    ],
  ])("refuses %s", (_, path, message) => {
    expect(failure({ ...payments(), secrets: [secret({ path })] }, "secrets[0].path")).toContain(`secrets[0].path: ${message}`);
  });

  it("refuses a path that is not a path", () => {
    expect(failure({ ...payments(), secrets: [secret({ path: "tenants//kv" })] }, "secrets[0].path")).toContain(
      "not a KV path; write tenants/<tenant>/kv/<secret>",
    );
  });

  it("refuses secrets on a cluster whose entry does not say the External Secrets Operator runs there", () => {
    const without = exampleEnv({ tenancy: { clusters: env.tenancy.clusters.map((c) => ({ ...c, externalSecretsOperator: false })) } });
    expect(env.tenancy.clusters[0].externalSecretsOperator).toBe(true);
    expect(failure({ ...payments(), secrets: [secret()] }, "secrets", without)).toContain(
      "secrets: declares 1 secret(s), but cluster apps-prod is not registered with the External Secrets Operator (environments/example.yaml, tenancy.clusters[].externalSecretsOperator is false)",
    );
    // Without secrets, nothing is asked of the cluster.
    expect(load({ ...payments(), secrets: undefined }, without).run()).toHaveLength(1);
  });

  it("refuses a namespace the tenant does not name, and a wildcard does not count", () => {
    expect(failure({ ...payments(), secrets: [secret({ namespace: "search" })] }, "secrets[0].namespace")).toContain(
      `secrets[0].namespace: got "search"; it is not one of this tenant's namespaces (payments), and a wildcard does not count: use one of them, or list it under namespaces`,
    );
    const wild = { ...payments(), namespaces: ["*"], allowWildcards: true, secrets: [secret()] };
    expect(failure(wild, "secrets[0].namespace")).toContain(`got "payments"; it is not one of this tenant's namespaces (only "*")`);
  });

  it("refuses a namespace that is not a Kubernetes name", () => {
    expect(failure({ ...payments(), secrets: [secret({ namespace: "*" })] }, "secrets[0].namespace")).toContain(
      "secrets[].namespace must be lowercase letters",
    );
  });

  it.each([
    ["30s", "got 30s; each refresh is a login to Vault, so it is at least 1m: use 1m or more"],
    [
      "2h",
      "got 2h; it is above the environment's tenancy.maxTokenTtl (1h), so a changed or revoked value would stay in the cluster longer than a token lives: use 1h or less",
    ],
  ])("refuses a refresh of %s", (refreshInterval, message) => {
    expect(failure({ ...payments(), secrets: [secret({ refreshInterval })] }, "secrets[0].refreshInterval")).toContain(
      `secrets[0].refreshInterval: ${message}`,
    );
  });

  it("accepts the bounds themselves", () => {
    const { run } = load({ ...payments(), secrets: [secret({ name: "a", refreshInterval: "1m" }), secret({ name: "b", refreshInterval: "1h" })] });
    expect(run()[0].secrets.map((s) => s.refreshInterval)).toEqual([60, 3600]);
  });

  it("refuses a service account the tenant's role does not bind, and needs one when only a wildcard is listed", () => {
    expect(failure({ ...payments(), secrets: [secret({ serviceAccount: "intruder" })] }, "secrets[0].serviceAccount")).toContain(
      `secrets[0].serviceAccount: got "intruder"; the tenant's role lets only its serviceAccounts log in (payments-api, payments-worker): use one of them, or list it under serviceAccounts`,
    );
    const wild = { ...payments(), serviceAccounts: ["*"], allowWildcards: true, secrets: [secret()] };
    expect(failure(wild, "secrets[0].serviceAccount")).toContain(`secrets[0].serviceAccount: is required when serviceAccounts is only "*"`);
    const { run } = load({ ...wild, secrets: [secret({ serviceAccount: "any" })] });
    expect(run()[0].secrets[0].serviceAccount).toBe("any");
  });

  it("refuses one Secret declared twice in a namespace", () => {
    expect(failure({ ...payments(), secrets: [secret(), secret({ keys: { USER: "username" } })] }, "secrets[1].name")).toContain(
      `secrets[1].name: got "db"; secrets[0] already names Secret db in namespace payments: give each Secret its own name`,
    );
  });

  it("refuses empty keys, a bad Secret key and an unknown field", () => {
    expect(failure({ ...payments(), secrets: [secret({ keys: {} })] }, "secrets[0].keys")).toContain("list at least one key: <Secret key>: <KV field>");
    expect(failure({ ...payments(), secrets: [secret({ keys: { "DB PASSWORD": "password" } })] }, "secrets[0].keys.DB PASSWORD")).toContain(
      "a Secret key is letters, digits",
    );
    expect(failure({ ...payments(), secrets: [secret({ mountPath: "x" })] }, "secrets[0].mountPath")).toContain("unknown field");
  });
});
