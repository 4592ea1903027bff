import { ProjectIamAuditConfig } from "@cdktf/provider-google/lib/project-iam-audit-config";
import { Construct } from "constructs";

export interface DataAccessAuditProps {
  readonly project: string;
  /** Services whose reads and writes of data are logged. */
  readonly services: readonly string[];
}

/**
 * Data Access audit logs (reads and writes) for the services that hold Vault's
 * keys: every read of the init response in Secret Manager and every use of the
 * unseal key in Cloud KMS leaves a record in Cloud Logging.
 */
export class DataAccessAudit extends Construct {
  constructor(scope: Construct, id: string, props: DataAccessAuditProps) {
    super(scope, id);
    for (const service of props.services) {
      new ProjectIamAuditConfig(this, service.split(".")[0], {
        project: props.project,
        service,
        auditLogConfig: [{ logType: "DATA_READ" }, { logType: "DATA_WRITE" }, { logType: "ADMIN_READ" }],
      });
    }
  }
}
