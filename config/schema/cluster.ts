// Where Vault runs: a dedicated GKE cluster the platform stack creates, or an
// existing one it attaches to, and the dedicated node pool Vault gets in it.
import { z } from "zod";
import { cidr, dnsLabel } from "./primitives";

export const clusterCreate = z.strictObject({
  mode: z.literal("create").describe("Create a dedicated GKE cluster (with its VPC, subnet, NAT) for Vault."),
  name: dnsLabel("cluster.name", 40).describe("The cluster's name; its VPC and subnet are named after it."),
  releaseChannel: z.enum(["RAPID", "REGULAR", "STABLE"]).default("REGULAR").describe("GKE release channel (default REGULAR)."),
  masterIpv4CidrBlock: cidr
    .default("172.16.0.0/28")
    .describe("The /28 the private control plane uses; it must not overlap the network ranges (default 172.16.0.0/28)."),
  masterAuthorizedNetworks: z
    .array(
      z.strictObject({
        cidrBlock: cidr.describe("A range that may reach the control plane."),
        displayName: z.string().min(1).describe("What the range is (atlantis, ci, admins)."),
      }),
    )
    .min(1, { error: "list at least one network that may reach the control plane (the runner of Atlantis or CI)" })
    .describe("Who may reach the control plane (Atlantis, CI, admins)."),
  network: z
    .strictObject({
      subnetCidr: cidr.default("10.10.0.0/20").describe("The nodes' subnet (default 10.10.0.0/20)."),
      podsCidr: cidr.default("10.20.0.0/16").describe("The pods' secondary range (default 10.20.0.0/16)."),
      servicesCidr: cidr.default("10.30.0.0/20").describe("The services' secondary range (default 10.30.0.0/20)."),
    })
    .prefault({})
    .describe("Ranges of the VPC created for the cluster; none may overlap another or the control plane's."),
  deletionProtection: z.boolean().default(true).describe("Keep Terraform from deleting the cluster; turning it off takes this explicit switch (default true)."),
});

export const clusterExisting = z.strictObject({
  mode: z.literal("existing").describe("Attach to a cluster that already exists; the Vault node pool is added to it."),
  name: dnsLabel("cluster.name", 40).describe("The existing cluster's name."),
  location: z.string().min(1).describe("The cluster's location: a region for regional clusters."),
  subnetwork: z.string().min(1).describe("The subnetwork in which the internal load balancer takes its address."),
  sharedProjectAcknowledged: z
    .boolean()
    .default(false)
    .describe(
      "Workload Identity's pool is project-wide: a vault/vault service account in ANY cluster of this project acts as Vault's Google identity (keys, secrets). Attaching to a cluster in a project other clusters share needs this switch (README) (default false).",
    ),
});

export const cluster = z
  .discriminatedUnion("mode", [clusterCreate, clusterExisting], {
    error: "cluster.mode must be 'create' (a dedicated cluster) or 'existing' (attach to one)",
  })
  .describe("The GKE cluster Vault runs in: mode create (a dedicated one) or existing (attach to one).");

export const nodePool = z
  .strictObject({
    machineType: z.string().default("n2-standard-2").describe("Machine type of the Vault nodes (default n2-standard-2)."),
    nodesPerZone: z.number().int().min(1).max(10).default(1).describe("Nodes per zone; Vault runs one server per node (default 1)."),
    diskSizeGb: z.number().int().min(20).max(1000).default(50).describe("Boot disk size of each node, in GB (default 50)."),
    diskType: z.enum(["pd-balanced", "pd-ssd", "pd-standard"]).default("pd-balanced").describe("Boot disk type of each node (default pd-balanced)."),
  })
  .describe("The dedicated Vault node pool: tainted so that only Vault runs on it, spread over the zones.");
