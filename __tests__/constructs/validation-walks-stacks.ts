// The walks of construct-validation-walk.test.ts whose throw the stacks never reach: each case trips the
// throw, says why no stack hands the construct such a value, and synthesizes the closest valid environment.
import { Testing } from "cdktf";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdminGcpAuth } from "../../constructs/admin-gcp-auth";
import { HardenedBucket } from "../../constructs/hardened-bucket";
import { applyRoleSettings } from "../../constructs/runner-auth";
import { renderVaultServerConfig } from "../../constructs/vault-server-config";
import { reloadingServerScript } from "../../constructs/vault-server-command";
import { VaultSnapshotJob } from "../../constructs/vault-snapshot-job";
import { TLS_RELOAD_CHECK_SEC } from "../../constructs/vault-stateful-set";
import { PlatformStack } from "../../stacks/platform-stack";
import { VaultStack } from "../../stacks/vault-stack";
import { vaultServerConfigProps } from "../../stacks/vault-server-settings";
import { exampleEnv, resource, resources, ROOT, synthEnvironment } from "../helpers";
import { applyRole, serverConfig, snapshotJob, stack, type WalkBy } from "./validation-walk-fixture";

export const STACK_GUARDED: WalkBy<"stacks">[] = [
  {
    file: "constructs/runner-auth.ts",
    throws: "applyServiceAccounts is empty",
    trip: () => applyRoleSettings({ ...applyRole, applyServiceAccounts: [] }),
    message: /applyServiceAccounts is empty/,
    unreachable: {
      by: "stacks",
      why: "the shared stack builds the runners' login only when delivery.applyServiceAccounts lists an account",
      show: () => expect(resources(synthEnvironment(exampleEnv({ delivery: { applyServiceAccounts: [] } })).shared, "vault_jwt_auth_backend")).toEqual([]),
    },
  },
  {
    file: "constructs/vault-snapshot-job.ts",
    throws: "maxAgeSec must be at least 60 seconds",
    trip: () => new VaultSnapshotJob(stack(), "j", { ...snapshotJob, maxAgeSec: 30 }),
    message: /maxAgeSec must be at least 60 seconds, got 30/,
    unreachable: {
      by: "stacks",
      why: "the vault stack passes twice the schedule's longest gap, and a cron schedule runs at most once a minute (an unparsable one is a schema error)",
      show: () => {
        const job = resource(synthEnvironment(exampleEnv({ snapshots: { schedule: "* * * * *" } })).vault, "kubernetes_cron_job_v1") as {
          spec: { job_template: { spec: { template: { spec: { container: { env: { name: string; value: string }[] }[] } } } } };
        };
        expect(job.spec.job_template.spec.template.spec.container[0].env).toContainEqual({ name: "SNAPSHOT_MAX_AGE_SEC", value: "120" });
      },
    },
  },
  {
    file: "constructs/admin-gcp-auth.ts",
    throws: "adminServiceAccounts is empty",
    trip: () => new AdminGcpAuth(stack(), "a", { adminServiceAccounts: [], breakGlassServiceAccounts: [], tokenTtlSec: 1800, tokenMaxTtlSec: 3600 }),
    message: /adminServiceAccounts is empty/,
    unreachable: {
      by: "stacks",
      why: "the shared stack builds GCP auth only when gcpAuth.adminServiceAccounts lists an account",
      show: () =>
        expect(
          resources(synthEnvironment(exampleEnv({ gcpAuth: { adminServiceAccounts: [], breakGlassServiceAccounts: [] } })).shared, "vault_gcp_auth_backend"),
        ).toEqual([]),
    },
  },
  {
    file: "constructs/hardened-bucket.ts",
    throws: "noncurrentRetentionDays must be a whole number",
    trip: () => new HardenedBucket(stack(), "b", { project: "p", name: "n", location: "EU", noncurrentRetentionDays: 0 }),
    message: /noncurrentRetentionDays must be a whole number of at least 1, got 0/,
    unreachable: {
      by: "stacks",
      why: "no stack sets noncurrentRetentionDays: the versioned storage bucket keeps the construct's default",
      show: () => {
        for (const f of readdirSync(join(ROOT, "stacks")))
          expect([f, readFileSync(join(ROOT, "stacks", f), "utf8").includes("noncurrentRetentionDays")]).toEqual([f, false]);
        const bucket = resource(synthEnvironment(exampleEnv({ vault: { storage: "gcs" } })).platform, "google_storage_bucket", "storage-bucket") as {
          lifecycle_rule: { condition: { days_since_noncurrent_time?: number } }[];
        };
        expect(bucket.lifecycle_rule[0].condition.days_since_noncurrent_time).toBe(30);
      },
    },
  },
  {
    file: "constructs/vault-server-config.ts",
    throws: "tlsCertFile and tlsKeyFile are required",
    trip: () => renderVaultServerConfig({ ...serverConfig, tlsCertFile: "", storage: { type: "gcs", bucket: "b" } }),
    message: /tlsCertFile and tlsKeyFile are required/,
    unreachable: {
      by: "stacks",
      why: "the vault stack always names the files of the mounted TLS secret (VAULT_PATHS.tls)",
      show: () => {
        for (const vault of [{}, { storage: "gcs" }, { distribution: "openbao", tls: { mode: "existingSecret", secretName: "s" } }]) {
          const props = vaultServerConfigProps(exampleEnv({ vault }));
          expect([props.tlsCertFile, props.tlsKeyFile]).toEqual(["/vault/tls/tls.crt", "/vault/tls/tls.key"]);
          expect(() => renderVaultServerConfig(props)).not.toThrow();
        }
      },
    },
  },
  {
    file: "stacks/vault-stack.ts",
    throws: "reserved no load balancer address",
    trip: () => {
      const app = Testing.app({ outdir: join(tmpdir(), "vault-gke-unused"), stackTraces: false });
      const platform = new PlatformStack(app, "p", { env: exampleEnv({ vault: { exposure: { type: "ingress" } } }) });
      return new VaultStack(app, "v", { env: exampleEnv(), platform, tenants: [] });
    },
    message: /the platform stack reserved no load balancer address/,
    unreachable: {
      by: "stacks",
      why: "both stacks read the one environment: the platform stack reserves the address exactly when vault.exposure.type is loadBalancer",
      show: () => {
        for (const internal of [true, false]) {
          const synth = synthEnvironment(exampleEnv({ vault: { exposure: { internal } } }));
          expect(resource(synth.platform, "google_compute_address", "lb-address")).toMatchObject({ address_type: internal ? "INTERNAL" : "EXTERNAL" });
          expect(resources(synth.vault, "kubernetes_service_v1").map(([name]) => name)).toContainEqual(expect.stringContaining("load-balancer"));
        }
      },
    },
  },
  {
    file: "constructs/vault-server-command.ts",
    throws: "name at least one file to watch",
    trip: () => reloadingServerScript({ binary: "vault", configFile: "/c", watchedFiles: [], intervalSec: 10 }),
    message: /reloadingServerScript: name at least one file to watch/,
    unreachable: {
      by: "stacks",
      why: "the StatefulSet always watches the TLS secret's three files (TLS_FILES) every TLS_RELOAD_CHECK_SEC seconds, constants no setting changes",
      show: () => expect(vaultCommand()).toContain("'/vault/tls/tls.crt' '/vault/tls/tls.key' '/vault/tls/ca.crt'"),
    },
  },
  {
    file: "constructs/vault-server-command.ts",
    throws: "intervalSec must be a whole number of seconds",
    trip: () => reloadingServerScript({ binary: "vault", configFile: "/c", watchedFiles: ["/t"], intervalSec: 0.5 }),
    message: /intervalSec must be a whole number of seconds, got 0.5/,
    unreachable: {
      by: "stacks",
      why: "the StatefulSet passes TLS_RELOAD_CHECK_SEC, a constant no setting changes",
      show: () => expect(vaultCommand()).toContain(`while sleep ${TLS_RELOAD_CHECK_SEC}; do`),
    },
  },
];

/** The Vault container's command script as the example environment's vault stack ships it. */
function vaultCommand(): string {
  const set = resource(synthEnvironment(exampleEnv()).vault, "kubernetes_stateful_set_v1") as {
    spec: { template: { spec: { container: { name: string; command: string[] }[] } } };
  };
  return set.spec.template.spec.container.find((c) => c.name === "vault")!.command[2];
}
