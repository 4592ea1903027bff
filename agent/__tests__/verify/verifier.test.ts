// The verifier as a pure function: a Vault that holds exactly what the stacks
// declare gives no finding; each way an admin (or anyone with write access to
// auth/) could let someone else in without a pull request gives one: a
// declared role bound to other identities, a tenant backend pointed at
// another cluster. The real-server replay is __tests__/verifier.int.test.ts.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { caDigest, type DeclaredSetting } from "../../../contract/declared-access";
import { declaredAccess } from "../../../config/declared-access";
import { loadTenants } from "../../../config/load-tenants";
import { renderTenantPolicy } from "../../../contract/tenant-policy";
import { exampleEnv } from "../../../__tests__/helpers";
import type { MountInfo, RoleInfo, TenantEngines, VaultInventory } from "../../src/verify/inventory";
import { verify } from "../../src/verify/verifier";

const env = exampleEnv();
const declared = declaredAccess(env);
/** The example's tenant files, as the runners' verifier reads them. */
const tenantFiles = loadTenants(join(__dirname, "..", "..", "..", "tenants", "example"), env);
const withTenants = declaredAccess(env, tenantFiles);
const mount = (type: string): MountInfo => ({ type, auditNonHmacRequestKeys: [], auditNonHmacResponseKeys: [], maxLeaseTtlSec: env.tenancy.maxTokenTtl });

/** What the shared stack makes: every declared method, role, binding and backend setting, and nothing else. */
function applied(): VaultInventory {
  const roles: Record<string, Record<string, RoleInfo>> = {};
  const authConfigs: Record<string, Record<string, DeclaredSetting>> = {};
  for (const d of declared.authMounts) {
    authConfigs[d.path] = { ...d.config };
    if (d.tenantCluster) roles[d.path] = {};
    for (const [name, policies] of Object.entries(d.roles ?? {})) {
      (roles[d.path] ??= {})[name] = { policies, periodSec: 0, bindings: { ...d.bindings?.[name] } };
    }
  }
  return {
    authMounts: Object.fromEntries(declared.authMounts.map((d) => [d.path, mount(d.type)])),
    secretMounts: { cubbyhole: mount("cubbyhole"), identity: mount("identity"), sys: mount("system") },
    policies: {},
    roles,
    authConfigs,
    auditDevices: {
      file: { type: "file", options: { file_path: "/vault/audit/audit.log", mode: "0600" } },
      stdout: { type: "file", options: { file_path: "stdout" } },
    },
    tenants: {},
    tokenRoles: [],
  };
}

/** What the shared stack and the example's tenant stacks make, with the tenant policies the sidecar renders. */
function appliedWithTenants(): VaultInventory {
  const inv = applied();
  const roles = inv.roles as Record<string, Record<string, RoleInfo>>;
  const tenants: Record<string, TenantEngines> = {};
  const secretMounts = { ...inv.secretMounts } as Record<string, MountInfo>;
  const policies: Record<string, string> = {};
  for (const t of tenantFiles) {
    const file = withTenants.tenants?.[t.name];
    if (!file) throw new Error(`no declaration of ${t.name}`);
    roles[file.authPath][t.name] = { policies: [`tenant-${t.name}`], audience: t.audience, periodSec: 0, bindings: { ...file.bindings } };
    secretMounts[`tenants/${t.name}/kv`] = { ...mount("kv"), options: { version: "2" } };
    const transitKeys = t.engines.transit?.keys ?? [];
    if (transitKeys.length) secretMounts[`tenants/${t.name}/transit`] = mount("transit");
    if (t.engines.postgres) secretMounts[`tenants/${t.name}/database`] = mount("database");
    tenants[t.name] = {
      transitKeys,
      databaseRoles: Object.keys(file.databaseRoles),
      ...(t.engines.postgres
        ? {
            databaseConnections: { postgres: "postgresql-database-plugin" },
            databaseConnectionUrls: { ...file.databaseConnections },
            databaseRoleStatements: { ...file.databaseRoles },
          }
        : {}),
    };
    policies[`tenant-${t.name}`] = renderTenantPolicy({ tenant: t.name, transitKeys, databaseRoles: Object.keys(file.databaseRoles) });
  }
  return { ...inv, roles, secretMounts, tenants, policies };
}

const kinds = (inv: VaultInventory) => verify(inv, declared, {}).map((f) => `${f.kind} ${f.path}`);

