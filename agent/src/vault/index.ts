// The agent's Vault HTTP client as root commands and tests reach it (`@vault-gke/agent/vault`).
export { VaultClient, VaultError, type Health, type InitResponse, type TokenInfo } from "./client";
export { generateRoot } from "./generate-root";
export { SnapshotVault } from "./snapshot-api";
