// What Vault's ACLs cannot refuse, detected, on a real OpenBao: the shared
// stack's access configuration and two tenants applied the way the runners
// apply them (the apply credential replaying the tenant stack's requests; root
// makes the ones the provisioner policy wrongly refuses today), the
// tenant policies rendered by the sidecar's own code with the sidecar's token,
// then `npm run verify` with the plan token: nothing to report. Each test then
// introduces deviations (with root, or with the apply credential where its
// policy cannot refuse them), checks that the verifier reports each one, by
// kind and path, and exits 1, and undoes them: after every test the verifier
// reports nothing again. Tenant logins need a token minted for the role's
// audience (a TokenReview stand-in plays the tenant cluster's API server).
// (Tenant logins, and the verifier never printing its token: verifier-tokens.int.test.ts.)
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { environmentPolicies } from "../policies";
import { renderTenantPolicy } from "../contract/tenant-policy";
import { commandArgs } from "./helpers";
import {
  AUDIENCE,
  applyAsRunner,
  applyRole,
  call,
  CLUSTER,
  configureInCluster,
  dir,
  env,
  envDir,
  kindsAndPaths,
  kube,
  ok,
  orphan,
  PINS,
  renderTenantPolicies,
  root,
  runVerify,
  server,
  tenantRequest,
  tokens,
  verifierWorldPerFile,
} from "./verifier-fixture";

jest.setTimeout(120_000);
verifierWorldPerFile();