it("declares who each platform role lets in and which cluster each tenant backend trusts", () => {
  const gcp = declared.authMounts.find((d) => d.path === "gcp");
  expect(gcp?.bindings).toEqual({
    admin: { bound_service_accounts: env.gcpAuth.adminServiceAccounts },
    "break-glass": { bound_service_accounts: env.gcpAuth.breakGlassServiceAccounts },
  });
  expect(declared.authMounts.find((d) => d.path === "runner")?.bindings?.provisioner).toEqual({
    bound_audiences: [`https://${env.vault.hostname}:8200`],
    "bound_claims.email": env.delivery.applyServiceAccounts,
  });
  expect(declared.authMounts.find((d) => d.path === "in-cluster")?.bindings?.snapshot).toEqual({
    bound_service_account_names: ["vault-snapshot"],
    bound_service_account_namespaces: [env.vault.namespace],
    audience: ["vault"],
    alias_name_source: ["serviceaccount_uid"],
  });
  const cluster = env.tenancy.clusters[0];
  expect(declared.authMounts.find((d) => d.path === `kubernetes-${cluster.name}`)?.config?.kubernetes_host).toBe(cluster.apiServerUrl);
  expect(env.gcpAuth.breakGlassServiceAccounts.length).toBeGreaterThan(0);
});

it("finds nothing in a Vault that holds exactly what is declared", () => {
  expect(kinds(applied())).toEqual([]);
});

it("reports a declared role that lets in another identity, whatever the field", () => {
  const inv = applied();
  const gcp = inv.roles.gcp as Record<string, RoleInfo>;
  // An admin adds their own account to break-glass: no second person, no pull request.
  gcp["break-glass"] = {
    ...gcp["break-glass"],
    bindings: { bound_service_accounts: [...env.gcpAuth.breakGlassServiceAccounts, "me@acme-vault-example.iam.gserviceaccount.com"] },
  };
  const runner = inv.roles.runner as Record<string, RoleInfo>;
  runner.provisioner = { ...runner.provisioner, bindings: { ...runner.provisioner.bindings, "bound_claims.email": ["ci@elsewhere.iam.gserviceaccount.com"] } };
  const inCluster = inv.roles["in-cluster"] as Record<string, RoleInfo>;
  // A binding the stack never sets is a deviation too.
  inCluster.snapshot = { ...inCluster.snapshot, bindings: { ...inCluster.snapshot.bindings, bound_service_account_namespaces: ["*"] } };
  const findings = verify(inv, declared, {});
  expect(findings.map((f) => `${f.kind} ${f.path}`).sort()).toEqual([
    "role-binding auth/gcp/role/break-glass",
    "role-binding auth/in-cluster/role/snapshot",
    "role-binding auth/runner/role/provisioner",
  ]);
  expect(findings.find((f) => f.path === "auth/gcp/role/break-glass")?.detail).toContain("me@acme-vault-example.iam.gserviceaccount.com");
});

it("reports a tenant backend that trusts another cluster's API server", () => {
  const inv = applied();
  const path = `kubernetes-${env.tenancy.clusters[0].name}`;
  const configs = inv.authConfigs as Record<string, Record<string, DeclaredSetting>>;
  configs[path] = { ...configs[path], kubernetes_host: "https://203.0.113.9" };
  expect(kinds(inv)).toEqual([`auth-config auth/${path}/config`]);
  delete configs[path].kubernetes_host;
  expect(verify(inv, declared, {})[0].detail).toBe(`kubernetes_host is unset; the shared stack declares "${env.tenancy.clusters[0].apiServerUrl}"`);
});

