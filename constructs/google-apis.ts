import { ProjectService } from "@cdktf/provider-google/lib/project-service";
import { Construct } from "constructs";

export interface GoogleApisProps {
  readonly project: string;
  /**
   * APIs to enable.
   * @default the APIs a private GKE cluster with KMS, Secret Manager and Workload Identity needs
   */
  readonly services?: readonly string[];
}

const DEFAULT_SERVICES = [
  "compute.googleapis.com",
  "container.googleapis.com",
  "cloudkms.googleapis.com",
  "secretmanager.googleapis.com",
  "iam.googleapis.com",
  "iamcredentials.googleapis.com",
  "storage.googleapis.com",
  "logging.googleapis.com",
  "monitoring.googleapis.com",
];

/** Enables the Google APIs the platform needs; never disables them on destroy (other workloads may use them). */
export class GoogleApis extends Construct {
  readonly services: ProjectService[];

  constructor(scope: Construct, id: string, props: GoogleApisProps) {
    super(scope, id);
    this.services = (props.services ?? DEFAULT_SERVICES).map(
      (service) =>
        new ProjectService(this, service.split(".")[0], {
          project: props.project,
          service,
          disableOnDestroy: false,
          disableDependentServices: false,
        }),
    );
  }
}
