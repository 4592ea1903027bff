import { parse as parseHcl } from "./hcl-lines";
import { maxUnavailableFor } from "../../constructs/vault-disruption-budget";
import { VAULT_NODE_LABEL, VAULT_NODE_TAINT } from "../../constructs/vault-node-pool";
import { VAULT_POD_LABELS } from "../../constructs/vault-naming";
import { exampleEnv, resource, resources, synthEnvironment, withoutMetadata, type SynthResult, type TfJson } from "../helpers";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let synth: SynthResult;
beforeAll(() => {
  synth = synthEnvironment(exampleEnv());
});
const vault = () => synth.vault;
const sts = (tf: TfJson = vault()) => resource(tf, "kubernetes_stateful_set_v1") as Obj;
const podSpec = (tf?: TfJson) => sts(tf).spec.template.spec as Obj;
const container = (name: string, tf?: TfJson) => (podSpec(tf).container as Obj[]).find((c) => c.name === name) as Obj;
const serverConfig = (tf: TfJson = vault()) => (resource(tf, "kubernetes_config_map_v1", "vault_config") as Obj).data["vault.hcl"] as string;
const service = (name: string, tf: TfJson = vault()) => resources(tf, "kubernetes_service_v1").map(([, r]) => r as Obj).find((s) => s.metadata.name === name) as Obj;

