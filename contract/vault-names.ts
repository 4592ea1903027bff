// Names inside Vault that the stacks write and the agent (sidecar, snapshot,
// restore, verifier) relies on: auth mounts, roles and the policies vault-gke owns.

/** Auth mounts the stacks declare (besides kubernetes-<cluster>); the verifier flags any other. */
export const AUTH_PATHS = {
  /** Runners (Atlantis after approval, the protected deploy job) log in here with a Google-signed ID token. */
  runner: "runner",
  /** Vault's own cluster: the snapshot job logs in here. */
  inCluster: "in-cluster",
  /** Admins and break-glass, with their Google service accounts (HashiCorp Vault; OpenBao ships no GCP plugin). */
  gcp: "gcp",
} as const;

/** The Kubernetes auth backend of a registered tenant cluster. */
export function kubernetesAuthPath(cluster: string): string {
  return `kubernetes-${cluster}`;
}

/** The roles of the gcp auth backend (auth/gcp): everyday admins, and break-glass. */
export const GCP_AUTH_ROLE = {
  admin: "admin",
  breakGlass: "break-glass",
} as const;

/** Policies the sidecar writes from policies/ (tenant-* policies are rendered by the sidecar from each tenant's engines). */
export const POLICY = {
  admin: "admin",
  breakGlass: "break-glass",
  provisioner: "provisioner",
  plan: "vault-gke-plan",
  sidecar: "vault-gke-sidecar",
  generateRoot: "generate-root",
  snapshot: "snapshot",
} as const;

/** The login role of the apply credential on the runner backend. */
export const APPLY_ROLE = "provisioner";
/** The role and Kubernetes service account of the snapshot job (issue: disaster recovery). */
export const SNAPSHOT_ROLE = "snapshot";
export const SNAPSHOT_KSA = "vault-snapshot";
/** Audience of the Kubernetes service account tokens Vault accepts, unless a tenant file says otherwise. */
export const DEFAULT_TOKEN_AUDIENCE = "vault";
/** The OIDC issuer the runners' login (auth/runner) trusts unless delivery.runnerIssuer names another: Google signs service accounts' ID tokens. */
export const GOOGLE_ISSUER = "https://accounts.google.com";

/** The API server as Vault's own pods reach it: auth/in-cluster reviews the snapshot job's tokens there. */
export const IN_CLUSTER_API_SERVER = "https://kubernetes.default.svc";
