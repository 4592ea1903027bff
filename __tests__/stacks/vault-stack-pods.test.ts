// The vault stack's pods: the Vault StatefulSet with its bootstrap sidecar, and the snapshot CronJob.
import { container, podSpec, sts, synth, synthExampleOnce, vault, type Obj } from "./vault-stack-fixture";
import { VAULT_NODE_LABEL, VAULT_NODE_TAINT } from "../../constructs/vault-node-pool";
import { VAULT_POD_LABELS } from "../../constructs/vault-naming";
import { exampleEnv, resource, synthEnvironment, type TfJson } from "../helpers";

synthExampleOnce();

describe("vault stack", () => {
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
      expect((resource(synth.platform, "google_container_node_pool") as Obj).node_config.taint[0]).toEqual({
        key: VAULT_NODE_TAINT.key,
        value: VAULT_NODE_TAINT.value,
        effect: "NO_SCHEDULE",
      });
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
      expect(declared.authMounts.map((m: Obj) => `${m.path}:${m.type}`)).toEqual([
        "token:token",
        "kubernetes-apps-prod:kubernetes",
        "in-cluster:kubernetes",
        "runner:jwt",
        "gcp:gcp",
      ]);
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
      const env = (tf: TfJson) =>
        Object.fromEntries(
          ((resource(tf, "kubernetes_stateful_set_v1") as Obj).spec.template.spec.container.find((c: Obj) => c.name === "bootstrap").env as Obj[])
            .filter((e) => e.value)
            .map((e) => [e.name, e.value]),
        );
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
      expect(pod.container[0].security_context).toMatchObject({
        allow_privilege_escalation: false,
        privileged: false,
        read_only_root_filesystem: true,
        run_as_non_root: true,
        capabilities: { drop: ["ALL"] },
      });
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
      expect(() => exampleEnv({ snapshots: { schedule: "0 0 * * 0", retentionDays: 7 } })).toThrow(
        /snapshots\.retentionDays: .*expire before the next two are taken/,
      );
    });
  });
});
