// The verifier as a pure function: a Vault that holds exactly what the stacks
// declare gives no finding; each way an admin (or anyone with write access to
// auth/) could let someone else in without a pull request gives one: a
// declared role bound to other identities, a tenant backend pointed at
// another cluster. The real-server replay is __tests__/verifier.int.test.ts.
import { declaredAccess } from "../../../config/declared-access";
import { exampleEnv } from "../../../__tests__/helpers";
import type { MountInfo, RoleInfo, VaultInventory } from "../../src/verify/inventory";
import { verify } from "../../src/verify/verifier";

const env = exampleEnv();
const declared = declaredAccess(env);
const mount = (type: string): MountInfo => ({ type, auditNonHmacRequestKeys: [], auditNonHmacResponseKeys: [], maxLeaseTtlSec: env.tenancy.maxTokenTtl });

/** What the shared stack makes: every declared method, role, binding and backend setting, and nothing else. */
function applied(): VaultInventory {
  const roles: Record<string, Record<string, RoleInfo>> = {};
  const authConfigs: Record<string, Record<string, string>> = {};
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
    tenants: {},
    tokenRoles: [],
  };
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
  });
  const cluster = env.tenancy.clusters[0];
  expect(declared.authMounts.find((d) => d.path === `kubernetes-${cluster.name}`)?.config).toEqual({ kubernetes_host: cluster.apiServerUrl });
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
  (inv.authConfigs as Record<string, Record<string, string>>)[path] = { kubernetes_host: "https://203.0.113.9" };
  expect(kinds(inv)).toEqual([`auth-config auth/${path}/config`]);
  (inv.authConfigs as Record<string, Record<string, string>>)[path] = {};
  expect(verify(inv, declared, {})[0].detail).toBe(`kubernetes_host is unset; the shared stack declares "${env.tenancy.clusters[0].apiServerUrl}"`);
});