describe("with the tenant files (the runners' verifier)", () => {
  const kindsWith = (inv: VaultInventory) => verify(inv, withTenants, {}).map((f) => `${f.kind} ${f.path}`);
  const cluster = `kubernetes-${env.tenancy.clusters[0].name}`;

  it("finds nothing when Vault holds exactly what the tenant files declare", () => {
    expect(tenantFiles.map((t) => t.name).sort()).toEqual(["payments", "search"]);
    expect(tenantFiles.find((t) => t.name === "payments")?.engines.postgres).toBeDefined();
    expect(kindsWith(appliedWithTenants())).toEqual([]);
  });

  it("reports a tenant's login role bound to every service account and namespace, another audience or another alias source", () => {
    const inv = appliedWithTenants();
    const roles = inv.roles[cluster] as Record<string, RoleInfo>;
    roles.payments = {
      ...roles.payments,
      bindings: { ...roles.payments.bindings, bound_service_account_names: ["*"], bound_service_account_namespaces: ["*"] },
    };
    roles.search = { ...roles.search, bindings: { ...roles.search.bindings, audience: ["other"], alias_name_source: ["serviceaccount_name"] } };
    const findings = verify(inv, withTenants, {});
    expect(findings.map((f) => `${f.kind} ${f.path}`).sort()).toEqual([
      `role-binding auth/${cluster}/role/payments`,
      `role-binding auth/${cluster}/role/search`,
    ]);
    expect(findings.find((f) => f.path.endsWith("payments"))?.detail).toBe(
      "lets in other identities than the tenant's file declares: bound_service_account_names = *; bound_service_account_namespaces = *",
    );
    expect(findings.find((f) => f.path.endsWith("search"))?.detail).toContain("alias_name_source = serviceaccount_name");
  });

  it("reports a tenant role no file declares and a declared one that is missing", () => {
    const inv = appliedWithTenants();
    const roles = inv.roles[cluster] as Record<string, RoleInfo>;
    roles.ghost = { policies: ["tenant-ghost"], audience: "vault", periodSec: 0, bindings: { bound_service_account_names: ["x"] } };
    delete roles.search;
    expect(kindsWith(inv).sort()).toEqual([`missing-role auth/${cluster}/role/search`, `undeclared-role auth/${cluster}/role/ghost`]);
  });

  it("reports a database connection pointed at another server, or that no file declares, and a role with other statements", () => {
    const inv = appliedWithTenants();
    const payments = inv.tenants.payments;
    (inv.tenants as Record<string, TenantEngines>).payments = {
      ...payments,
      databaseConnectionUrls: { postgres: "postgresql://{{username}}:{{password}}@attacker.example:5432/payments?sslmode=disable", extra: "postgresql://x" },
      databaseConnections: { postgres: "postgresql-database-plugin", extra: "postgresql-database-plugin" },
      databaseRoleStatements: { app: ["CREATE ROLE \"{{name}}\" WITH SUPERUSER LOGIN PASSWORD '{{password}}';"], ops: [] },
      databaseRoles: ["app", "ops"],
    };
    const findings = verify(inv, withTenants, {});
    expect(findings.map((f) => `${f.kind} ${f.path}`).sort()).toEqual(
      expect.arrayContaining([
        "database-connection tenants/payments/database/config/extra",
        "database-connection tenants/payments/database/config/postgres",
        "database-statements tenants/payments/database/roles/app",
        "database-statements tenants/payments/database/roles/ops",
      ]),
    );
    expect(findings.find((f) => f.path.endsWith("config/postgres"))?.detail).toContain("attacker.example");
  });

  it("reports no missing role for a tenant file whose stack is not applied yet (no engines: later in the same run)", () => {
    const inv = appliedWithTenants();
    const roles = inv.roles[cluster] as Record<string, RoleInfo>;
    delete roles.search;
    const tenants = { ...inv.tenants } as Record<string, TenantEngines>;
    delete tenants.search;
    const secretMounts = Object.fromEntries(Object.entries(inv.secretMounts).filter(([p]) => !p.startsWith("tenants/search/")));
    const policies = { ...inv.policies };
    delete policies["tenant-search"];
    expect(kindsWith({ ...inv, roles: { ...inv.roles, [cluster]: roles }, tenants, secretMounts, policies })).toEqual([]);
  });

  it("with some tenant files (after one tenant's apply), compares those and leaves tenants without a file alone", () => {
    const some = declaredAccess(
      env,
      tenantFiles.filter((t) => t.name === "search"),
      false,
    );
    const inv = appliedWithTenants();
    const roles = inv.roles[cluster] as Record<string, RoleInfo>;
    // Another pull request's tenant, applied before its merge: no file here, no finding.
    roles.reports = { policies: ["tenant-reports"], audience: "vault", periodSec: 0, bindings: { bound_service_account_names: ["app"] } };
    // payments has no file in this set: its database is not compared either.
    expect(verify(inv, some, {}).map((f) => `${f.kind} ${f.path}`)).toEqual([]);
    roles.search = { ...roles.search, bindings: { ...roles.search.bindings, bound_service_account_names: ["*"] } };
    expect(verify(inv, some, {}).map((f) => `${f.kind} ${f.path}`)).toEqual([`role-binding auth/${cluster}/role/search`]);
  });

  it("leaves tenant files out of the sidecar's verifier: the same role widening is not its finding (it has no tenant files)", () => {
    const inv = appliedWithTenants();
    const roles = inv.roles[cluster] as Record<string, RoleInfo>;
    roles.payments = { ...roles.payments, bindings: { ...roles.payments.bindings, bound_service_account_names: ["*"] } };
    expect(verify(inv, declared, {}).map((f) => f.kind)).toEqual([]);
  });
});

