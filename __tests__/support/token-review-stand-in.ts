// A Kubernetes API server stand-in for Vault's/OpenBao's kubernetes auth
// method: it issues service account JWTs shaped like a kube-apiserver's
// projected tokens (RS256; iss, sub system:serviceaccount:<ns>:<name>, aud
// list, exp, iat, nbf, jti, kubernetes.io {namespace, serviceaccount {name,
// uid}}) and answers POST /apis/authentication.k8s.io/v1/tokenreviews over
// HTTPS as the API server does: authenticated only for a token it signed that
// is within its validity and whose aud intersects spec.audiences (or, when
// spec.audiences is empty, the API server's own audience); status.audiences is
// that intersection; status.user is {username, uid, groups, extra}. The
// caller must present a bearer token the stand-in signed for the API server's
// audience (the token_reviewer_jwt), or gets 401.
//
// What it does not emulate: RBAC (any authenticated caller may create
// TokenReviews; a real one needs system:auth-delegator), bound object
// references (pod/secret claims, and their deletion invalidating a token),
// revocation of any kind (a deleted or recreated service account), legacy
// secret-based tokens, clock-skew leeway, OIDC discovery/JWKS endpoints, and
// every other API (namespaces, so no namespace selectors on roles).
import { generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTestPki } from "./pki";

/** The API server's own audience and issuer (a kube-apiserver's defaults on most clusters). */
export const API_SERVER_AUDIENCE = "https://kubernetes.default.svc.cluster.local";
export const ISSUER = API_SERVER_AUDIENCE;
const REVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews";

export interface IssueOptions {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly audiences: readonly string[];
  /** Lifetime from now; zero or negative makes a token that has already expired. @default 3600 */
  readonly ttlSec?: number;
}

/** What one TokenReview asked and answered (for tests that check the audience Vault asks for). */
export interface ReviewRecord {
  readonly specAudiences: readonly string[];
  readonly authenticated: boolean;
  readonly statusAudiences: readonly string[];
  readonly username?: string;
  readonly error?: string;
}

export interface TokenReviewStandIn {
  /** https://127.0.0.1:<port>: Vault's kubernetes_host. */
  readonly url: string;
  /** The CA of the server's certificate: Vault's kubernetes_ca_cert. */
  readonly caPem: string;
  /** The issuer of the tokens: Vault's `issuer` setting. */
  readonly issuer: string;
  /** A service account JWT signed by this stand-in. */
  issue(options: IssueOptions): string;
  /** A token for the API server's own audience, for Vault's token_reviewer_jwt. */
  readonly reviewerJwt: string;
  readonly reviews: readonly ReviewRecord[];
  stop(): Promise<void>;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

interface Claims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  "kubernetes.io": { namespace: string; serviceaccount: { name: string; uid: string } };
}

