// A short-lived root token from the stored key shares (generate-root with a
// one-time password), for the rare tasks that need root after the initial
// root token was revoked. The caller revokes it when done.
import type { VaultClient } from "./client";

/** Vault returns the root token XORed with the OTP, base64-encoded. */
export function decodeRootToken(encodedToken: string, otp: string): string {
  const encoded = Buffer.from(encodedToken, "base64");
  const pad = Buffer.from(otp, "utf8");
  if (encoded.length !== pad.length) throw new Error(`generate-root returned ${encoded.length} bytes for a ${pad.length}-byte one-time password`);
  return Buffer.from(encoded.map((b, i) => b ^ pad[i])).toString("utf8");
}

/** `authToken`: a token with the generate-root policy, for OpenBao's authenticated endpoints. */
export async function generateRoot(vault: VaultClient, shares: readonly string[], threshold: number, authToken?: string): Promise<string> {
  const ep = await vault.generateRootEndpoint(authToken);
  // A crashed earlier attempt would block a new one; its nonce is useless without our OTP.
  const status = await vault.generateRootStatus(ep);
  if (status.started) await vault.generateRootCancel(ep);
  const { nonce, otp } = await vault.generateRootStart(ep);
  for (const share of shares.slice(0, threshold)) {
    const step = await vault.generateRootUpdate(ep, nonce, share);
    if (step.complete) return decodeRootToken(step.encodedToken, otp);
  }
  await vault.generateRootCancel(ep).catch(() => undefined);
  throw new Error(`generate-root did not complete with ${Math.min(shares.length, threshold)} stored key shares; check KEY_THRESHOLD`);
}