describe("vault stack", () => {
  it("matches the snapshot", () => {
    expect(withoutMetadata(vault())).toMatchSnapshot();
  });

  it("keeps its state under its own prefix and reaches the cluster with the runner's short-lived token", () => {
    expect(vault().terraform?.backend).toEqual({ gcs: { bucket: "acme-tfstate-vault", prefix: "vault-gke/example/example-vault" } });
    const k8s = vault().provider?.kubernetes[0] as Obj;
    expect(k8s.host).toMatch(/^https:\/\/\$\{data\.terraform_remote_state\.cross-stack-reference-input-example-platform\.outputs\..*endpoint\}$/);
    expect(k8s.token).toMatch(/^\$\{data\.google_client_config\..*\.access_token\}$/);
  });

  describe("1. namespace and service account", () => {
    it("enforces the restricted Pod Security Standard", () => {
      const ns = resource(vault(), "kubernetes_namespace_v1") as Obj;
      expect(ns.metadata.labels).toMatchObject({
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
      });
    });

    it("annotates the service account with the platform's Google service account", () => {
      const sa = resource(vault(), "kubernetes_service_account_v1", "namespace") as Obj;
      expect(sa.metadata.name).toBe("vault");
      expect(sa.metadata.annotations["iam.gke.io/gcp-service-account"]).toMatch(/^\$\{data\.terraform_remote_state\..*vault-account.*email\}$/);
      expect(podSpec().service_account_name).toBe("vault");
    });
  });

  describe("2. service registration", () => {
    it("grants exactly get, update and patch on the StatefulSet's own pods", () => {
      const role = resource(vault(), "kubernetes_role_v1") as Obj;
      expect(role.rule).toEqual([{ api_groups: [""], resources: ["pods"], resource_names: ["vault-0", "vault-1", "vault-2"], verbs: ["get", "update", "patch"] }]);
      const binding = resource(vault(), "kubernetes_role_binding_v1") as Obj;
      expect(binding.subject).toEqual([{ kind: "ServiceAccount", name: "vault", namespace: expect.stringMatching(/^\$\{kubernetes_namespace_v1\.namespace_[0-9A-F]+\.metadata\[0\]\.name\}$/) }]);
      expect(binding.role_ref.kind).toBe("Role");
    });

    it("passes the pod name and namespace through the Downward API", () => {
      const env = container("vault").env as Obj[];
      expect(env.find((e) => e.name === "VAULT_K8S_POD_NAME")?.value_from).toEqual({ field_ref: { field_path: "metadata.name" } });
      expect(env.find((e) => e.name === "VAULT_K8S_NAMESPACE")?.value_from).toEqual({ field_ref: { field_path: "metadata.namespace" } });
      expect(serverConfig()).toContain('service_registration "kubernetes" {}');
    });

    it("uses OpenBao's variable names and label with OpenBao", () => {
      const bao = synthEnvironment(exampleEnv({ vault: { distribution: "openbao" } })).vault;
      const env = container("vault", bao).env as Obj[];
      expect(env.map((e) => e.name)).toEqual(expect.arrayContaining(["BAO_K8S_POD_NAME", "BAO_K8S_NAMESPACE", "BAO_API_ADDR"]));
      expect(service("vault-active", bao).spec.selector["openbao-active"]).toBe("true");
      expect(container("vault", bao).command[0]).toBe("bao");
    });
  });

  describe("3. server configuration", () => {
    it("has one TLS listener and no plaintext listener anywhere", () => {
      const hcl = serverConfig();
      const listeners = hcl.match(/listener "/g) ?? [];
      expect(listeners).toHaveLength(1);
      expect(hcl).toContain("tls_disable = false");
      expect(hcl).not.toMatch(/tls_disable\s*=\s*(true|"true"|1)/);
      expect(hcl).toContain('tls_min_version = "tls12"');
      expect(parseHcl(hcl).listenerTls).toBe(true);
    });

    it("joins every peer over TLS with the CA and the peer's name", () => {
      const hcl = serverConfig();
      for (const i of [0, 1, 2]) {
        expect(hcl).toContain(`leader_api_addr = "https://vault-${i}.vault-internal.vault.svc.cluster.local:8200"`);
        expect(hcl).toContain(`leader_tls_servername = "vault-${i}.vault-internal.vault.svc.cluster.local"`);
      }
      expect(hcl.match(/leader_ca_cert_file = "\/vault\/tls\/ca.crt"/g)).toHaveLength(3);
      expect(hcl).toContain("disable_mlock = true");
    });

    it("auto-unseals with the platform's KMS key", () => {
      expect(serverConfig()).toMatch(/seal "gcpckms" \{\n  project = "acme-vault-example"\n  region = "europe-west1"\n  key_ring = "example-vault"\n  crypto_key = "vault-unseal"\n\}/);
    });

    it("has no seal stanza with Shamir", () => {
      expect(serverConfig(synthEnvironment(exampleEnv({ vault: { seal: "shamir" } })).vault)).not.toContain("seal \"");
    });

    it("renders GCS storage with HA for HashiCorp Vault, and the platform grants the bucket", () => {
      const gcs = synthEnvironment(exampleEnv({ vault: { storage: "gcs" } }));
      expect(serverConfig(gcs.vault)).toMatch(/storage "gcs" \{\n  bucket = "\$\{data\.terraform_remote_state.*\}"\n  ha_enabled = "true"\n\}/);
      expect(resources(gcs.platform, "google_storage_bucket_iam_member").map(([n]) => n).some((n) => n.includes("storage"))).toBe(true);
    });

    it("declares audit devices in the configuration for OpenBao only", () => {
      expect(serverConfig()).not.toContain("audit \"");
      const bao = serverConfig(synthEnvironment(exampleEnv({ vault: { distribution: "openbao" } })).vault);
      expect(bao).toContain('audit "file" "file"');
      expect(bao).toContain('file_path = "/vault/audit/audit.log"');
    });
  });

  describe("4. TLS", () => {
    it("generates a CA and a server certificate whose SANs cover services, pods, hostname and loopback", () => {
      const csr = resource(vault(), "tls_cert_request") as Obj;
      expect(csr.dns_names).toEqual(expect.arrayContaining([
        "vault.example.acme.dev",
        "vault-active.vault.svc",
        "vault-standby.vault.svc.cluster.local",
        "vault.vault.svc.cluster.local",
        "vault-0.vault-internal.vault.svc.cluster.local",
        "vault-2.vault-internal",
      ]));
      expect(csr.ip_addresses).toEqual(["127.0.0.1", "::1"]);
      expect((resource(vault(), "tls_self_signed_cert") as Obj).is_ca_certificate).toBe(true);
      const secret = resource(vault(), "kubernetes_secret_v1") as Obj;
      expect(secret.type).toBe("kubernetes.io/tls");
      expect(Object.keys(secret.data).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
    });

    it("mounts an existing secret instead, creating no key", () => {
      const existing = synthEnvironment(exampleEnv({ vault: { tls: { mode: "existingSecret", secretName: "vault-cert-manager" } } })).vault;
      expect(resources(existing, "tls_private_key")).toHaveLength(0);
      expect((podSpec(existing).volume as Obj[]).find((v) => v.name === "tls")?.secret.secret_name).toBe("vault-cert-manager");
    });
  });

  describe("5. StatefulSet", () => {
    it("runs 3 replicas in parallel behind the headless service with OnDelete updates", () => {
      expect(sts().spec.replicas).toBe("3");
      expect(sts().spec.pod_management_policy).toBe("Parallel");
      expect(sts().spec.service_name).toBe("vault-internal");
      expect(sts().spec.update_strategy).toEqual([{ type: "OnDelete" }]);
    });

    it("requires hostname anti-affinity and spreads across zones", () => {
      expect(podSpec().affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution).toEqual([
        { label_selector: [{ match_labels: VAULT_POD_LABELS }], topology_key: "kubernetes.io/hostname" },
      ]);
      expect(podSpec().topology_spread_constraint).toEqual([
        { label_selector: [{ match_labels: VAULT_POD_LABELS }], max_skew: 1, topology_key: "topology.kubernetes.io/zone", when_unsatisfiable: "DoNotSchedule" },
      ]);
    });

    it("selects the dedicated pool and tolerates exactly its taint", () => {
      expect(podSpec().node_selector).toEqual({ [VAULT_NODE_LABEL.key]: VAULT_NODE_LABEL.value });
      expect(podSpec().toleration).toEqual([{ key: VAULT_NODE_TAINT.key, operator: "Equal", value: VAULT_NODE_TAINT.value, effect: "NoSchedule" }]);
      // The platform's node pool carries the same taint (GKE spells the effect NO_SCHEDULE).
      expect((resource(synth.platform, "google_container_node_pool") as Obj).node_config.taint[0]).toEqual({ key: VAULT_NODE_TAINT.key, value: VAULT_NODE_TAINT.value, effect: "NO_SCHEDULE" });
    });

    it("runs every container non-root, read-only, unprivileged, without capabilities, with RuntimeDefault seccomp", () => {
      expect(podSpec().security_context).toMatchObject({ run_as_non_root: true, seccomp_profile: { type: "RuntimeDefault" } });
      for (const name of ["vault", "bootstrap"]) {
        expect(container(name).security_context).toEqual({
          allow_privilege_escalation: false,
          privileged: false,
          read_only_root_filesystem: true,
          run_as_non_root: true,
          capabilities: { drop: ["ALL"] },
          seccomp_profile: { type: "RuntimeDefault" },
        });
        expect(container(name).resources.requests).toBeDefined();
        expect(container(name).resources.limits).toBeDefined();
      }
      expect(container("vault").resources).toEqual({ requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "1Gi" } });
    });

    it("probes health over HTTPS: readiness needs an unsealed server, liveness tolerates sealed and uninitialized", () => {
      expect(container("vault").readiness_probe.http_get).toEqual({ path: "/v1/sys/health?standbyok=true", port: "8200", scheme: "HTTPS" });
      const live = container("vault").liveness_probe.http_get;
      expect(live.scheme).toBe("HTTPS");
      expect(live.path).toContain("sealedcode=204");
      expect(live.path).toContain("uninitcode=204");
    });

    it("delays SIGTERM with a preStop sleep that the grace period covers", () => {
      expect(container("vault").lifecycle.pre_stop[0].exec.command).toEqual(["/bin/sh", "-c", "sleep 5"]);
      expect(podSpec().termination_grace_period_seconds).toBe(60);
    });

    it("gives each pod data and audit claims on a Retain storage class", () => {
      const claims = sts().spec.volume_claim_template as Obj[];
      expect(claims.map((c) => c.metadata.name)).toEqual(["data", "audit"]);
      for (const c of claims) expect(c.spec.storage_class_name).toMatch(/storage-class/);
      const sc = resource(vault(), "kubernetes_storage_class_v1") as Obj;
      expect(sc.reclaim_policy).toBe("Retain");
      expect(sc.volume_binding_mode).toBe("WaitForFirstConsumer");
      expect(sts().spec.persistent_volume_claim_retention_policy).toEqual([{ when_deleted: "Retain", when_scaled: "Retain" }]);
    });

    it("runs the bootstrap sidecar from the environment's image with the policies and the declared access mounted", () => {
      const sidecar = container("bootstrap");
      expect(sidecar.image).toBe("europe-docker.pkg.dev/acme-vault-example/vault/bootstrap:0.1.0");
      expect(sidecar.volume_mount).toContainEqual({ name: "policies", mount_path: "/vault/policies", read_only: true });
      const policies = resource(vault(), "kubernetes_config_map_v1", "policies") as Obj;
      expect(Object.keys(policies.data).sort()).toEqual([
        "admin.hcl",
        "break-glass.hcl",
        "declared-access.json",
        "generate-root.hcl",
        "provisioner.hcl",
        "snapshot.hcl",
        "vault-gke-plan.hcl",
        "vault-gke-sidecar.hcl",
      ]);
      // One rule per registered cluster, so the apply credential reaches no other auth method's roles.
      expect(policies.data["provisioner.hcl"]).toContain('path "auth/kubernetes-apps-prod/role/+"');
      const declared = JSON.parse(policies.data["declared-access.json"]);
      expect(declared.authMounts.map((m: Obj) => `${m.path}:${m.type}`)).toEqual(["token:token", "kubernetes-apps-prod:kubernetes", "in-cluster:kubernetes", "runner:jwt", "gcp:gcp"]);
      const env = Object.fromEntries((sidecar.env as Obj[]).filter((e) => e.value).map((e) => [e.name, e.value]));
      expect(env).toMatchObject({
        VAULT_ADDR: "https://127.0.0.1:8200",
        VAULT_CACERT: "/vault/ca/ca.crt",
        SEAL_TYPE: "auto",
        AUDIT_MODE: "api",
        SECRET_PLAN_TOKEN: "example-vault-plan-token",
        SECRET_SIDECAR_TOKEN: "example-vault-sidecar-token",
        DECLARED_ACCESS_FILE: "/vault/policies/declared-access.json",
      });
      // Only settings: no Vault token (hvs./s. prefixes) and no credential file in the sidecar's environment.
      expect(JSON.stringify(sidecar.env)).not.toMatch(/\b(hvs|hvb|hvr|s)\.[A-Za-z0-9]{20,}|GOOGLE_APPLICATION_CREDENTIALS|VAULT_TOKEN/);
    });

    it("gives the sidecar only the CA of the TLS secret, never the server's private key", () => {
      const sidecar = container("bootstrap");
      expect((sidecar.volume_mount as Obj[]).map((m) => m.name).sort()).toEqual(["ca", "policies"]);
      const volumes = podSpec().volume as Obj[];
      const ca = volumes.find((v) => v.name === "ca") as Obj;
      expect(ca.secret).toMatchObject({ items: [{ key: "ca.crt", path: "ca.crt" }] });
      expect(container("vault").volume_mount).toContainEqual({ name: "tls", mount_path: "/vault/tls", read_only: true });
    });

    it("probes the sidecar's own endpoint and keeps its memory under a limit it never reaches", () => {
      const sidecar = container("bootstrap");
      expect(sidecar.liveness_probe.http_get).toEqual({ path: "/livez", port: "8210", scheme: "HTTP" });
      expect(sidecar.readiness_probe.http_get).toEqual({ path: "/readyz", port: "8210", scheme: "HTTP" });
      expect(sidecar.resources.limits.memory).toBe("256Mi");
      const env = Object.fromEntries((sidecar.env as Obj[]).filter((e) => e.value).map((e) => [e.name, e.value]));
      expect(env.NODE_OPTIONS).toBe("--enable-source-maps --max-old-space-size=160"); // replaces the image's NODE_OPTIONS, so it repeats the source maps flag
    });

    it("derives the sidecar's stop grace from the pod's termination grace period, minus a margin", () => {
      const env = (tf: TfJson) => Object.fromEntries(((resource(tf, "kubernetes_stateful_set_v1") as Obj).spec.template.spec.container.find((c: Obj) => c.name === "bootstrap").env as Obj[]).filter((e) => e.value).map((e) => [e.name, e.value]));
      expect(env(vault()).STOP_GRACE_MS).toBe("55000");
      expect(env(synthEnvironment(exampleEnv({ vault: { terminationGracePeriodSec: 20, preStopDelaySec: 5 } })).vault).STOP_GRACE_MS).toBe("15000");
    });

    it("lets the Vault service account review tokens of its own cluster (auth/in-cluster), nothing more", () => {
      const crb = resource(vault(), "kubernetes_cluster_role_binding_v1") as Obj;
      expect(crb.role_ref).toEqual({ api_group: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" });
      expect(crb.subject).toEqual([{ kind: "ServiceAccount", name: "vault", namespace: expect.stringMatching(/namespace/) }]);
    });

    it("uses the pinned default image of the distribution", () => {
      expect(container("vault").image).toBe("hashicorp/vault:2.1.1");
    });
  });

  describe("snapshot job", () => {
    const cron = () => resource(vault(), "kubernetes_cron_job_v1") as Obj;
    const jobPod = () => cron().spec.job_template.spec.template.spec as Obj;
    const env = () => Object.fromEntries((jobPod().container[0].env as Obj[]).map((e) => [e.name, e.value]));

    it("runs on the environment's schedule, never two at once, within a deadline", () => {
      expect(cron().spec).toMatchObject({ schedule: "0 */6 * * *", timezone: "Etc/UTC", concurrency_policy: "Forbid", starting_deadline_seconds: 600 });
      expect(cron().spec.job_template.spec).toMatchObject({ active_deadline_seconds: 3600, backoff_limit: 2 });
      const hourly = synthEnvironment(exampleEnv({ snapshots: { schedule: "15 * * * *" } })).vault;
      expect((resource(hourly, "kubernetes_cron_job_v1") as Obj).spec.schedule).toBe("15 * * * *");
    });

    it("runs the snapshot command from the bootstrap image with the alert's threshold at twice the schedule", () => {
      const c = jobPod().container[0] as Obj;
      expect(c.image).toBe("europe-docker.pkg.dev/acme-vault-example/vault/bootstrap:0.1.0");
      expect(c.command).toEqual(["/nodejs/bin/node", "/app/snapshot.js"]);
      expect(env()).toMatchObject({
        VAULT_ADDR: "https://vault-active.vault.svc:8200",
        VAULT_AUTH_PATH: "in-cluster",
        VAULT_ROLE: "snapshot",
        SNAPSHOT_MAX_AGE_SEC: String(2 * 6 * 3600),
        ENVIRONMENT: "example",
      });
      expect(env().SNAPSHOT_BUCKET).toMatch(/^\$\{data\.terraform_remote_state\..*snapshot-bucket.*\}$/);
      expect(JSON.stringify(jobPod())).not.toMatch(/VAULT_TOKEN|GOOGLE_APPLICATION_CREDENTIALS/);
    });

    it("has the same secure pod defaults as the Vault pods, on the dedicated pool", () => {
      const pod = jobPod();
      expect(pod.security_context).toMatchObject({ run_as_non_root: true, seccomp_profile: { type: "RuntimeDefault" } });
      expect(pod.container[0].security_context).toMatchObject({ allow_privilege_escalation: false, privileged: false, read_only_root_filesystem: true, run_as_non_root: true, capabilities: { drop: ["ALL"] } });
      expect(pod.container[0].resources.limits).toEqual({ cpu: "500m", memory: "192Mi" });
      expect(pod.node_selector).toEqual({ [VAULT_NODE_LABEL.key]: VAULT_NODE_LABEL.value });
      expect(pod.toleration).toEqual([{ key: VAULT_NODE_TAINT.key, operator: "Equal", value: VAULT_NODE_TAINT.value, effect: "NoSchedule" }]);
      expect(pod.restart_policy).toBe("Never");
    });

    it("has its own service account, bound to its own Google account, with no API token mounted", () => {
      const sa = resource(vault(), "kubernetes_service_account_v1", "snapshots") as Obj;
      expect(sa.metadata.name).toBe("vault-snapshot");
      expect(sa.metadata.annotations["iam.gke.io/gcp-service-account"]).toMatch(/^\$\{data\.terraform_remote_state\..*snapshot-account.*email\}$/);
      expect(sa.automount_service_account_token).toBe(false);
      expect(jobPod().service_account_name).toMatch(/vault-snapshot|snapshots_service-account/);
      expect(jobPod().automount_service_account_token).toBe(false);
    });

    it("logs in to Vault with a projected token for Vault's audience, and mounts only the CA of the TLS secret", () => {
      const volumes = Object.fromEntries((jobPod().volume as Obj[]).map((v) => [v.name, v]));
      expect(volumes["vault-token"].projected[0].sources[0].service_account_token).toEqual({ audience: "vault", expiration_seconds: 600, path: "token" });
      expect(volumes.ca.secret.items).toEqual([{ key: "ca.crt", path: "ca.crt" }]);
      expect(volumes.spool.empty_dir.size_limit).toBe("10Gi");
    });

    it("fails on a schedule it cannot read, or a retention shorter than two runs", () => {
      expect(() => exampleEnv({ snapshots: { schedule: "every day" } })).toThrow(/snapshots\.schedule: .*five fields/);
      expect(() => exampleEnv({ snapshots: { schedule: "0 0 * * 0", retentionDays: 7 } })).toThrow(/snapshots\.retentionDays: .*expire before the next two are taken/);
    });
  });

  describe("6. disruption budget", () => {
    it.each([[1, 0], [3, 1], [5, 2], [7, 3]])("allows floor((n-1)/2) unavailable: %i replicas -> %i", (n, expected) => {
      expect(maxUnavailableFor(n)).toBe(expected);
    });

    it("ships maxUnavailable 1 for 3 replicas and 2 for 5", () => {
      expect((resource(vault(), "kubernetes_pod_disruption_budget_v1") as Obj).spec.max_unavailable).toBe("1");
      const five = synthEnvironment(exampleEnv({ vault: { replicas: 5 }, nodePool: { nodesPerZone: 2 } })).vault;
      expect((resource(five, "kubernetes_pod_disruption_budget_v1") as Obj).spec.max_unavailable).toBe("2");
    });
  });

  describe("7. services", () => {
    it("selects the active pod, the standbys, all pods headless, and all ready pods", () => {
      expect(service("vault-active").spec.selector).toEqual({ ...VAULT_POD_LABELS, "vault-active": "true" });
      expect(service("vault-standby").spec.selector).toEqual({ ...VAULT_POD_LABELS, "vault-active": "false" });
      expect(service("vault-internal").spec).toMatchObject({ cluster_ip: "None", publish_not_ready_addresses: true, selector: VAULT_POD_LABELS });
      expect(service("vault").spec.selector).toEqual(VAULT_POD_LABELS);
    });
  });

  describe("8. exposure", () => {
    it("defaults to an internal passthrough load balancer on the active pod, with the reserved address and source ranges", () => {
      const lb = service("vault-lb");
      expect(lb.spec.type).toBe("LoadBalancer");
      expect(lb.spec.selector).toEqual({ ...VAULT_POD_LABELS, "vault-active": "true" });
      expect(lb.metadata.annotations["networking.gke.io/load-balancer-type"]).toBe("Internal");
      expect(lb.spec.load_balancer_source_ranges).toEqual(["10.0.0.0/8"]);
      expect(lb.spec.external_traffic_policy).toBe("Local");
      expect(lb.spec.load_balancer_ip).toMatch(/^\$\{data\.terraform_remote_state\..*lb-address.*address\}$/);
      expect(lb.spec.port).toEqual([{ name: "https", port: 8200, target_port: "8200", protocol: "TCP" }]);
      expect(resources(vault(), "kubernetes_ingress_v1")).toHaveLength(0);
    });

    it("is external with the backend-service NLB when internal is false, and global access is an option", () => {
      const ext = service("vault-lb", synthEnvironment(exampleEnv({ vault: { exposure: { internal: false, sourceRanges: ["203.0.113.0/24"] } } })).vault);
      expect(ext.metadata.annotations).toEqual({ "cloud.google.com/l4-rbs": "enabled" });
      const global = service("vault-lb", synthEnvironment(exampleEnv({ vault: { exposure: { globalAccess: true } } })).vault);
      expect(global.metadata.annotations["networking.gke.io/internal-load-balancer-allow-global-access"]).toBe("true");
    });

    it("offers ingress-nginx with TLS passthrough and forced HTTPS to vault-active", () => {
      const tf = synthEnvironment(exampleEnv({ vault: { exposure: { type: "ingress" } } }));
      const ingress = resource(tf.vault, "kubernetes_ingress_v1") as Obj;
      expect(ingress.metadata.annotations).toMatchObject({ "nginx.ingress.kubernetes.io/ssl-passthrough": "true", "nginx.ingress.kubernetes.io/force-ssl-redirect": "true" });
      expect(ingress.spec.rule[0].http.path[0].backend.service).toEqual({ name: "vault-active", port: { number: 8200 } });
      expect(service("vault-lb", tf.vault)).toBeUndefined();
      expect(resources(tf.platform, "google_compute_address")).toHaveLength(0);
    });

    it("offers a Gateway API TLSRoute in passthrough to vault-active", () => {
      const tf = synthEnvironment(exampleEnv({ vault: { exposure: { type: "gatewayTlsRoute", gateway: { name: "edge", namespace: "gateways" } } } }));
      const route = (resource(tf.vault, "kubernetes_manifest") as Obj).manifest;
      expect(route.kind).toBe("TLSRoute");
      expect(route.spec.rules[0].backendRefs).toEqual([{ name: "vault-active", port: 8200 }]);
      expect(route.spec.parentRefs).toEqual([{ name: "edge", namespace: "gateways" }]);
    });
  });

  describe("9. network policy", () => {
    const rules = (tf: TfJson = vault()) => (resource(tf, "kubernetes_network_policy_v1") as Obj).spec.ingress as Obj[];

    it("lets 8200 in only from the load balancer's ranges, the Vault namespace and allowed namespaces", () => {
      const api = rules().find((r) => r.ports[0].port === "8200") as Obj;
      expect(api.from).toEqual([{ pod_selector: { match_labels: {} } }, { ip_block: { cidr: "10.0.0.0/8" } }]);
      const withNs = rules(synthEnvironment(exampleEnv({ vault: { allowedNamespaces: ["ci"] } })).vault).find((r) => r.ports[0].port === "8200") as Obj;
      expect(withNs.from).toContainEqual({ namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "ci" } } });
    });

    it("lets 8200 in from the ingress controller's namespace with the ingress exposure", () => {
      const api = rules(synthEnvironment(exampleEnv({ vault: { exposure: { type: "ingress" } } })).vault).find((r) => r.ports[0].port === "8200") as Obj;
      expect(api.from).toContainEqual({ namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "ingress-nginx" } } });
      expect(api.from.some((f: Obj) => f.ip_block)).toBe(false);
    });

    it("lets 8201 in only from Vault servers", () => {
      const cluster = rules().find((r) => r.ports[0].port === "8201") as Obj;
      expect(cluster.from).toEqual([{ pod_selector: { match_labels: VAULT_POD_LABELS } }]);
    });
  });
});
