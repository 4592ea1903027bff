// The vault stack's state, namespace, service registration, server configuration, TLS, disruption budget, services,
// exposure and network policy; its pods (StatefulSet, snapshot job) are in vault-stack-pods.test.ts.
import { parse as parseHcl } from "./hcl-lines";
import { container, podSpec, serverConfig, service, synthExampleOnce, vault, type Obj } from "./vault-stack-fixture";
import { maxUnavailableFor } from "../../constructs/vault-disruption-budget";
import { VAULT_POD_LABELS } from "../../constructs/vault-naming";
import { exampleEnv, resource, resources, synthEnvironment, withoutMetadata, type TfJson } from "../helpers";

synthExampleOnce();

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
      expect(role.rule).toEqual([
        { api_groups: [""], resources: ["pods"], resource_names: ["vault-0", "vault-1", "vault-2"], verbs: ["get", "update", "patch"] },
      ]);
      const binding = resource(vault(), "kubernetes_role_binding_v1") as Obj;
      expect(binding.subject).toEqual([
        {
          kind: "ServiceAccount",
          name: "vault",
          namespace: expect.stringMatching(/^\$\{kubernetes_namespace_v1\.namespace_[0-9A-F]+\.metadata\[0\]\.name\}$/),
        },
      ]);
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
      const [shell, flag, script] = container("vault", bao).command as string[];
      expect([shell, flag]).toEqual(["/bin/sh", "-c"]);
      expect(script).toContain(`'bao' server '-config=/vault/config/vault.hcl' &`);
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
      expect(serverConfig()).toMatch(
        /seal "gcpckms" \{\n  project = "acme-vault-example"\n  region = "europe-west1"\n  key_ring = "example-vault"\n  crypto_key = "vault-unseal"\n\}/,
      );
    });

    it("has no seal stanza with Shamir", () => {
      expect(serverConfig(synthEnvironment(exampleEnv({ vault: { seal: "shamir" } })).vault)).not.toContain('seal "');
    });

    it("renders GCS storage with HA for HashiCorp Vault, and the platform grants the bucket", () => {
      const gcs = synthEnvironment(exampleEnv({ vault: { storage: "gcs" } }));
      expect(serverConfig(gcs.vault)).toMatch(/storage "gcs" \{\n  bucket = "\$\{data\.terraform_remote_state.*\}"\n  ha_enabled = "true"\n\}/);
      expect(
        resources(gcs.platform, "google_storage_bucket_iam_member")
          .map(([n]) => n)
          .some((n) => n.includes("storage")),
      ).toBe(true);
    });

    it("declares audit devices in the configuration for OpenBao only", () => {
      expect(serverConfig()).not.toContain('audit "');
      const bao = serverConfig(synthEnvironment(exampleEnv({ vault: { distribution: "openbao" } })).vault);
      expect(bao).toContain('audit "file" "file"');
      expect(bao).toContain('file_path = "/vault/audit/audit.log"');
    });

    it("makes OpenBao's standbys forward reads, so every client reads its own writes; Vault has no such setting", () => {
      expect(serverConfig(synthEnvironment(exampleEnv({ vault: { distribution: "openbao" } })).vault)).toMatch(/^disable_standby_reads = true$/m);
      expect(serverConfig()).not.toContain("disable_standby_reads");
    });
  });

  describe("4. TLS", () => {
    it("generates a CA and a server certificate whose SANs cover services, pods, hostname and loopback", () => {
      const csr = resource(vault(), "tls_cert_request") as Obj;
      expect(csr.dns_names).toEqual(
        expect.arrayContaining([
          "vault.example.acme.dev",
          "vault-active.vault.svc",
          "vault-standby.vault.svc.cluster.local",
          "vault.vault.svc.cluster.local",
          "vault-0.vault-internal.vault.svc.cluster.local",
          "vault-2.vault-internal",
        ]),
      );
      expect(csr.dns_names).toEqual(expect.arrayContaining(["vault-lb", "vault-lb.vault.svc", "vault-lb.vault.svc.cluster.local"]));
      // The load balancer's reserved address, for clients that connect by IP.
      expect(csr.ip_addresses).toEqual(["127.0.0.1", "::1", expect.stringMatching(/google_compute_addresslb-addressaddress/)]);
      expect((resource(vault(), "tls_self_signed_cert") as Obj).is_ca_certificate).toBe(true);
      const secret = resource(vault(), "kubernetes_secret_v1") as Obj;
      expect(secret.type).toBe("kubernetes.io/tls");
      expect(Object.keys(secret.data).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
    });

    it("names no load balancer address when clients come through a route instead", () => {
      const routed = synthEnvironment(exampleEnv({ vault: { exposure: { type: "gatewayTlsRoute", gateway: { name: "edge", namespace: "gateways" } } } })).vault;
      expect((resource(routed, "tls_cert_request") as Obj).ip_addresses).toEqual(["127.0.0.1", "::1"]);
    });

    it("renews the server certificate on any apply in its last 30 days, and never replaces a CA on its own", () => {
      const cert = resource(vault(), "tls_locally_signed_cert") as Obj;
      expect(cert.early_renewal_hours).toBe(30 * 24);
      expect(cert.validity_period_hours).toBe(365 * 24);
      const cas = resources(vault(), "tls_self_signed_cert");
      expect(cas).toHaveLength(1);
      expect(cas.map(([, ca]) => (ca as Obj).early_renewal_hours)).toEqual([0]);
    });

    it("rotates the CA in three applies with both CAs trusted in between", () => {
      const step = (ca: { signing: number; trusted: number[] }) => synthEnvironment(exampleEnv({ vault: { tls: { ca } } })).vault;
      const caNames = (tf: Obj) => resources(tf, "tls_self_signed_cert").map(([name]) => name);
      const bundle = (tf: Obj) => (resource(tf, "kubernetes_secret_v1") as Obj).data["ca.crt"] as string;
      const signer = (tf: Obj) => (resource(tf, "tls_locally_signed_cert") as Obj).ca_cert_pem as string;

      const trustBoth = step({ signing: 1, trusted: [1, 2] });
      expect(caNames(trustBoth).sort()).toEqual([expect.stringMatching(/^tls_ca-g2_/), expect.stringMatching(/^tls_ca_[0-9A-F]+$/)]);
      expect(bundle(trustBoth)).toMatch(/tls_ca_[0-9A-F]+\.cert_pem.*tls_ca-g2_[0-9A-F]+\.cert_pem/);
      expect(signer(trustBoth)).toMatch(/tls_ca_[0-9A-F]+\.cert_pem/);

      const signNew = step({ signing: 2, trusted: [1, 2] });
      expect(bundle(signNew)).toBe(bundle(trustBoth));
      expect(signer(signNew)).toMatch(/tls_ca-g2_[0-9A-F]+\.cert_pem/);

      const dropOld = step({ signing: 2, trusted: [2] });
      expect(caNames(dropOld)).toEqual([expect.stringMatching(/^tls_ca-g2_/)]);
      expect(bundle(dropOld)).not.toMatch(/tls_ca_[0-9A-F]+\.cert_pem/);
      // Generation 1 keeps the address it always had: an existing CA is not replaced by this change.
      expect(caNames(trustBoth)).toContain(caNames(vault())[0]);
    });

    it("mounts an existing secret instead, creating no key", () => {
      const existing = synthEnvironment(exampleEnv({ vault: { tls: { mode: "existingSecret", secretName: "vault-cert-manager" } } })).vault;
      expect(resources(existing, "tls_private_key")).toHaveLength(0);
      expect((podSpec(existing).volume as Obj[]).find((v) => v.name === "tls")?.secret.secret_name).toBe("vault-cert-manager");
    });
  });

  describe("6. disruption budget", () => {
    it.each([
      [1, 0],
      [3, 1],
      [5, 2],
      [7, 3],
    ])("allows floor((n-1)/2) unavailable: %i replicas -> %i", (n, expected) => {
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
      expect(ingress.metadata.annotations).toMatchObject({
        "nginx.ingress.kubernetes.io/ssl-passthrough": "true",
        "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
      });
      expect(ingress.spec.rule[0].http.path[0].backend.service).toEqual({ name: "vault-active", port: { number: 8200 } });
      expect(service("vault-lb", tf.vault)).toBeUndefined();
      expect(resources(tf.platform, "google_compute_address")).toHaveLength(0);
    });

    it("offers a Gateway API TLSRoute in passthrough to vault-active", () => {
      const tf = synthEnvironment(exampleEnv({ vault: { exposure: { type: "gatewayTlsRoute", gateway: { name: "edge", namespace: "gateways" } } } }));
      const route = (resource(tf.vault, "kubernetes_manifest", "tls-route") as Obj).manifest;
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

    it("lets the sidecar's 8210 in only from Managed Prometheus' collectors, and 8200 too only when Vault's telemetry is scraped", () => {
      const scrapeRule = (tf?: TfJson) => rules(tf).filter((r) => r.ports.some((p: Obj) => p.port === "8210"));
      expect(scrapeRule()).toHaveLength(1);
      expect(scrapeRule()[0].ports).toEqual([{ port: "8210", protocol: "TCP" }]);
      // One peer with both selectors: collector pods of gmp-system, not every pod there nor every collector.
      expect(scrapeRule()[0].from).toEqual([
        {
          namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "gmp-system" } },
          pod_selector: { match_labels: { "app.kubernetes.io/name": "collector" } },
        },
      ]);
      const opted = synthEnvironment(exampleEnv({ vault: { unauthenticatedMetrics: true } })).vault;
      expect(scrapeRule(opted)[0].ports).toEqual([
        { port: "8210", protocol: "TCP" },
        { port: "8200", protocol: "TCP" },
      ]);
    });
  });

  describe("10. scraping", () => {
    const podMonitoring = (tf: TfJson = vault()) => (resource(tf, "kubernetes_manifest", "pod-monitoring") as Obj).manifest as Obj;

    it("declares a PodMonitoring for the Vault pods in the Vault namespace", () => {
      const pm = podMonitoring();
      expect(pm.apiVersion).toBe("monitoring.googleapis.com/v1");
      expect(pm.kind).toBe("PodMonitoring");
      expect(pm.metadata).toEqual({ name: "vault", namespace: expect.stringMatching(/kubernetes_namespace_v1/) });
      expect(pm.spec.selector).toEqual({ matchLabels: VAULT_POD_LABELS });
    });

    it("scrapes the sidecar's /metrics, and no Vault telemetry by default: it would need a token", () => {
      expect(podMonitoring().spec.endpoints).toEqual([{ port: 8210, scheme: "http", path: "/metrics", interval: "30s" }]);
      expect(serverConfig()).toMatch(/listener "tcp" \{[^]*telemetry \{\n    unauthenticated_metrics_access = false\n  \}/);
    });

    it("with vault.unauthenticatedMetrics (an explicit choice), serves Vault's telemetry without a token and scrapes it over TLS in the Prometheus format", () => {
      const opted = synthEnvironment(exampleEnv({ vault: { unauthenticatedMetrics: true } })).vault;
      const [telemetry, sidecar] = podMonitoring(opted).spec.endpoints as Obj[];
      expect(telemetry).toEqual({
        port: 8200,
        scheme: "https",
        path: "/v1/sys/metrics",
        params: { format: ["prometheus"] },
        interval: "30s",
        tls: { insecureSkipVerify: true },
      });
      expect(sidecar).toEqual({ port: 8210, scheme: "http", path: "/metrics", interval: "30s" });
      const hcl = serverConfig(opted);
      expect(hcl).toMatch(/listener "tcp" \{[^]*telemetry \{\n    unauthenticated_metrics_access = true\n  \}/);
      // Long enough for the 10-minute usage gauges and a one-off leadership-loss count to stay on the charts.
      expect(hcl).toContain('prometheus_retention_time = "24h"');
    });
  });
});
