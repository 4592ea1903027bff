// The verifier as the root commands and tests reach it (`@vault-gke/agent/verify`):
// read what Vault holds, render tenant policies, compare with what is declared.
export { readInventory, type VaultInventory } from "./inventory";
export { planTenantPolicies, type TenantPolicyPlan } from "./tenant-policies";
export { verify, type Finding, type FindingKind } from "./verifier";
