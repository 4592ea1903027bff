// setupFiles of the jest project integration-vault: its servers run HashiCorp Vault (support/bao.ts).
process.env.VAULT_GKE_TEST_DISTRIBUTION = "vault";
