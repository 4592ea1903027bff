// Vault itself: the distribution and image, its servers and their pods, TLS,
// how clients reach it, and the sidecar that initializes and configures it.
import { z } from "zod";
import { cidr, dnsLabel, dnsName, duration, kubernetesQuantity } from "./primitives";

export const tls = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Must stay true: TLS ends only at the Vault pods and no plaintext listener exists (default true)."),
    mode: z
      .enum(["generated", "existingSecret"])
      .default("generated")
      .describe(
        "generated: a CA and certificate made at apply time (keys live in the Terraform state); existingSecret: e.g. cert-manager (default generated).",
      ),
    secretName: z.string().optional().describe("Name of a kubernetes.io/tls secret with tls.crt, tls.key and ca.crt (existingSecret mode)."),
    validityDays: z.number().int().min(30).max(825).default(365).describe("Lifetime of the generated certificate, in days (default 365)."),
    minVersion: z.enum(["tls12", "tls13"]).default("tls12").describe("Oldest TLS version Vault accepts (default tls12)."),
    ca: z
      .strictObject({
        signing: z.number().int().min(1).default(1).describe("The CA generation that signs the server certificate (default 1)."),
        trusted: z
          .array(z.number().int().min(1))
          .min(1)
          .max(2)
          .default([1])
          .describe("The CA generations in ca.crt, which clients and Raft peers trust (default [1]); two while one replaces the other."),
      })
      .default({ signing: 1, trusted: [1] })
      .describe(
        "Generated mode: rotate the CA with no gap in trust, one apply per step: trust the next generation ([1, 2]), once clients have the new bundle sign with it (signing: 2), then drop the old one ([2]).",
      ),
  })
  .describe("TLS, which ends at the Vault pods and nowhere else.");

export const exposure = z
  .strictObject({
    type: z
      .enum(["loadBalancer", "ingress", "gatewayTlsRoute"])
      .default("loadBalancer")
      .describe(
        "loadBalancer: a GCP passthrough Network Load Balancer on vault-active (default); ingress: ingress-nginx with TLS passthrough (retired upstream in March 2026); gatewayTlsRoute: a Gateway API TLSRoute in passthrough mode.",
      ),
    internal: z.boolean().default(true).describe("Internal load balancer, reachable from the VPC and peers only (default true)."),
    sourceRanges: z
      .array(cidr)
      .min(1, { error: "list the client ranges allowed to reach Vault" })
      .describe("Client ranges allowed to reach Vault's API through the load balancer and the NetworkPolicy."),
    globalAccess: z.boolean().default(false).describe("Let clients in other regions reach the internal load balancer (default false)."),
    allowWorldAccess: z.boolean().default(false).describe("A public load balancer open to 0.0.0.0/0 needs this explicit switch (default false)."),
    ingress: z
      .strictObject({
        className: z.string().default("nginx").describe("The IngressClass (default nginx)."),
        controllerNamespace: dnsLabel("exposure.ingress.controllerNamespace")
          .default("ingress-nginx")
          .describe("The controller's namespace, whose pods may reach Vault's API (default ingress-nginx)."),
      })
      .prefault({})
      .describe("With type ingress: ingress-nginx running with --enable-ssl-passthrough."),
    gateway: z
      .strictObject({
        name: dnsLabel("exposure.gateway.name").describe("The Gateway's name."),
        namespace: dnsLabel("exposure.gateway.namespace").describe("The Gateway's namespace, whose pods may reach Vault's API."),
        sectionName: z.string().optional().describe("The Gateway listener (protocol TLS, mode Passthrough); any that accepts the route if left out."),
      })
      .optional()
      .describe("With type gatewayTlsRoute: a Gateway with a TLS passthrough listener."),
  })
  .describe("How clients outside the cluster reach Vault; TLS always passes through to the pods.");

