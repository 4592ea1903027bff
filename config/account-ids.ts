// How a Google service account appears in construct ids, and so in Terraform
// addresses (RunnerGrants, VaultServiceAccount). Pure: the config schema uses
// it too, to refuse account lists that would give two resources one address.

/** The email with every run of characters other than letters and digits turned into '-'. */
export function accountIdPart(email: string): string {
  return email.replace(/[^a-z0-9]+/gi, "-");
}
