// A stand-in for Google's ID token issuer: RS256 JWTs with the claims Google
// puts in a service account's ID token (iss accounts.google.com, aud, azp,
// sub, email, email_verified, iat, exp), signed by a key made for the test.
// Vault's JWT auth is configured with this key (jwt_validation_pubkeys)
// instead of Google's discovery document and JWKS: key rotation, discovery and
// the IAM Credentials API that mints real tokens are not emulated.
import { createSign, generateKeyPairSync, randomBytes } from "node:crypto";

export interface IdTokenClaims {
  readonly email: string;
  readonly audience: string;
  /** @default 3600 (Google's ID tokens live an hour) */
  readonly ttlSec?: number;
  /** @default https://accounts.google.com */
  readonly issuer?: string;
  /** The key id in the header (the JWKS of an issuer stand-in names its key); default a random one. */
  readonly keyId?: string;
}

const b64url = (value: Buffer | string) => Buffer.from(value).toString("base64url");

export class GoogleIdTokenIssuer {
  /** PKCS#8 PEM; the gcloud stand-in signs with it too (support/gcloud-stand-in.ts). */
  readonly privateKey: string;
  readonly publicKeyPem: string;

  constructor() {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.privateKey = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    this.publicKeyPem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
  }

  issue(claims: IdTokenClaims): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "RS256", typ: "JWT", kid: claims.keyId ?? randomBytes(8).toString("hex") };
    const payload = {
      iss: claims.issuer ?? "https://accounts.google.com",
      aud: claims.audience,
      azp: claims.email,
      sub: String(BigInt(`0x${randomBytes(8).toString("hex")}`)),
      email: claims.email,
      email_verified: true,
      iat: now,
      exp: now + (claims.ttlSec ?? 3600),
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const signature = createSign("RSA-SHA256").update(input).sign(this.privateKey);
    return `${input}.${b64url(signature)}`;
  }
}