export const vault = z
  .strictObject({
    distribution: z
      .enum(["vault", "openbao"])
      .default("vault")
      .describe("vault: HashiCorp Vault; openbao: the OpenBao fork. Decides audit device handling and storage choices (default vault)."),
    image: z
      .string()
      .regex(/^[^\s:@]+(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/, { error: "not an image reference; for example hashicorp/vault:2.1.1" })
      .optional()
      .describe("Container image, pinned exactly. Defaults to a current patched release of the distribution."),
    namespace: dnsLabel("vault.namespace").default("vault").describe("The Kubernetes namespace of the Vault servers (default vault)."),
    unauthenticatedMetrics: z
      .boolean()
      .default(false)
      .describe(
        "Serve Vault's own telemetry (/v1/sys/metrics) without a token, so Managed Prometheus scrapes it and the audit-failure alert and request charts have data. It is served on the API port, so every client that reaches the API can read it (request counts by path, tenant mount names): an explicit choice (default false: only the sidecar's metrics are scraped).",
      ),
    replicas: z.number().int().min(1).max(7).default(3).describe("Vault servers; odd with raft, at most zones x nodePool.nodesPerZone (default 3)."),
    storage: z
      .enum(["raft", "gcs"])
      .default("raft")
      .describe("raft: integrated storage on the pods' disks; gcs: a GCS bucket (HashiCorp Vault only) (default raft)."),
    seal: z
      .enum(["gcpckms", "shamir"])
      .default("gcpckms")
      .describe("gcpckms: auto-unseal with the KMS key (recovery keys); shamir: unseal keys (default gcpckms)."),
    keyShares: z.number().int().min(1).max(10).default(5).describe("Recovery or unseal key shares (default 5)."),
    keyThreshold: z.number().int().min(1).max(10).default(3).describe("Shares needed; at most keyShares (default 3)."),
    hostname: dnsName.describe("The public name clients use; it is in the certificate's SANs."),
    tls: tls.prefault({}),
    exposure,
    allowedNamespaces: z
      .array(dnsLabel("vault.allowedNamespaces[]"))
      .default([])
      .describe("Namespaces of the Vault cluster whose pods may reach Vault's API (default none)."),
    cpuRequest: kubernetesQuantity.default("500m").describe("CPU request of each Vault server (default 500m)."),
    memoryRequest: kubernetesQuantity.default("512Mi").describe("Memory request of each Vault server (default 512Mi)."),
    cpuLimit: kubernetesQuantity.default("2").describe("CPU limit of each Vault server (default 2)."),
    memoryLimit: kubernetesQuantity.default("1Gi").describe("Memory limit of each Vault server (default 1Gi)."),
    dataVolumeSizeGb: z.number().int().min(1).default(10).describe("Raft data disk per pod, in GB (default 10)."),
    auditVolumeSizeGb: z.number().int().min(1).default(10).describe("Audit log disk per pod, in GB (default 10)."),
    preStopDelaySec: z.number().int().min(0).max(60).default(5).describe("Delay before SIGTERM so load balancers stop sending traffic first (default 5)."),
    terminationGracePeriodSec: z
      .number()
      .int()
      .min(10)
      .max(600)
      .default(60)
      .describe("Time a stopping pod gets; covers the preStop delay plus 10 s for step-down (default 60)."),
    logLevel: z.enum(["trace", "debug", "info", "warn", "error"]).default("info").describe("Vault's log level (default info)."),
    ui: z.boolean().default(true).describe("Serve Vault's web UI (default true)."),
  })
  .describe("The Vault servers.");

export const bootstrap = z
  .strictObject({
    image: z.string().min(1).describe("The sidecar image built from agent/Dockerfile, pinned exactly."),
    planTokenPeriod: duration
      .prefault("1h")
      .describe("Period of the read-only plan token the sidecar keeps in Secret Manager for runners' plans; it renews it (default 1h)."),
    revokeRootToken: z
      .boolean()
      .default(true)
      .describe("Revoke the root token once bootstrap is done (generate-root brings a short-lived one back when needed) (default true)."),
  })
  .describe("The sidecar that initializes and configures Vault.");
