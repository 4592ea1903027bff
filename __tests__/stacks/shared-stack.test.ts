import { exampleEnv, resource, resources, synthEnvironment, withoutMetadata, type SynthResult } from "../helpers";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let synth: SynthResult;
beforeAll(() => {
  synth = synthEnvironment(exampleEnv());
});
const shared = () => synth.shared;
const byPath = (type: string, path: string) =>
  resources(shared(), type)
    .map(([, r]) => r as Obj)
    .find((r) => r.path === path) as Obj;

describe("shared stack", () => {
  it("matches the snapshot", () => {
    expect(withoutMetadata(shared())).toMatchSnapshot();
  });

  it("keeps its state under its own prefix and talks to Vault over verified TLS with no token in the configuration", () => {
    expect(shared().terraform?.backend).toEqual({ gcs: { bucket: "acme-tfstate-vault", prefix: "vault-gke/example/example-shared" } });
    const vault = shared().provider?.vault[0] as Obj;
    expect(vault).toMatchObject({ address: "https://vault.example.acme.dev:8200", skip_tls_verify: false, max_lease_ttl_seconds: 1200 });
    expect(vault.token).toBeUndefined();
  });

  describe("registered tenant clusters", () => {
    it("have one Kubernetes auth backend each, sending TokenReview to the API server and CA from the environment file", () => {
      const backend = byPath("vault_auth_backend", "kubernetes-apps-prod");
      expect(backend).toMatchObject({ type: "kubernetes" });
      expect(backend.tune[0]).toMatchObject({ max_lease_ttl: "3600s", default_lease_ttl: "1800s" });
      const config = resources(shared(), "vault_kubernetes_auth_backend_config")
        .map(([, r]) => r as Obj)
        .find((r) => r.kubernetes_host === "https://10.40.0.2") as Obj;
      expect(config).toBeDefined();
      expect(config.kubernetes_host).toBe("https://10.40.0.2");
      expect(config.kubernetes_ca_cert).toContain("-----BEGIN CERTIFICATE-----");
      expect(config.disable_local_ca_jwt).toBe(true);
      expect(config.token_reviewer_jwt).toMatch(/^\$\{kubernetes_secret_v1\.reviewer-apps-prod_token_[0-9A-F]+\.data\.token\}$/);
    });

    it("get the reviewer and its system:auth-delegator binding through an aliased provider for that cluster", () => {
      const crb = resource(shared(), "kubernetes_cluster_role_binding_v1") as Obj;
      expect(crb.role_ref).toEqual({ api_group: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" });
      expect(crb.provider).toBe("kubernetes.apps-prod");
      const k8s = (shared().provider?.kubernetes as Obj[]).find((p) => p.alias === "apps-prod") as Obj;
      expect(k8s.host).toBe("https://10.40.0.2");
      expect(k8s.token).toMatch(/^\$\{data\.google_client_config\..*\.access_token\}$/);
    });
  });

  describe("Vault's own cluster", () => {
    it("checks tokens with Vault's own service account and CA, and has only the snapshot role", () => {
      expect(byPath("vault_auth_backend", "in-cluster")).toMatchObject({ type: "kubernetes" });
      const config = resources(shared(), "vault_kubernetes_auth_backend_config")
        .map(([, r]) => r as Obj)
        .find((r) => r.kubernetes_host === "https://kubernetes.default.svc") as Obj;
      expect(config.disable_local_ca_jwt).toBe(false);
      expect(config.token_reviewer_jwt).toBeUndefined();
      const roles = resources(shared(), "vault_kubernetes_auth_backend_role").map(([, r]) => r as Obj);
      expect(roles).toHaveLength(1);
      expect(roles[0]).toMatchObject({
        role_name: "snapshot",
        bound_service_account_names: ["vault-snapshot"],
        bound_service_account_namespaces: ["vault"],
        audience: "vault",
        token_policies: ["snapshot"],
        token_ttl: 600,
      });
    });
  });

  describe("the runners' apply login", () => {
    it("accepts only Google-signed ID tokens for the Vault address", () => {
      const backend = resource(shared(), "vault_jwt_auth_backend") as Obj;
      expect(backend).toMatchObject({
        path: "runner",
        type: "jwt",
        oidc_discovery_url: "https://accounts.google.com",
        bound_issuer: "https://accounts.google.com",
      });
      expect(backend.tune[0]).toMatchObject({ max_lease_ttl: "1200s" });
    });

    it("gives the apply service accounts the provisioner policy for 15 minutes, never more than 20", () => {
      const role = resource(shared(), "vault_jwt_auth_backend_role") as Obj;
      expect(role).toMatchObject({
        role_name: "provisioner",
        role_type: "jwt",
        bound_audiences: ["https://vault.example.acme.dev:8200"],
        user_claim: "email",
        bound_claims: { email: "atlantis@acme-vault-example.iam.gserviceaccount.com,vault-deploy@acme-vault-example.iam.gserviceaccount.com" },
        token_policies: ["provisioner"],
        token_ttl: 900,
        token_max_ttl: 900,
        token_explicit_max_ttl: 1200,
      });
    });

    it("is left out when no apply service account is listed", () => {
      const none = synthEnvironment(exampleEnv({ delivery: { applyServiceAccounts: [] } })).shared;
      expect(resources(none, "vault_jwt_auth_backend")).toEqual([]);
    });
  });

  describe("GCP auth for admins", () => {
    it("binds the admin service accounts to the admin policy and break-glass ones to admin plus break-glass, with short TTLs", () => {
      expect(resource(shared(), "vault_gcp_auth_backend")).toMatchObject({ path: "gcp" });
      expect(resource(shared(), "vault_gcp_auth_backend")).not.toHaveProperty("credentials");
      const roles = Object.fromEntries(resources(shared(), "vault_gcp_auth_backend_role").map(([, r]) => [(r as Obj).role, r as Obj]));
      expect(roles.admin).toMatchObject({
        type: "iam",
        bound_service_accounts: ["vault-admin@acme-vault-example.iam.gserviceaccount.com"],
        token_policies: ["admin"],
        token_ttl: 1800,
        token_max_ttl: 3600,
        max_jwt_exp: "900",
      });
      expect(roles["break-glass"]).toMatchObject({
        bound_service_accounts: ["vault-break-glass@acme-vault-example.iam.gserviceaccount.com"],
        token_policies: ["admin", "break-glass"],
        token_ttl: 900,
        token_max_ttl: 900,
      });
    });

    it("is left out with OpenBao, which ships no GCP auth plugin", () => {
      const bao = synthEnvironment(exampleEnv({ vault: { distribution: "openbao" } })).shared;
      expect(resources(bao, "vault_gcp_auth_backend")).toEqual([]);
    });
  });

  describe("Raft autopilot", () => {
    it("never removes a server, holds each restarted server 10 s before it counts as stable, and sets min_quorum to the replicas", () => {
      expect(withoutMetadata(resource(shared(), "vault_raft_autopilot"))).toEqual({
        cleanup_dead_servers: false,
        last_contact_threshold: "5s",
        max_trailing_logs: 1000,
        server_stabilization_time: "10s",
        min_quorum: 3,
      });
    });

    it("follows the replicas, and is left out with GCS storage, which has no Raft", () => {
      const five = synthEnvironment(exampleEnv({ vault: { replicas: 5 }, nodePool: { nodesPerZone: 2 } })).shared;
      expect((resource(five, "vault_raft_autopilot") as Obj).min_quorum).toBe(5);
      const gcs = synthEnvironment(exampleEnv({ vault: { storage: "gcs" } })).shared;
      expect(resources(gcs, "vault_raft_autopilot")).toEqual([]);
    });
  });

  it("changes when a cluster is registered, while the platform stack stays as it was", () => {
    const env = exampleEnv();
    const more = exampleEnv({
      tenancy: { clusters: [...env.tenancy.clusters, { ...env.tenancy.clusters[0], name: "apps-eu", apiServerUrl: "https://10.41.0.2" }] },
    });
    const after = synthEnvironment(more);
    expect(after.text["example-shared"]).not.toBe(synth.text["example-shared"]);
    expect(after.text["example-platform"]).toBe(synth.text["example-platform"]);
    expect(
      resources(after.shared, "vault_auth_backend")
        .map(([, r]) => (r as Obj).path)
        .sort(),
    ).toEqual(["in-cluster", "kubernetes-apps-eu", "kubernetes-apps-prod"]);
  });
});
