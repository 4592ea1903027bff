// The audit devices every Vault server has: one on the pod's audit disk, one on
// stdout for Cloud Logging. Two, so one failing device does not block
// requests (Vault refuses every request once no device can log). OpenBao reads
// them from the server configuration; on HashiCorp Vault the sidecar enables
// them through the API; the verifier reports any other device.

/** The audit disk's mount point in the Vault container. */
export const AUDIT_DIR = "/vault/audit";

export const AUDIT_DEVICES = [
  { path: "file", filePath: `${AUDIT_DIR}/audit.log` },
  { path: "stdout", filePath: "stdout" },
] as const;