describe("findings that need no tenant file", () => {
  it("reports a missing tenant policy", () => {
    const inv = appliedWithTenants();
    const policies = { ...inv.policies };
    delete policies["tenant-search"];
    expect(verify({ ...inv, policies }, declared, {}).map((f) => `${f.kind} ${f.path}`)).toEqual(["missing-tenant-policy sys/policies/acl/tenant-search"]);
  });

  it("reports an undeclared audit device, one logging raw values or plain accessors, and a missing one", () => {
    const inv = applied();
    const findings = verify(
      {
        ...inv,
        auditDevices: {
          file: { type: "file", options: { file_path: "/vault/audit/audit.log", log_raw: "true", hmac_accessor: "false" } },
          tap: { type: "socket", options: { address: "203.0.113.9:9090", log_raw: "true" } },
        },
      },
      declared,
      {},
    );
    expect(findings.map((f) => `${f.kind} ${f.path}`).sort()).toEqual([
      "audit-device sys/audit/file",
      "audit-device sys/audit/stdout",
      "audit-device sys/audit/tap",
    ]);
    expect(findings.find((f) => f.path === "sys/audit/file")?.detail).toBe(
      "logs raw values (log_raw: every client token in plain text); logs token accessors in plain text (hmac_accessor false)",
    );
    expect(findings.find((f) => f.path === "sys/audit/stdout")?.detail).toMatch(/^is missing/);
  });

  it("reports a runner backend with a key of someone's own, and a tenant backend with another CA, its own keys or the local CA", () => {
    const inv = applied();
    const configs = inv.authConfigs as Record<string, Record<string, DeclaredSetting>>;
    configs.runner = { ...configs.runner, jwt_validation_pubkeys: ["-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"] };
    const cluster = `kubernetes-${env.tenancy.clusters[0].name}`;
    configs[cluster] = {
      ...configs[cluster],
      kubernetes_ca_cert: caDigest("-----BEGIN CERTIFICATE-----\nother\n-----END CERTIFICATE-----"),
      pem_keys: ["k"],
      disable_local_ca_jwt: false,
    };
    const findings = verify(inv, declared, {});
    expect(findings.map((f) => `${f.kind} ${f.path} ${f.detail.split(" ")[0]}`).sort()).toEqual([
      `auth-config auth/${cluster}/config disable_local_ca_jwt`,
      `auth-config auth/${cluster}/config kubernetes_ca_cert`,
      `auth-config auth/${cluster}/config pem_keys`,
      "auth-config auth/runner/config jwt_validation_pubkeys",
    ]);
  });

  it("declares every backend's full configuration: issuer, keys, API server, CA, local CA switch, own keys", () => {
    const byPath = Object.fromEntries(declared.authMounts.map((d) => [d.path, d.config]));
    expect(byPath.runner).toEqual({
      oidc_discovery_url: env.delivery.runnerIssuer,
      bound_issuer: env.delivery.runnerIssuer,
      jwks_url: "",
      jwt_validation_pubkeys: [],
      oidc_discovery_ca_pem: "",
      jwks_ca_pem: "",
    });
    expect(byPath["in-cluster"]).toEqual({
      kubernetes_host: "https://kubernetes.default.svc",
      kubernetes_ca_cert: "",
      disable_local_ca_jwt: false,
      pem_keys: [],
    });
    const c = env.tenancy.clusters[0];
    expect(byPath[`kubernetes-${c.name}`]).toEqual({
      kubernetes_host: c.apiServerUrl,
      kubernetes_ca_cert: caDigest(c.caCertificate),
      disable_local_ca_jwt: true,
      pem_keys: [],
    });
  });
});

// Issue 17: every finding kind has a test that triggers it (here or on a real server, __tests__/verifier*.int.test.ts);
// the clean environment (first tests here and in each real-server file) has none.
it("has a triggering test for every finding kind", () => {
  const root = join(__dirname, "..", "..", "..");
  const source = readFileSync(join(root, "agent", "src", "verify", "finding.ts"), "utf8");
  const union = /export type FindingKind =([^;]+);/.exec(source)?.[1] ?? "";
  const kinds = [...union.matchAll(/"([a-z-]+)"/g)].map((m) => m[1]);
  expect(kinds.length).toBeGreaterThanOrEqual(23);
  const tests = [
    readFileSync(__filename, "utf8"),
    ...readdirSync(join(root, "__tests__"))
      .filter((f) => /^verifier.*\.int\.test\.ts$/.test(f))
      .map((f) => readFileSync(join(root, "__tests__", f), "utf8")),
  ].join("\n");
  // A trigger names the kind followed by the path it reports: "role-binding auth/...", `${kind} ${path}` or a "finding <kind> <path>" line.
  expect(kinds.filter((k) => !new RegExp(`(["\`]|finding )${k} [a-z$]`).test(tests))).toEqual([]);
});
