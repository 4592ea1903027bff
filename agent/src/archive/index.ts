// The snapshot archive in Cloud Storage as root commands reach it (`@vault-gke/agent/archive`).
export { SnapshotBucket, storageClient } from "./bucket";
