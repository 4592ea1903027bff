import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { tenantSchema } from "../../config/tenant-schema";
import { exampleEnv, exampleTenants, resource, resources, ROOT, synthEnvironment, withoutMetadata, type SynthResult, type TfJson } from "../helpers";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let synth: SynthResult;
beforeAll(() => {
  synth = synthEnvironment(exampleEnv(), exampleTenants());
});
const tenants = () => synth.tenants;
const byName = (tf: TfJson, type: string, key: string, value: string) => resources(tf, type).map(([, r]) => r as Obj).find((r) => r[key] === value) as Obj;

describe("tenants stack", () => {
  it("matches the snapshot", () => {
    expect(withoutMetadata(tenants())).toMatchSnapshot();
  });

  it("keeps its state under its own prefix", () => {
    expect(tenants().terraform?.backend).toEqual({ gcs: { bucket: "acme-tfstate-vault", prefix: "vault-gke/example/example-tenants" } });
  });

  it("talks to Vault over verified TLS with no token in the configuration", () => {
    const vault = tenants().provider?.vault[0] as Obj;
    expect(vault).toEqual({ address: "https://vault.example.acme.dev:8200", skip_tls_verify: false, max_lease_ttl_seconds: 1200, token_name: "vault-gke-example-tenants" });
    expect(vault.token).toBeUndefined();
  });

  it("contains no token or password anywhere in the synthesized JSON", () => {
    const text = synth.text.tenants;
    expect(text).not.toMatch(/\b(hvs|hvb|hvr|s)\.[A-Za-z0-9]{20,}/);
    expect(text).not.toMatch(/"token"\s*:\s*"(?!\$\{data\.google_client_config)/);
    expect(text).not.toMatch(/"password(_wo)?"\s*:\s*"(?!\$\{var\.)/);
    expect(text).not.toMatch(/VAULT_TOKEN/);
  });

  describe("GCP auth for admins", () => {
    it("binds the admin service accounts to the admin policy with short TTLs", () => {
      expect(resource(tenants(), "vault_gcp_auth_backend")).toMatchObject({ path: "gcp" });
      expect(resource(tenants(), "vault_gcp_auth_backend")).not.toHaveProperty("credentials");
      expect(resource(tenants(), "vault_gcp_auth_backend_role")).toMatchObject({
        role: "admin",
        type: "iam",
        bound_service_accounts: ["vault-admin@acme-vault-example.iam.gserviceaccount.com"],
        token_policies: ["admin"],
        token_ttl: 1800,
        token_max_ttl: 3600,
        max_jwt_exp: "900",
      });
    });
  });

  describe("Kubernetes auth per tenant cluster", () => {
    it("has one backend per cluster, delegating TokenReview to it", () => {
      const backends = resources(tenants(), "vault_auth_backend").map(([, r]) => r as Obj);
      expect(backends).toHaveLength(1);
      expect(backends[0]).toMatchObject({ type: "kubernetes", path: "kubernetes-apps-prod" });
      expect(backends[0].tune[0]).toMatchObject({ max_lease_ttl: "3600s" });
      const config = resource(tenants(), "vault_kubernetes_auth_backend_config") as Obj;
      expect(config.kubernetes_host).toBe("https://10.40.0.2");
      expect(config.kubernetes_ca_cert).toContain("-----BEGIN CERTIFICATE-----");
      expect(config.disable_local_ca_jwt).toBe(true);
      expect(config.token_reviewer_jwt).toMatch(/^\$\{kubernetes_secret_v1\.reviewer-apps-prod_token_[0-9A-F]+\.data\.token\}$/);
    });

    it("creates the reviewer and its system:auth-delegator binding in the tenant cluster, through the aliased provider", () => {
      const crb = resource(tenants(), "kubernetes_cluster_role_binding_v1") as Obj;
      expect(crb.role_ref).toEqual({ api_group: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" });
      expect(crb.subject).toEqual([{ kind: "ServiceAccount", name: expect.stringMatching(/kubernetes_service_account_v1\.reviewer-apps-prod/), namespace: expect.stringMatching(/kubernetes_namespace_v1/) }]);
      expect((resource(tenants(), "kubernetes_service_account_v1") as Obj).metadata.name).toBe("vault-token-reviewer");
      expect(crb.provider).toBe("kubernetes.apps-prod");
      const secret = resource(tenants(), "kubernetes_secret_v1") as Obj;
      expect(secret.type).toBe("kubernetes.io/service-account-token");
      expect(secret.provider).toBe("kubernetes.apps-prod");
      const k8s = (tenants().provider?.kubernetes as Obj[]).find((p) => p.alias === "apps-prod") as Obj;
      expect(k8s.token).toMatch(/^\$\{data\.google_client_config\..*\.access_token\}$/);
    });

    it("binds each tenant's role to its own service accounts and namespaces, with short TTLs", () => {
      const payments = byName(tenants(), "vault_kubernetes_auth_backend_role", "role_name", "payments");
      expect(payments).toMatchObject({
        bound_service_account_names: ["payments-api", "payments-worker"],
        bound_service_account_namespaces: ["payments"],
        token_policies: [expect.stringMatching(/vault_policy\.tenant-payments_policy_.*\.name/)],
        token_ttl: 1800,
        token_max_ttl: 3600,
      });
      const search = byName(tenants(), "vault_kubernetes_auth_backend_role", "role_name", "search");
      expect(search.bound_service_account_names).toEqual(["indexer"]);
      expect(search.bound_service_account_namespaces).toEqual(["search", "search-batch"]);
      for (const [, r] of resources(tenants(), "vault_kubernetes_auth_backend_role")) {
        expect((r as Obj).token_max_ttl).toBeLessThanOrEqual(3600);
        expect(JSON.stringify(r)).not.toContain('"*"');
      }
    });
  });

  describe("secrets engines", () => {
    it("gives every tenant a KV v2 area under its own path", () => {
      const mounts = resources(tenants(), "vault_mount").map(([, r]) => r as Obj);
      expect(mounts.filter((m) => m.type === "kv").map((m) => [m.path, m.options])).toEqual([
        ["tenants/payments/kv", { version: "2" }],
        ["tenants/search/kv", { version: "2" }],
      ]);
    });

    it("adds transit keys and PostgreSQL credentials only where the file asks", () => {
      const mounts = resources(tenants(), "vault_mount").map(([, r]) => r as Obj);
      expect(mounts.map((m) => m.path).sort()).toEqual(["tenants/payments/database", "tenants/payments/kv", "tenants/payments/transit", "tenants/search/kv"]);
      expect(resource(tenants(), "vault_transit_secret_backend_key")).toMatchObject({ name: "card-tokens", exportable: false, deletion_allowed: false });
      const db = byName(tenants(), "vault_mount", "path", "tenants/payments/database");
      expect(db).toMatchObject({ default_lease_ttl_seconds: 900, max_lease_ttl_seconds: 3600 });
    });

    it("configures PostgreSQL with a write-only password from a sensitive variable and short leases", () => {
      const conn = resource(tenants(), "vault_database_secret_backend_connection") as Obj;
      expect(conn.postgresql.connection_url).toBe("postgresql://{{username}}:{{password}}@payments-db.internal.acme.dev:5432/payments?sslmode=verify-full");
      expect(conn.postgresql.password_wo).toBe("${var.postgres_password_payments}");
      expect(conn.postgresql.password).toBeUndefined();
      expect(tenants().variable?.postgres_password_payments).toMatchObject({ sensitive: true, type: "string" });
      const role = resource(tenants(), "vault_database_secret_backend_role") as Obj;
      expect(role).toMatchObject({ name: "app", default_ttl: 900, max_ttl: 3600 });
      expect(role.creation_statements[0]).toMatch(/VALID UNTIL '\{\{expiration\}\}'/);
      expect(role.creation_statements.at(-1)).toContain("GRANT SELECT, INSERT, UPDATE, DELETE");
      expect(role.revocation_statements.at(-1)).toBe('DROP ROLE IF EXISTS "{{name}}";');
    });
  });

  describe("tenant policies", () => {
    it("reach only the tenant's own paths", () => {
      const policies = resources(tenants(), "vault_policy").map(([, r]) => r as Obj);
      expect(policies.map((p) => p.name).sort()).toEqual(["tenant-payments", "tenant-search"]);
      for (const p of policies) {
        const tenant = String(p.name).replace("tenant-", "");
        const paths = [...String(p.policy).matchAll(/path "([^"]+)"/g)].map((m) => m[1]);
        for (const path of paths) expect(path === "sys/leases/renew" || path.startsWith(`tenants/${tenant}/`)).toBe(true);
      }
    });
  });

  it("changes only the tenants stack when a tenant file is added", () => {
    const env = exampleEnv();
    const [payments, search] = exampleTenants(env);
    const before = synthEnvironment(env, [payments]);
    const after = synthEnvironment(env, [payments, search]);
    expect(after.text.platform).toBe(before.text.platform);
    expect(after.text.vault).toBe(before.text.vault);
    expect(after.text.tenants).not.toBe(before.text.tenants);
  });

  it("loads the example tenant files that the tests use", () => {
    const file = parse(readFileSync(join(ROOT, "tenants", "example", "payments.yaml"), "utf8"));
    expect(tenantSchema.safeParse(file).success).toBe(true);
  });
});