describe("the verifier", () => {
  const clean = () => [`0 finding(s) in ${server.addr} for environment example`];

  // Every test undoes what it changed: the next one starts from a Vault that holds what the stacks declare.
  afterEach(async () => {
    expect(await runVerify()).toEqual({ status: 0, lines: clean() });
  });

  it("reports nothing when Vault holds what the stacks declare", async () => {
    const { status, lines } = await runVerify();
    expect(lines).toEqual(clean());
    expect(status).toBe(0);
  });

  // The real vault provider (5.6.0) tunes every auth backend it creates with empty key lists, and
  // OpenBao then reports them as [""]: no key at all, not a key named "" logged in plain text.
  it("reads the empty key list the vault provider leaves on its auth backends as no plain-text key", async () => {
    for (const path of ["in-cluster", "runner", `kubernetes-${CLUSTER}`]) {
      await ok(root, "POST", `sys/auth/${path}/tune`, { audit_non_hmac_request_keys: [""], audit_non_hmac_response_keys: [""] });
      const tuned = await ok(root, "GET", `sys/auth/${path}/tune`);
      expect(tuned.audit_non_hmac_request_keys ?? [""]).toEqual([""]);
    }
    expect(await runVerify()).toEqual({ status: 0, lines: clean() });
  });

  it('reports a role bound to admin, a tenant policy with path "*" and an undeclared auth method, and exits 1', async () => {
    const role = (await ok(root, "GET", `auth/kubernetes-${CLUSTER}/role/payments`)).data as Record<string, unknown>;
    try {
      await ok(root, "POST", `auth/kubernetes-${CLUSTER}/role/payments`, { ...role, token_policies: ["tenant-payments", "admin"] });
      await ok(root, "PUT", "sys/policies/acl/tenant-search", { policy: 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }' });
      await ok(root, "POST", "sys/auth/kubernetes-backdoor", { type: "userpass" });
      const { status, lines } = await runVerify();
      expect(status).toBe(1);
      expect(lines).toEqual([
        "finding undeclared-auth-method auth/kubernetes-backdoor: a userpass auth method no stack declares",
        `finding role-policies auth/kubernetes-${CLUSTER}/role/payments: binds admin, tenant-payments; a tenant's login role binds only tenant-payments`,
        "finding tenant-policy sys/policies/acl/tenant-search: differs from its rendering from the tenant's engines (contract/tenant-policy.ts)",
        `3 finding(s) in ${server.addr} for environment example`,
      ]);
    } finally {
      // The runner's next apply rewrites the role; the sidecar rewrites the policy; an admin removes the backdoor.
      await applyAsRunner(tenantRequest("payments", "create the login role"));
      await renderTenantPolicies();
      await ok(root, "DELETE", "sys/auth/kubernetes-backdoor");
    }
  });

  it("reports what an admin (or a root) could add that no ACL stops: a token role, expiring KV versions, a periodic login role", async () => {
    const role = (await ok(root, "GET", `auth/kubernetes-${CLUSTER}/role/search`)).data as Record<string, unknown>;
    try {
      await ok(root, "POST", "auth/token/roles/ops", { allowed_policies: ["admin"], orphan: true });
      await ok(root, "POST", "tenants/payments/kv/config", { delete_version_after: "1h" });
      await ok(root, "POST", `auth/kubernetes-${CLUSTER}/role/search`, { ...role, token_period: 3600 });
      const { status, lines } = await runVerify();
      expect(status).toBe(1);
      expect(lines).toEqual(
        expect.arrayContaining([
          "finding token-role auth/token/roles/ops: a token role no stack declares: it mints tokens with its allowed policies, possibly without a parent",
          "finding kv-version-expiry tenants/payments/kv/config: deletes every secret version 3600s after it is written; tenant stacks keep versions",
          `finding role-period auth/kubernetes-${CLUSTER}/role/search: issues periodic tokens (3600s) that outlive the backend's lease ceiling`,
        ]),
      );
      expect(kindsAndPaths(lines)).toEqual([
        "kv-version-expiry tenants/payments/kv/config",
        `role-period auth/kubernetes-${CLUSTER}/role/search`,
        "token-role auth/token/roles/ops",
      ]);
    } finally {
      await ok(root, "DELETE", "auth/token/roles/ops");
      await applyAsRunner(tenantRequest("payments", "configure KV v2"));
      // The apply credential may not send token_period (not even 0): an admin removes the period.
      await ok(root, "POST", `auth/kubernetes-${CLUSTER}/role/search`, { ...role, token_period: 0 });
    }
  });

  it("reports a tenant engine the apply credential created with plain-text audit keys or a lease ceiling above the environment's (its policy cannot refuse a mount's settings), and exits 1", async () => {
    const apply = String(tokens.apply);
    const kv = tenantRequest("billing", "create the kv engine");
    const db = tenantRequest("billing", "create the database engine");
    const body = (r: typeof kv, config: Record<string, unknown>) => ({ ...r.body, config: { ...(r.body?.config as Record<string, unknown>), ...config } });
    try {
      // Exactly what a tenant stack with these settings would send, with the runner's own credential.
      expect((await call(apply, kv.method, kv.path, body(kv, { audit_non_hmac_request_keys: ["data"], audit_non_hmac_response_keys: ["data"] }))).status).toBe(
        204,
      );
      expect((await call(apply, db.method, db.path, body(db, { max_lease_ttl: `${env.tenancy.maxTokenTtl + 1}s` }))).status).toBe(204);
      const { status, lines } = await runVerify();
      // (billing has engines and no policy yet: the sidecar writes it on its next pass.)
      expect(kindsAndPaths(lines)).toEqual([
        "lease-ceiling tenants/billing/database",
        "missing-tenant-policy sys/policies/acl/tenant-billing",
        "plaintext-audit tenants/billing/kv",
      ]);
      expect(lines).toContain(
        "finding plaintext-audit tenants/billing/kv: audit logs these values in plain text: request data, response data; nothing vault-gke declares does",
      );
      expect(status).toBe(1);
    } finally {
      // Removing a tenant's engines is an admin's.
      await ok(root, "DELETE", "sys/mounts/tenants/billing/kv");
      await ok(root, "DELETE", "sys/mounts/tenants/billing/database");
    }
  });

  it("reports each route to more than the admin policy (an admin's own policy and auth method; a declared role or backend changed with break-glass), and exits 1", async () => {
    const admin = await orphan("admin");
    const backend = `auth/kubernetes-${CLUSTER}/config`;
    try {
      // A policy of their own behind an auth method of their own.
      await ok(admin, "PUT", "sys/policies/acl/ops-all", { policy: 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }' });
      await ok(admin, "POST", "sys/auth/ops", { type: "userpass" });
      await ok(admin, "POST", "auth/ops/users/me", { password: "x".repeat(24), token_policies: ["ops-all"] });
      // Themselves added to a declared role: the daily admin login is refused that (policies-admin-escalation), a break-glass one is not.
      await ok(root, "POST", "auth/runner/role/provisioner", {
        ...applyRole(),
        bound_claims: { email: [...env.delivery.applyServiceAccounts, "me@acme-vault-example.iam.gserviceaccount.com"] },
      });
      // A tenant cluster's backend trusting another API server (whose tokens it would then accept), likewise with break-glass.
      await ok(root, "POST", backend, {
        kubernetes_host: "https://203.0.113.9",
        kubernetes_ca_cert: kube.caPem,
        token_reviewer_jwt: kube.reviewerJwt,
        disable_local_ca_jwt: true,
      });
      const { status, lines } = await runVerify();
      expect(kindsAndPaths(lines)).toEqual([
        "auth-config auth/kubernetes-apps-prod/config",
        "role-binding auth/runner/role/provisioner",
        "undeclared-auth-method auth/ops",
      ]);
      expect(lines).toContainEqual(expect.stringContaining("me@acme-vault-example.iam.gserviceaccount.com"));
      expect(status).toBe(1);
    } finally {
      await ok(root, "DELETE", "sys/auth/ops");
      await ok(root, "DELETE", "sys/policies/acl/ops-all");
      await ok(root, "POST", "auth/runner/role/provisioner", applyRole());
      await ok(root, "POST", backend, {
        kubernetes_host: kube.url,
        kubernetes_ca_cert: kube.caPem,
        token_reviewer_jwt: kube.reviewerJwt,
        disable_local_ca_jwt: true,
      });
    }
  });

  it("reports every other deviation an admin (or a root) can make, each by kind and path, and exits 1", async () => {
    const policies = environmentPolicies([CLUSTER], PINS);
    try {
      // Plain-text audit keys and a raised ceiling on a tenant cluster's backend.
      await ok(root, "POST", `sys/auth/kubernetes-${CLUSTER}/tune`, { audit_non_hmac_request_keys: ["jwt"], max_lease_ttl: "8760h" });
      // A tenant's database engine one second above the ceiling.
      await ok(root, "POST", "sys/mounts/tenants/search/database/tune", { max_lease_ttl: `${env.tenancy.maxTokenTtl + 1}s` });
      // A declared auth path holding another type of auth method.
      await ok(root, "DELETE", "sys/auth/in-cluster");
      await ok(root, "POST", "sys/auth/in-cluster", { type: "userpass" });
      // A role no stack declares on a platform backend.
      await ok(root, "POST", "auth/runner/role/ops", { role_type: "jwt", user_claim: "sub", bound_audiences: [AUDIENCE], token_policies: ["admin"] });
      // A tenant login role without an audience.
      await ok(root, "POST", `auth/kubernetes-${CLUSTER}/role/reports`, {
        bound_service_account_names: ["reports-api"],
        bound_service_account_namespaces: ["reports"],
        token_policies: ["tenant-reports"],
      });
      // Platform policies edited and removed.
      await ok(root, "PUT", "sys/policies/acl/snapshot", {
        policy: `${policies.snapshot}\npath "sys/storage/raft/snapshot-force" {\n  capabilities = ["update"]\n}\n`,
      });
      await ok(root, "DELETE", "sys/policies/acl/generate-root");
      // A tenant policy without a tenant.
      await ok(root, "PUT", "sys/policies/acl/tenant-ghost", { policy: renderTenantPolicy({ tenant: "ghost" }) });
      // A database connection with another plugin (verify_connection false: nothing listens).
      await ok(root, "PUT", "tenants/search/database/config/legacy", {
        plugin_name: "mysql-database-plugin",
        connection_url: "{{username}}:{{password}}@tcp(127.0.0.1:1)/",
        username: "vault",
        password: "x",
        verify_connection: false,
      });
      // Engines no stack declares: outside tenants/, an engine name tenants do not have, KV v1 where a tenant's KV v2 goes.
      await ok(root, "POST", "sys/mounts/ops-kv", { type: "kv", options: { version: "2" } });
      await ok(root, "POST", "sys/mounts/tenants/search/pki", { type: "pki" });
      await ok(root, "POST", "sys/mounts/tenants/reports/kv", { type: "kv" });

      const { status, lines } = await runVerify();
      expect(kindsAndPaths(lines)).toEqual(
        [
          `plaintext-audit auth/kubernetes-${CLUSTER}`,
          `lease-ceiling auth/kubernetes-${CLUSTER}`,
          "lease-ceiling tenants/search/database",
          "auth-method-type auth/in-cluster",
          "undeclared-role auth/runner/role/ops",
          `role-audience auth/kubernetes-${CLUSTER}/role/reports`,
          "system-policy sys/policies/acl/snapshot",
          "system-policy sys/policies/acl/generate-root",
          "orphan-tenant-policy sys/policies/acl/tenant-ghost",
          "database-plugin tenants/search/database/config/legacy",
          // No tenant file declares it: wherever it points, Vault would send its password there.
          "database-connection tenants/search/database/config/legacy",
          // A tenant without a file: its login role, and the policy its engines call for.
          `undeclared-role auth/kubernetes-${CLUSTER}/role/reports`,
          "missing-tenant-policy sys/policies/acl/tenant-reports",
          "undeclared-mount ops-kv",
          "undeclared-mount tenants/search/pki",
          "undeclared-mount tenants/reports/kv",
        ].sort(),
      );
      expect(lines.at(-1)).toBe(`16 finding(s) in ${server.addr} for environment example`);
      expect(status).toBe(1);
    } finally {
      await ok(root, "POST", `sys/auth/kubernetes-${CLUSTER}/tune`, { audit_non_hmac_request_keys: [], max_lease_ttl: "3600s" });
      await ok(root, "POST", "sys/mounts/tenants/search/database/tune", {
        max_lease_ttl: (tenantRequest("search", "create the database engine").body?.config as { max_lease_ttl: string }).max_lease_ttl,
      });
      await ok(root, "DELETE", "sys/auth/in-cluster");
      await configureInCluster();
      await ok(root, "DELETE", "auth/runner/role/ops");
      await ok(root, "DELETE", `auth/kubernetes-${CLUSTER}/role/reports`);
      for (const name of ["snapshot", "generate-root"]) await ok(root, "PUT", `sys/policies/acl/${name}`, { policy: policies[name] });
      await ok(root, "DELETE", "sys/policies/acl/tenant-ghost");
      await ok(root, "DELETE", "tenants/search/database/config/legacy");
      for (const path of ["ops-kv", "tenants/search/pki", "tenants/reports/kv"]) await ok(root, "DELETE", `sys/mounts/${path}`);
    }
  });

  it("reports a declared auth method or platform role that is missing, and exits 1", async () => {
    try {
      await ok(root, "DELETE", "sys/auth/in-cluster");
      await ok(root, "DELETE", "auth/runner/role/provisioner");
      const { status, lines } = await runVerify();
      expect(kindsAndPaths(lines)).toEqual(["missing-auth-method auth/in-cluster", "missing-role auth/runner/role/provisioner"]);
      expect(status).toBe(1);
    } finally {
      await configureInCluster();
      await ok(root, "POST", "auth/runner/role/provisioner", applyRole());
    }
  });

  it("says when Vault cannot be read, with exit 3, and when the token is missing, with exit 2", () => {
    const bad = spawnSync(process.execPath, [...commandArgs("verify"), "example"], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "",
        VAULT_ADDR: server.addr,
        VAULT_TOKEN: "not-a-token",
        VAULT_CACERT: join(dir, "bao", "vault-ca.pem"),
        VAULT_GKE_ENVIRONMENTS: envDir,
      },
    });
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(/^verify: reading https:\/\/127\.0\.0\.1:\d+ failed: vault read sys\/auth: HTTP 403/);
    const none = spawnSync(process.execPath, [...commandArgs("verify"), "example"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", VAULT_GKE_ENVIRONMENTS: envDir },
    });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("VAULT_TOKEN is not set");
  });
});
