import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { APPLY_ROLE, AUTH_PATHS, DEFAULT_TOKEN_AUDIENCE, POLICY, SNAPSHOT_KSA, SNAPSHOT_ROLE } from "../contract/vault-names";
import { vaultAddress } from "../config/names";
import { APPLY_TOKEN_MAX_TTL_SEC, type EnvironmentConfig } from "../config/schema";
import { AdminGcpAuth } from "../constructs/admin-gcp-auth";
import { InClusterAuth } from "../constructs/in-cluster-auth";
import { RaftAutopilot } from "@cdktf/provider-vault/lib/raft-autopilot";
import { KubernetesAuthBackend } from "../constructs/kubernetes-auth-backend";
import { RunnerAuth } from "../constructs/runner-auth";
import { TokenReviewer } from "../constructs/token-reviewer";
import { useGcsBackend } from "./backend";
import { googleProviderFor, kubernetesProviderFor } from "./cluster-providers";
import { vaultProviderFor } from "./vault-provider";

/**
 * Raft autopilot as the shared stack sets it (raft storage only), and as the
 * rolling upgrade (commands/rolling-upgrade.ts) relies on it. Autopilot never
 * removes a server: a pod that is away (being upgraded, its node drained) comes
 * back with its disk, and removing a peer is break-glass. A server counts as
 * healthy when the leader heard from it within 5 s (Vault's default is 10 s:
 * with the shipped performance_multiplier 1 a live follower is heard many
 * times a second, so a stopped one shows sooner, and the rolling upgrade's
 * health check before each restart sees it) and it trails by at most 1000 log
 * entries; a server must stay healthy 10 s before autopilot promotes it, and
 * the rolling upgrade waits as long after each restart before the next.
 */
export function raftAutopilotSettings(replicas: number) {
  return {
    cleanupDeadServers: false,
    lastContactThreshold: "5s",
    maxTrailingLogs: 1000,
    serverStabilizationTime: "10s",
    // Only used with cleanupDeadServers; stated so that turning that on can never shrink the cluster below its pods.
    minQuorum: replicas,
  } as const;
}

export interface SharedStackProps {
  readonly env: EnvironmentConfig;
}

/**
 * What every tenant relies on, owned by the platform team and applied by an
 * admin (its changes enable auth methods and choose which API servers and CAs
 * Vault trusts, which the apply credential may never do): each registered
 * tenant cluster's Kubernetes auth backend and token reviewer, Vault's own
 * cluster backend for platform jobs, the runners' login for approved applies,
 * GCP auth for admins and break-glass, and Raft autopilot's settings
 * (raftAutopilotSettings). Tenant stacks only name these.
 */
export class SharedStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: SharedStackProps) {
    super(scope, id);
    const { env } = props;
    useGcsBackend(this, env, id);
    googleProviderFor(this, env.project, env.region);
    vaultProviderFor(this, env, `vault-gke-${id}`);

    for (const c of env.tenancy.clusters) {
      // The runner's (an admin's) Google identity reaches the tenant cluster to create the reviewer there.
      const provider = kubernetesProviderFor(this, `k8s-${c.name}`, { host: c.apiServerUrl, caCertificatePem: c.caCertificate }, c.name);
      const reviewer = new TokenReviewer(this, `reviewer-${c.name}`, { provider });
      // A fixed id (today's mount path): the Terraform address stays put if kubernetesAuthPath() changes.
      new KubernetesAuthBackend(this, `kubernetes-${c.name}`, {
        clusterName: c.name,
        apiServerUrl: c.apiServerUrl,
        caCertificatePem: c.caCertificate,
        reviewerJwt: reviewer.jwt,
        maxTokenTtlSec: env.tenancy.maxTokenTtl,
      });
    }

    // A fixed id (today's mount path): the Terraform address stays put if AUTH_PATHS.inCluster changes.
    new InClusterAuth(this, "in-cluster", {
      path: AUTH_PATHS.inCluster,
      audience: DEFAULT_TOKEN_AUDIENCE,
      roles: [{ name: SNAPSHOT_ROLE, serviceAccount: SNAPSHOT_KSA, namespace: env.vault.namespace, policies: [POLICY.snapshot] }],
    });

    if (env.delivery.applyServiceAccounts.length > 0) {
      // A fixed id (today's mount path): the Terraform address stays put if AUTH_PATHS.runner changes.
      new RunnerAuth(this, "runner", {
        path: AUTH_PATHS.runner,
        roleName: APPLY_ROLE,
        applyServiceAccounts: env.delivery.applyServiceAccounts,
        issuer: env.delivery.runnerIssuer,
        audience: vaultAddress(env),
        policy: POLICY.provisioner,
        ttlSec: env.delivery.applyTokenTtl,
        maxTtlSec: APPLY_TOKEN_MAX_TTL_SEC,
      });
    }

    // A fixed id: its Terraform address stays put.
    if (env.vault.storage === "raft") new RaftAutopilot(this, "raft-autopilot", raftAutopilotSettings(env.vault.replicas));

    // OpenBao ships no GCP auth plugin: there admins log in with generate-root or an operator's own method (README).
    if (env.vault.distribution === "vault" && env.gcpAuth.adminServiceAccounts.length > 0) {
      new AdminGcpAuth(this, "admin-gcp-auth", {
        adminServiceAccounts: env.gcpAuth.adminServiceAccounts,
        breakGlassServiceAccounts: env.gcpAuth.breakGlassServiceAccounts,
        tokenTtlSec: env.gcpAuth.tokenTtl,
        tokenMaxTtlSec: env.gcpAuth.tokenMaxTtl,
        policy: POLICY.admin,
        breakGlassPolicy: POLICY.breakGlass,
      });
    }
  }
}