function kubeStatus(code: number, reason: string, message: string) {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

/** Starts the stand-in on a free loopback port; stop() closes it and removes its certificate files. */
export async function startTokenReviewStandIn(): Promise<TokenReviewStandIn> {
  const dir = mkdtempSync(join(tmpdir(), "vault-gke-token-review-"));
  const pki = makeTestPki(dir, ["localhost", "kubernetes.default.svc"], ["127.0.0.1"]);
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = randomUUID();
  const uids = new Map<string, string>();
  const reviews: ReviewRecord[] = [];

  const issue = (options: IssueOptions): string => {
    const key = `${options.namespace}/${options.serviceAccount}`;
    if (!uids.has(key)) uids.set(key, randomUUID());
    const now = Math.floor(Date.now() / 1000);
    const ttl = options.ttlSec ?? 3600;
    const claims: Claims = {
      iss: ISSUER,
      sub: `system:serviceaccount:${options.namespace}:${options.serviceAccount}`,
      aud: [...options.audiences],
      exp: now + ttl,
      iat: Math.min(now, now + ttl - 1),
      nbf: Math.min(now, now + ttl - 1),
      jti: randomUUID(),
      "kubernetes.io": { namespace: options.namespace, serviceaccount: { name: options.serviceAccount, uid: uids.get(key) as string } },
    };
    const signingInput = `${b64url(JSON.stringify({ alg: "RS256", kid }))}.${b64url(JSON.stringify(claims))}`;
    return `${signingInput}.${b64url(sign("sha256", Buffer.from(signingInput), privateKey as KeyObject))}`;
  };

  /** The claims of a token this stand-in signed and that is valid now, or why not. */
  const authenticate = (token: string): { claims?: Claims; error?: string } => {
    const parts = token.split(".");
    if (parts.length !== 3) return { error: "invalid bearer token, token is not a JWT" };
    try {
      const header = JSON.parse(Buffer.from(parts[0], "base64url").toString()) as { alg?: string };
      if (header.alg !== "RS256") return { error: "invalid bearer token, unexpected signing algorithm" };
      if (!verify("sha256", Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], "base64url")))
        return { error: "invalid bearer token, square/go-jose: error in cryptographic primitive" };
      const claims = JSON.parse(Buffer.from(parts[1], "base64url").toString()) as Claims;
      const now = Math.floor(Date.now() / 1000);
      if (claims.iss !== ISSUER) return { error: "invalid bearer token, unknown issuer" };
      if (now >= claims.exp) return { error: "invalid bearer token, service account token has expired" };
      if (now < claims.nbf) return { error: "invalid bearer token, service account token is not valid yet" };
      return { claims };
    } catch {
      return { error: "invalid bearer token, malformed token" };
    }
  };

  const review = (spec: { token?: unknown; audiences?: unknown }) => {
    const wanted = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : [API_SERVER_AUDIENCE];
    const { claims, error } = authenticate(String(spec.token ?? ""));
    if (!claims) return { user: {}, error: `[${error}]` };
    const audiences = claims.aud.filter((a) => wanted.includes(a));
    if (audiences.length === 0) {
      return {
        user: {},
        error: `[invalid bearer token, token audiences ${JSON.stringify(claims.aud)} is invalid for the target audiences ${JSON.stringify(wanted)}]`,
      };
    }
    const { namespace, serviceaccount } = claims["kubernetes.io"];
    return {
      authenticated: true,
      user: {
        username: claims.sub,
        uid: serviceaccount.uid,
        groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
        extra: { "authentication.kubernetes.io/credential-id": [`JTI=${claims.jti}`] },
      },
      audiences,
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST" || req.url?.split("?")[0] !== REVIEW_PATH)
      return send(404, kubeStatus(404, "NotFound", "the server could not find the requested resource"));
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
    const caller = authenticate(bearer);
    if (!caller.claims || !caller.claims.aud.includes(API_SERVER_AUDIENCE)) return send(401, kubeStatus(401, "Unauthorized", "Unauthorized"));
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: { apiVersion?: string; kind?: string; spec?: { token?: unknown; audiences?: unknown } };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
    } catch {
      return send(400, kubeStatus(400, "BadRequest", "the request body is not JSON"));
    }
    if (body.kind !== "TokenReview" && body.kind !== undefined) return send(400, kubeStatus(400, "BadRequest", `expected kind TokenReview, got ${body.kind}`));
    const spec = body.spec ?? {};
    const status = review(spec);
    reviews.push({
      specAudiences: Array.isArray(spec.audiences) ? spec.audiences.map(String) : [],
      authenticated: status.authenticated === true,
      statusAudiences: status.audiences ?? [],
      username: (status.user as { username?: string }).username,
      error: status.error,
    });
    // Like the API server: 201 Created, the spec echoed back, the verdict in status.
    send(201, { kind: "TokenReview", apiVersion: "authentication.k8s.io/v1", metadata: { creationTimestamp: null }, spec, status });
  };

  const server: Server = createServer({ key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  // Listening on port 0 lets the kernel choose a free port with no race.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== "object") throw new Error("the token review stand-in has no address");

  return {
    url: `https://127.0.0.1:${address.port}`,
    caPem: readFileSync(pki.caCertFile, "utf8"),
    issuer: ISSUER,
    issue,
    reviewerJwt: issue({ namespace: "kube-system", serviceAccount: "vault-token-reviewer", audiences: [API_SERVER_AUDIENCE], ttlSec: 24 * 3600 }),
    reviews,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
