import { NODE_PROJECT_ROLES } from "../../constructs/node-service-account";
import { VAULT_NODE_LABEL, VAULT_NODE_TAINT } from "../../constructs/vault-node-pool";
import { exampleEnv, resource, resources, synthEnvironment, withoutMetadata, type SynthResult } from "../helpers";

let synth: SynthResult;
beforeAll(() => {
  synth = synthEnvironment(exampleEnv());
});

const platform = () => synth.platform;
type Obj = Record<string, any> & { lifecycle?: { prevent_destroy?: boolean } }; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("platform stack", () => {
  it("matches the snapshot", () => {
    expect(withoutMetadata(platform())).toMatchSnapshot();
  });

  it("keeps its state under its own prefix of the state bucket", () => {
    expect(platform().terraform?.backend).toEqual({ gcs: { bucket: "acme-tfstate-vault", prefix: "vault-gke/example/example-platform" } });
  });

  describe("network for private nodes", () => {
    it("enables the Google APIs and never disables them on destroy", () => {
      const services = resources(platform(), "google_project_service").map(([, r]) => r);
      expect(services.map((s) => s.service)).toEqual(
        expect.arrayContaining(["container.googleapis.com", "cloudkms.googleapis.com", "secretmanager.googleapis.com"]),
      );
      for (const s of services) expect(s.disable_on_destroy).toBe(false);
    });

    it("has a subnet with pod and service ranges and Private Google Access", () => {
      const subnet = resource(platform(), "google_compute_subnetwork");
      expect(subnet.private_ip_google_access).toBe(true);
      expect(subnet.secondary_ip_range).toEqual([
        { range_name: "pods", ip_cidr_range: "10.20.0.0/16" },
        { range_name: "services", ip_cidr_range: "10.30.0.0/20" },
      ]);
    });

    it("denies all other ingress explicitly, with logging", () => {
      const fw = resource(platform(), "google_compute_firewall", "deny-ingress");
      expect(fw).toMatchObject({ direction: "INGRESS", deny: [{ protocol: "all" }], priority: 65534 });
      expect(fw.log_config).toBeDefined();
    });

    it("has Cloud NAT for the subnet", () => {
      const nat = resource(platform(), "google_compute_router_nat");
      expect(nat.source_subnetwork_ip_ranges_to_nat).toBe("LIST_OF_SUBNETWORKS");
      expect((nat.log_config as Obj).enable).toBe(true);
    });
  });

  describe("cluster", () => {
    const cluster = () => resource(platform(), "google_container_cluster") as Record<string, Obj>;

    it("has private nodes and a control plane reachable only from the authorized networks", () => {
      expect(cluster().private_cluster_config).toMatchObject({ enable_private_nodes: true, master_ipv4_cidr_block: "172.16.0.0/28" });
      expect(cluster().master_authorized_networks_config).toMatchObject({
        gcp_public_cidrs_access_enabled: false,
        cidr_blocks: [{ cidr_block: "10.100.0.0/24", display_name: "atlantis" }],
      });
    });

    it("enables Workload Identity, shielded nodes, Dataplane V2 and a release channel", () => {
      expect(cluster().workload_identity_config).toEqual({ workload_pool: "acme-vault-example.svc.id.goog" });
      expect(cluster().enable_shielded_nodes).toBe(true);
      expect(cluster().datapath_provider).toBe("ADVANCED_DATAPATH");
      expect(cluster().release_channel).toEqual({ channel: "REGULAR" });
      expect(cluster().enable_legacy_abac).toBe(false);
    });

    it("encrypts Kubernetes secrets with its own KMS key, granted to the GKE agent only", () => {
      const enc = cluster().database_encryption;
      expect(enc.state).toBe("ENCRYPTED");
      expect(enc.key_name).toMatch(/google_kms_crypto_key\.cluster_secrets-key.*\.id/);
      const grant = resource(platform(), "google_kms_crypto_key_iam_member", "secrets-key-gke-agent");
      expect(grant.role).toBe("roles/cloudkms.cryptoKeyEncrypterDecrypter");
      expect(grant.member).toMatch(/^serviceAccount:service-\$\{data\.google_project\..*\.number\}@container-engine-robot\.iam\.gserviceaccount\.com$/);
    });

    it("sends logs and metrics, removes the default pool and is protected from deletion", () => {
      expect(cluster().logging_config.enable_components as string[]).toEqual(expect.arrayContaining(["SYSTEM_COMPONENTS", "WORKLOADS"]));
      expect(cluster().monitoring_config.enable_components as string[]).toContain("SYSTEM_COMPONENTS");
      expect(cluster().remove_default_node_pool).toBe(true);
      expect(cluster().deletion_protection).toBe(true);
      // The temporary default pool runs hardened, as the node account, until it is removed.
      expect(cluster().node_config).toMatchObject({
        workload_metadata_config: { mode: "GKE_METADATA" },
        shielded_instance_config: { enable_secure_boot: true },
      });
      expect(cluster().node_config.service_account).toMatch(/node-account/);
      expect(cluster().master_auth).toEqual({ client_certificate_config: { issue_client_certificate: false } });
    });

    it("attaches to an existing cluster instead of creating one", () => {
      const existing = synthEnvironment(
        exampleEnv({
          cluster: {
            mode: "existing",
            name: "shared",
            location: "europe-west1",
            subnetwork: "projects/p/regions/europe-west1/subnetworks/gke",
            sharedProjectAcknowledged: true,
            masterAuthorizedNetworks: undefined,
            network: undefined,
            releaseChannel: undefined,
            masterIpv4CidrBlock: undefined,
            deletionProtection: undefined,
          },
        }),
      );
      expect(resources(existing.platform, "google_container_cluster")).toHaveLength(0);
      expect(resources(existing.platform, "google_compute_network")).toHaveLength(0);
      expect(existing.platform.data?.google_container_cluster).toBeDefined();
      expect(resource(existing.platform, "google_container_node_pool").cluster).toBe("shared");
      expect(resource(existing.platform, "google_compute_address").subnetwork).toBe("projects/p/regions/europe-west1/subnetworks/gke");
    });
  });

  describe("Vault node pool", () => {
    const pool = () => resource(platform(), "google_container_node_pool") as Record<string, Obj>;
    const nodeConfig = () => pool().node_config as Record<string, Obj>;

    it("spans the three zones with the configured nodes per zone", () => {
      expect(pool().node_locations).toEqual(["europe-west1-b", "europe-west1-c", "europe-west1-d"]);
      expect(pool().node_count).toBe(1);
    });

    it("has the taint only Vault tolerates and the label Vault selects", () => {
      expect(nodeConfig().taint).toEqual([{ key: VAULT_NODE_TAINT.key, value: VAULT_NODE_TAINT.value, effect: "NO_SCHEDULE" }]);
      expect(nodeConfig().labels).toEqual({ [VAULT_NODE_LABEL.key]: VAULT_NODE_LABEL.value });
    });

    it("is shielded and uses the GKE metadata server", () => {
      expect(nodeConfig().shielded_instance_config).toEqual({ enable_secure_boot: true, enable_integrity_monitoring: true });
      expect(nodeConfig().workload_metadata_config).toEqual({ mode: "GKE_METADATA" });
      expect(nodeConfig().metadata).toEqual({ "disable-legacy-endpoints": "true" });
      expect(nodeConfig().image_type).toBe("COS_CONTAINERD");
    });

    it("repairs and upgrades itself, never removing a node before its replacement is ready", () => {
      expect(pool().management).toEqual({ auto_repair: true, auto_upgrade: true });
      expect(pool().upgrade_settings).toEqual({ strategy: "SURGE", max_surge: 1, max_unavailable: 0 });
    });

    it("runs as a node account with only logging and monitoring roles on the project", () => {
      expect(nodeConfig().service_account).toMatch(/^\$\{google_service_account\.node-account_[0-9A-F]+\.email\}$/);
      const projectRoles = resources(platform(), "google_project_iam_member")
        .map(([, r]) => r)
        .filter((r) => String(r.member).includes("node-account"));
      expect(projectRoles.map((r) => r.role).sort()).toEqual([...NODE_PROJECT_ROLES].sort());
      for (const r of projectRoles) {
        expect(r.role).toMatch(/^roles\/(logging|monitoring)\./);
        expect(r.member).toMatch(/node-account/);
      }
    });
  });

  it("lets the node account read only the Artifact Registry repository the bootstrap image comes from", () => {
    const grant = resource(platform(), "google_artifact_registry_repository_iam_member");
    expect(grant).toMatchObject({ project: "acme-vault-example", location: "europe", repository: "vault", role: "roles/artifactregistry.reader" });
    expect(grant.member).toMatch(/node-account/);
    const other = synthEnvironment(exampleEnv({ bootstrap: { image: "ghcr.io/acme/bootstrap:1" } }));
    expect(resources(other.platform, "google_artifact_registry_repository_iam_member")).toHaveLength(0);
  });

  describe("auto-unseal key", () => {
    it("rotates on schedule and is protected from destroy", () => {
      const key = resource(platform(), "google_kms_crypto_key", "unseal-key") as Obj;
      expect(key.rotation_period).toBe(`${90 * 86400}s`);
      expect(key.purpose).toBe("ENCRYPT_DECRYPT");
      expect(key.lifecycle?.prevent_destroy).toBe(true);
      expect((resource(platform(), "google_kms_key_ring") as Obj).lifecycle?.prevent_destroy).toBe(true);
    });
  });

  describe("Secret Manager", () => {
    const secrets = () => Object.fromEntries(resources(platform(), "google_secret_manager_secret").map(([, r]) => [r.secret_id as string, r as Obj]));

    it("creates empty containers for the init response, the root, plan and sidecar tokens and the canary", () => {
      expect(Object.keys(secrets()).sort()).toEqual([
        "example-vault-canary",
        "example-vault-init-response",
        "example-vault-plan-token",
        "example-vault-root-token",
        "example-vault-sidecar-token",
      ]);
      expect(resources(platform(), "google_secret_manager_secret_version")).toHaveLength(0);
    });

    it("protects the key-holding secrets from destroy, and keeps a destroyed version recoverable for 30 days", () => {
      for (const id of ["example-vault-init-response", "example-vault-root-token"]) {
        expect(secrets()[id].lifecycle?.prevent_destroy).toBe(true);
        expect(secrets()[id].deletion_protection).toBe(true);
        expect(secrets()[id].version_destroy_ttl).toBe(`${30 * 86400}s`);
      }
      // The token secrets hold only what the sidecar makes again.
      for (const id of ["example-vault-canary", "example-vault-plan-token", "example-vault-sidecar-token"]) {
        expect(secrets()[id].lifecycle?.prevent_destroy).toBeUndefined();
        expect(secrets()[id].version_destroy_ttl).toBeUndefined();
      }
    });

    it("logs every read and write of data in Secret Manager and Cloud KMS (Data Access audit logs)", () => {
      const configs = resources(platform(), "google_project_iam_audit_config").map(([, r]) => r as Obj);
      expect(configs.map((c) => c.service).sort()).toEqual(["cloudkms.googleapis.com", "secretmanager.googleapis.com"]);
      for (const c of configs) {
        expect(c.project).toBe("acme-vault-example");
        expect((c.audit_log_config as { log_type: string }[]).map((l) => l.log_type)).toEqual(expect.arrayContaining(["DATA_READ", "DATA_WRITE"]));
        expect(c.audit_log_config.some((l: { exempted_members?: string[] }) => l.exempted_members?.length)).toBe(false);
      }
    });
  });

  describe("what the runners may read", () => {
    const accessors = () =>
      resources(platform(), "google_secret_manager_secret_iam_member")
        .map(([, g]) => g as Obj)
        .filter((g) => !String(g.member).includes("vault-account"));

    it("lets plan and apply runners read the plan token, and no other Vault secret", () => {
      expect(
        accessors()
          .map((g) => g.member)
          .sort(),
      ).toEqual([
        "serviceAccount:atlantis@acme-vault-example.iam.gserviceaccount.com",
        "serviceAccount:vault-deploy@acme-vault-example.iam.gserviceaccount.com",
        "serviceAccount:vault-plan@acme-vault-example.iam.gserviceaccount.com",
      ]);
      for (const g of accessors()) {
        expect(g.role).toBe("roles/secretmanager.secretAccessor");
        expect(g.secret_id).toMatch(/^\$\{google_secret_manager_secret\.secrets_plan-token_[0-9A-F]+\.id\}$/);
      }
    });

    it("lets only apply runners read tenants' database passwords, by a condition on the secret name", () => {
      const grants = resources(platform(), "google_project_iam_member")
        .map(([, g]) => g as Obj)
        .filter((g) => !String(g.member).includes("node-account"));
      expect(grants.map((g) => g.member).sort()).toEqual([
        "serviceAccount:atlantis@acme-vault-example.iam.gserviceaccount.com",
        "serviceAccount:vault-deploy@acme-vault-example.iam.gserviceaccount.com",
      ]);
      for (const g of grants) {
        expect(g.role).toBe("roles/secretmanager.secretAccessor");
        expect(g.condition.expression).toMatch(
          /^resource\.name\.startsWith\("projects\/\$\{data\.google_project\.runner-grants_project_[0-9A-F]+\.number\}\/secrets\/example-tenant-postgres-"\)$/,
        );
      }
    });
  });

  describe("snapshot bucket", () => {
    const bucket = () => resource(platform(), "google_storage_bucket", "snapshot") as Record<string, unknown> & Obj;

    it("is private, dual-region and protected, and keeps each snapshot for the retention period, then deletes it", () => {
      expect(bucket().uniform_bucket_level_access).toBe(true);
      expect(bucket().public_access_prevention).toBe("enforced");
      expect(bucket().location).toBe("EUR4");
      expect(bucket().retention_policy).toEqual({ retention_period: 30 * 86400, is_locked: false });
      // GCS refuses versioning beside a retention policy: objects are write-once instead.
      expect(bucket().versioning).toBeUndefined();
      expect(bucket().lifecycle_rule).toContainEqual({ action: { type: "Delete" }, condition: { age: 31 } });
      expect(bucket().lifecycle?.prevent_destroy).toBe(true);
    });

    it("locks the retention policy when the environment asks", () => {
      const locked = synthEnvironment(exampleEnv({ snapshots: { retentionLocked: true, retentionDays: 90 } }));
      expect(resource(locked.platform, "google_storage_bucket", "snapshot").retention_policy).toEqual({ retention_period: 90 * 86400, is_locked: true });
    });

    it("is written by the snapshot job's identity only, which may create objects and list names but never read, overwrite or delete", () => {
      const grants = resources(platform(), "google_storage_bucket_iam_member").map(([, g]) => g as Obj);
      expect(grants.every((g) => /snapshot-bucket/.test(String(g.bucket)))).toBe(true);
      expect(grants.map((g) => g.role).sort()).toEqual(["roles/storage.legacyBucketReader", "roles/storage.objectCreator"]);
      for (const g of grants) expect(g.member).toMatch(/^\$\{google_service_account\.snapshot-account_[0-9A-F]+\.member\}$/);
      const writers = grants.filter((g) => !["roles/storage.legacyBucketReader"].includes(g.role));
      expect(writers.map((g) => g.role)).toEqual(["roles/storage.objectCreator"]);
      const wi = resources(platform(), "google_service_account_iam_member")
        .map(([, g]) => g as Obj)
        .find((g) => String(g.service_account_id).includes("snapshot-account")) as Obj;
      expect(wi).toMatchObject({ role: "roles/iam.workloadIdentityUser", member: "serviceAccount:acme-vault-example.svc.id.goog[vault/vault-snapshot]" });
    });

    it("becomes a configurable dual-region with a second region", () => {
      const other = synthEnvironment(exampleEnv({ snapshots: { location: "europe-west1", secondRegion: "europe-west4" } }));
      const bucket = resource(other.platform, "google_storage_bucket", "snapshot");
      expect(bucket.custom_placement_config).toEqual({ data_locations: ["EUROPE-WEST1", "EUROPE-WEST4"] });
    });
  });

  describe("Vault pods' Google identity", () => {
    const member = /^\$\{google_service_account\.vault-account_[0-9A-F]+\.member\}$/;

    it("is bound to the Vault Kubernetes service account through Workload Identity", () => {
      const wi = resource(platform(), "google_service_account_iam_member", "vault-account_workload-identity");
      expect(wi.role).toBe("roles/iam.workloadIdentityUser");
      expect(wi.member).toBe("serviceAccount:acme-vault-example.svc.id.goog[vault/vault]");
    });

    it("may only encrypt and decrypt with the unseal key (and read its metadata)", () => {
      const grants = resources(platform(), "google_kms_crypto_key_iam_member").filter(([n]) => n.includes("vault-account"));
      expect(grants.map(([, g]) => g.role).sort()).toEqual(["roles/cloudkms.cryptoKeyEncrypterDecrypter", "roles/cloudkms.viewer"]);
      for (const [, g] of grants) expect(g.crypto_key_id).toMatch(/^\$\{google_kms_crypto_key\.unseal-key_[0-9A-F]+\.id\}$/);
    });

    it("may add and access versions of each Vault secret, one grant per secret", () => {
      const grants = resources(platform(), "google_secret_manager_secret_iam_member")
        .map(([, g]) => g)
        .filter((g) => String(g.member).includes("vault-account"));
      expect(grants).toHaveLength(10);
      for (const g of grants) {
        expect(["roles/secretmanager.secretVersionAdder", "roles/secretmanager.secretAccessor"]).toContain(g.role);
        expect(g.secret_id).toMatch(/^\$\{google_secret_manager_secret\.secrets_[-a-z]+_[0-9A-F]+\.id\}$/);
        expect(g.member).toMatch(member);
      }
    });

    it("has no access to the snapshot bucket, and uses objects of the storage bucket only with GCS storage", () => {
      expect(resources(platform(), "google_storage_bucket_iam_member").filter(([n]) => n.includes("vault-account"))).toEqual([]);
      const gcs = synthEnvironment(exampleEnv({ vault: { storage: "gcs" } }));
      const grants = resources(gcs.platform, "google_storage_bucket_iam_member")
        .filter(([n]) => n.includes("vault-account"))
        .map(([, g]) => g);
      expect(grants).toHaveLength(1);
      expect(grants[0]).toMatchObject({ role: "roles/storage.objectUser" });
      expect(grants[0].bucket).toMatch(/storage-bucket/);
    });

    it("holds no project-wide role", () => {
      for (const [, r] of resources(platform(), "google_project_iam_member")) expect(String(r.member)).not.toContain("vault-account");
    });

    it("may read only the admin and break-glass service accounts whose logins it verifies", () => {
      const grants = resources(platform(), "google_service_account_iam_member")
        .filter(([n]) => n.includes("verify-login"))
        .map(([, g]) => g);
      expect(grants.map((g) => g.role)).toEqual(["roles/iam.serviceAccountViewer", "roles/iam.serviceAccountViewer"]);
      expect(grants.map((g) => g.service_account_id).sort()).toEqual([
        "projects/acme-vault-example/serviceAccounts/vault-admin@acme-vault-example.iam.gserviceaccount.com",
        "projects/acme-vault-example/serviceAccounts/vault-break-glass@acme-vault-example.iam.gserviceaccount.com",
      ]);
    });

    it("gets no KMS grant with a Shamir seal", () => {
      const shamir = synthEnvironment(exampleEnv({ vault: { seal: "shamir" } }));
      expect(resources(shamir.platform, "google_kms_crypto_key_iam_member").filter(([n]) => n.includes("vault-account"))).toHaveLength(0);
    });
  });

  it("reserves an internal static address for the load balancer", () => {
    const address = resource(platform(), "google_compute_address");
    expect(address.address_type).toBe("INTERNAL");
    expect(address.subnetwork).toMatch(/google_compute_subnetwork/);
  });

  it("exports what the vault stack consumes", () => {
    const outputs = Object.keys(platform().output ?? {});
    expect(outputs).toEqual(expect.arrayContaining(["cluster_name", "vault_service_account", "unseal_key", "snapshot_bucket", "load_balancer_address"]));
    expect(outputs.some((o) => o.startsWith("cross-stack-output-") && o.endsWith("endpoint"))).toBe(true);
  });
});
