import { DataGoogleContainerCluster } from "@cdktf/provider-google/lib/data-google-container-cluster";
import { Construct } from "constructs";
import type { GkeClusterRef } from "./gke-cluster";

export interface ExistingGkeClusterProps {
  readonly project: string;
  readonly name: string;
  /** The cluster's region (regional) or zone (zonal). */
  readonly location: string;
}

/** Reads a cluster that Terraform does not manage, so the Vault pool and stack can attach to it. */
export class ExistingGkeCluster extends Construct implements GkeClusterRef {
  readonly name: string;
  readonly location: string;
  readonly endpoint: string;
  readonly caCertificate: string;

  constructor(scope: Construct, id: string, props: ExistingGkeClusterProps) {
    super(scope, id);
    const cluster = new DataGoogleContainerCluster(this, "cluster", {
      project: props.project,
      name: props.name,
      location: props.location,
    });
    this.name = props.name;
    this.location = props.location;
    this.endpoint = cluster.endpoint;
    this.caCertificate = cluster.masterAuth.get(0).clusterCaCertificate;
  }
}
