// An OIDC issuer stand-in on loopback HTTPS: the discovery document and the
// JWKS that Vault's JWT auth reads (auth/runner with delivery.runnerIssuer set
// to its URL), for ID tokens signed with a test key (the gcloud stand-in signs
// with it). Stands in for Google's accounts.google.com; not emulated: key
// rotation, caching headers, any endpoint but these two.
import { createPublicKey } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { makeTestPki } from "./pki";

/** The key id its JWKS gives the key: tokens it should accept name it. */
export const OIDC_STAND_IN_KEY_ID = "stand-in";

export interface OidcIssuer {
  /** https://127.0.0.1:<port>: the issuer (iss) and the discovery URL. */
  readonly url: string;
  /** The CA of its TLS certificate (PEM file). */
  readonly caFile: string;
  stop(): Promise<void>;
}

export async function startOidcIssuer(dir: string, privateKeyPem: string): Promise<OidcIssuer> {
  mkdirSync(dir, { recursive: true });
  const pki = makeTestPki(dir, ["localhost"]);
  const jwk = { ...createPublicKey(privateKeyPem).export({ format: "jwk" }), kid: OIDC_STAND_IN_KEY_ID, use: "sig", alg: "RS256" };
  let url = "";
  const server: Server = createServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) }, (req, res) => {
    const send = (body: unknown) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.url === "/.well-known/openid-configuration") {
      return send({
        issuer: url,
        jwks_uri: `${url}/jwks`,
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
      });
    }
    if (req.url === "/jwks") return send({ keys: [jwk] });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, caFile: pki.caCertFile, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
