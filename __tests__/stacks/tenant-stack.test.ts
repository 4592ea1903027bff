import type { TenantConfig } from "../../config/tenant-schema";
import { exampleEnv, exampleTenants, resource, resources, synthEnvironment, withoutMetadata, type SynthResult, type TfJson } from "../helpers";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const env = exampleEnv();
let synth: SynthResult;
beforeAll(() => {
  synth = synthEnvironment(env, exampleTenants(env));
});
const payments = () => synth.tenants.payments;
const search = () => synth.tenants.search;

/** N tenants named team-000 .. team-(N-1): fixed width, so no name is part of another. */
function generatedTenants(n: number, base: TenantConfig = exampleTenants(env)[0]): TenantConfig[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `team-${String(i).padStart(3, "0")}`;
    return { ...base, name, namespaces: [name], serviceAccounts: [`${name}-api`] };
  });
}

describe("tenant stacks", () => {
  // The seam between the tenant stacks and the provisioner policy the vault stack ships (issue 17, 2): the apply
  // credential may write each connection only at the address its tenant stack sends, and nowhere else.
  it("send each database connection at the address the vault stack's provisioner policy pins, and the policy pins nothing else", () => {
    type Map = { metadata: { name: string }; data: Record<string, string> };
    const maps = resources(synth.vault, "kubernetes_config_map_v1").map(([, m]) => m as unknown as Map);
    const provisioner = maps.find((m) => m.metadata.name === "vault-policies")?.data["provisioner.hcl"] ?? "";
    const pinned = Object.fromEntries(
      [...provisioner.matchAll(/path "(tenants\/[^"]+\/database\/config\/[^"+]+)" \{[^}]*"connection_url" = \[("[^"]*")\]/g)].map((m) => [
        m[1],
        JSON.parse(m[2]),
      ]),
    );
    const sent: Record<string, string> = {};
    for (const [tenant, tf] of Object.entries(synth.tenants)) {
      for (const [, c] of resources(tf, "vault_database_secret_backend_connection")) {
        const connection = c as { name: string; postgresql: { connection_url: string } };
        sent[`tenants/${tenant}/database/config/${connection.name}`] = connection.postgresql.connection_url;
      }
    }
    expect(Object.keys(sent)).toEqual(["tenants/payments/database/config/postgres"]);
    expect(pinned).toEqual(sent);
    // The generic rule only reads and deletes: without a pin no connection can be written.
    expect(provisioner).toMatch(/path "tenants\/\+\/database\/config\/\+" \{\n  capabilities = \["read", "delete"\]\n\}/);
  });

  it("match the snapshot", () => {
    expect(withoutMetadata(payments())).toMatchSnapshot();
  });

  it("keep their state under their own prefix", () => {
    expect(payments().terraform?.backend).toEqual({ gcs: { bucket: "acme-tfstate-vault", prefix: "vault-gke/example/example-tenant-payments" } });
    expect(search().terraform?.backend).toEqual({ gcs: { bucket: "acme-tfstate-vault", prefix: "vault-gke/example/example-tenant-search" } });
  });

  it("talk to Vault only, over verified TLS, with no token in the configuration", () => {
    expect(Object.keys(payments().provider ?? {})).toEqual(["vault"]);
    const vault = payments().provider?.vault[0] as Obj;
    expect(vault).toEqual({
      address: "https://vault.example.acme.dev:8200",
      skip_tls_verify: false,
      max_lease_ttl_seconds: 1200,
      token_name: "vault-gke-example-tenant-payments",
    });
    expect(payments().data).toBeUndefined();
  });

  it("contain no token or password anywhere", () => {
    for (const text of Object.entries(synth.text)
      .filter(([name]) => name.includes("-tenant-"))
      .map(([, t]) => t)) {
      expect(text).not.toMatch(/\b(hvs|hvb|hvr|s)\.[A-Za-z0-9]{20,}/);
      expect(text).not.toMatch(/"token"\s*:/);
      expect(text).not.toMatch(/"password(_wo)?"\s*:\s*"(?!\$\{var\.)/);
    }
  });

  it("reference nothing outside themselves (they skip cdktf's cross-stack preparation)", () => {
    let references = 0;
    for (const [name, tf] of Object.entries(synth.tenants)) {
      expect(tf.data).toBeUndefined();
      const text = synth.text[`example-tenant-${name}`];
      for (const [, type, id] of text.matchAll(/\$\{(?:var\.)?([a-z_]+)\.([A-Za-z0-9_-]+)/g)) {
        references++;
        const known = type === "var" || tf.resource?.[type]?.[id] !== undefined || tf.variable?.[id] !== undefined;
        expect([type, id, known]).toEqual([type, id, true]);
      }
    }
    expect(references).toBeGreaterThan(3);
  });

  it("declare no policy and no auth method: the sidecar renders tenant-<name>, the shared stack owns the backends", () => {
    for (const tf of [payments(), search()]) {
      expect(resources(tf, "vault_policy")).toEqual([]);
      expect(resources(tf, "vault_auth_backend")).toEqual([]);
      expect(resources(tf, "vault_kubernetes_auth_backend_config")).toEqual([]);
    }
  });

  it("bind each login role to the tenant's own policy, service accounts, namespaces and audience, with short TTLs", () => {
    const role = resource(payments(), "vault_kubernetes_auth_backend_role") as Obj;
    expect(role).toMatchObject({
      backend: "kubernetes-apps-prod",
      role_name: "payments",
      bound_service_account_names: ["payments-api", "payments-worker"],
      bound_service_account_namespaces: ["payments"],
      audience: "vault",
      token_policies: ["tenant-payments"],
      token_ttl: 1800,
      token_max_ttl: 3600,
    });
    const other = resource(search(), "vault_kubernetes_auth_backend_role") as Obj;
    expect(other).toMatchObject({
      role_name: "search",
      audience: "vault",
      token_policies: ["tenant-search"],
      bound_service_account_namespaces: ["search", "search-batch"],
    });
    expect(JSON.stringify(other)).not.toContain('"*"');
  });

  it("give every tenant a KV v2 area under its own path", () => {
    expect(resources(search(), "vault_mount").map(([, m]) => [m.path, m.type, m.options])).toEqual([["tenants/search/kv", "kv", { version: "2" }]]);
  });

  it("add transit keys with safe settings and PostgreSQL only where the file asks", () => {
    const mounts = resources(payments(), "vault_mount").map(([, r]) => r as Obj);
    expect(mounts.map((m) => m.path).sort()).toEqual(["tenants/payments/database", "tenants/payments/kv", "tenants/payments/transit"]);
    expect(resource(payments(), "vault_transit_secret_backend_key")).toMatchObject({
      name: "card-tokens",
      exportable: false,
      allow_plaintext_backup: false,
      deletion_allowed: false,
    });
    // The lease ceiling is set once, at creation (the apply credential may not tune it later).
    const db = mounts.find((m) => m.path === "tenants/payments/database") as Obj;
    expect(db.max_lease_ttl_seconds).toBe(3600);
    expect(db.default_lease_ttl_seconds).toBeUndefined();
  });

  it("configure PostgreSQL with a write-only password from an ephemeral variable", () => {
    const conn = resource(payments(), "vault_database_secret_backend_connection") as Obj;
    expect(conn.postgresql.connection_url).toBe("postgresql://{{username}}:{{password}}@payments-db.internal.acme.dev:5432/payments?sslmode=verify-full");
    expect(conn.postgresql.password_wo).toBe("${var.postgres_password}");
    // Any change of the connection sends the password again (Vault's policy requires it with every write).
    const version = conn.postgresql.password_wo_version;
    expect(Number.isInteger(version) && version > 0).toBe(true);
    const moved = synthEnvironment(
      env,
      exampleTenants(env).map((t) =>
        t.name === "payments" && t.engines.postgres ? { ...t, engines: { ...t.engines, postgres: { ...t.engines.postgres, host: "db2.internal" } } } : t,
      ),
    );
    const rotated = synthEnvironment(
      env,
      exampleTenants(env).map((t) =>
        t.name === "payments" && t.engines.postgres ? { ...t, engines: { ...t.engines, postgres: { ...t.engines.postgres, passwordVersion: 2 } } } : t,
      ),
    );
    const versionOf = (s: SynthResult) => (resource(s.tenants.payments, "vault_database_secret_backend_connection") as Obj).postgresql.password_wo_version;
    expect(new Set([version, versionOf(moved), versionOf(rotated)]).size).toBe(3);
    expect(conn.postgresql.password).toBeUndefined();
    expect(payments().variable?.postgres_password).toMatchObject({ sensitive: true, type: "string", ephemeral: true });
    expect(search().variable).toBeUndefined();
    const role = resource(payments(), "vault_database_secret_backend_role") as Obj;
    expect(role).toMatchObject({ name: "app", default_ttl: 900, max_ttl: 3600 });
  });

  describe("at scale", () => {
    const N = 40;
    let many: SynthResult;
    beforeAll(() => {
      many = synthEnvironment(env, generatedTenants(N));
    });

    it("has one stack per tenant plus the platform, vault and shared stacks", () => {
      expect(many.manifest.filter((s) => s.startsWith("example-tenant-"))).toHaveLength(N);
      expect(many.manifest.filter((s) => !s.startsWith("example-tenant-")).sort()).toEqual(["example-platform", "example-shared", "example-vault"]);
    });

    it("keeps every other tenant's name out of each tenant's stack", () => {
      const names = Object.keys(many.tenants);
      for (const name of names) {
        const text = many.text[`example-tenant-${name}`];
        expect(text).toContain(`tenants/${name}/kv`);
        const others = names.filter((o) => o !== name && text.includes(o));
        expect(others).toEqual([]);
      }
    });

    function changedStacks(before: SynthResult, after: SynthResult): string[] {
      const names = new Set([...Object.keys(before.text), ...Object.keys(after.text)]);
      return [...names].filter((n) => before.text[n] !== after.text[n]).sort();
    }

    it("changes exactly one stack's JSON when a tenant without a database is added", () => {
      const tenants = generatedTenants(N);
      const newcomer = { ...tenants[0], name: "newcomer", namespaces: ["newcomer"], engines: { ...tenants[0].engines, postgres: undefined } };
      expect(changedStacks(many, synthEnvironment(env, [...tenants, newcomer]))).toEqual(["example-tenant-newcomer"]);
    });

    it("changes the vault stack too when the added tenant declares a database: the provisioner policy pins its connection's address", () => {
      const tenants = generatedTenants(N);
      const added = synthEnvironment(env, [...tenants, { ...tenants[0], name: "newcomer", namespaces: ["newcomer"] }]);
      expect(changedStacks(many, added)).toEqual(["example-tenant-newcomer", "example-vault"]);
    });

    it("changes exactly one stack's JSON when a tenant's file changes", () => {
      const tenants = generatedTenants(N);
      tenants[17] = { ...tenants[17], tokenTtl: 600, serviceAccounts: ["team-017-api", "team-017-worker"] };
      expect(changedStacks(many, synthEnvironment(env, tenants))).toEqual(["example-tenant-team-017"]);
    });
  });
});

export type { TfJson };
