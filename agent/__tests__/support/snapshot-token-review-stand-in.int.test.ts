// The TokenReview stand-in behaves like a kube-apiserver where Vault's
// kubernetes auth depends on it: the audience rules, expiry, the signer, and
// the reviewer's own authentication.
import { request } from "node:https";
import { API_SERVER_AUDIENCE, startTokenReviewStandIn, type TokenReviewStandIn } from "../../../__tests__/support/token-review-stand-in";

let k8s: TokenReviewStandIn;
let other: TokenReviewStandIn;
beforeAll(async () => {
  k8s = await startTokenReviewStandIn();
  other = await startTokenReviewStandIn();
});
afterAll(async () => {
  await k8s?.stop();
  await other?.stop();
});

interface Review {
  readonly code: number;
  readonly body: {
    kind?: string;
    status?: { authenticated?: boolean; audiences?: string[]; error?: string; user?: { username?: string; uid?: string; groups?: string[] } };
  };
}

function review(token: string, audiences: string[] | undefined, bearer = k8s.reviewerJwt): Promise<Review> {
  const payload = JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, ...(audiences ? { audiences } : {}) } });
  return new Promise((resolve, reject) => {
    const req = request(
      `${k8s.url}/apis/authentication.k8s.io/v1/tokenreviews`,
      { method: "POST", ca: k8s.caPem, headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ code: res.statusCode ?? 0, body: JSON.parse(text) as Review["body"] }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const jwtClaims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString()) as Record<string, unknown>;

it("issues projected-token-shaped JWTs", () => {
  const claims = jwtClaims(k8s.issue({ namespace: "vault", serviceAccount: "vault-snapshot", audiences: ["vault"], ttlSec: 600 }));
  expect(claims).toMatchObject({
    iss: k8s.issuer,
    sub: "system:serviceaccount:vault:vault-snapshot",
    aud: ["vault"],
    "kubernetes.io": { namespace: "vault", serviceaccount: { name: "vault-snapshot" } },
  });
  expect(Number(claims.exp) - Number(claims.iat)).toBe(600);
  expect(claims.nbf).toBe(claims.iat);
});

it("authenticates a token whose audience intersects spec.audiences, answering like the API server", async () => {
  const jwt = k8s.issue({ namespace: "vault", serviceAccount: "vault-snapshot", audiences: ["vault", "other"] });
  const res = await review(jwt, ["vault", "unrelated"]);
  expect(res.code).toBe(201);
  expect(res.body.kind).toBe("TokenReview");
  expect(res.body.status).toEqual({
    authenticated: true,
    audiences: ["vault"],
    user: {
      username: "system:serviceaccount:vault:vault-snapshot",
      uid: (jwtClaims(jwt)["kubernetes.io"] as { serviceaccount: { uid: string } }).serviceaccount.uid,
      groups: ["system:serviceaccounts", "system:serviceaccounts:vault", "system:authenticated"],
      extra: expect.any(Object),
    },
  });
});

it("refuses a token for other audiences, and with no spec.audiences checks the API server's own", async () => {
  const vaultToken = k8s.issue({ namespace: "vault", serviceAccount: "app", audiences: ["vault"] });
  expect((await review(vaultToken, ["https://other.example"])).body.status).toEqual({
    user: {},
    error: expect.stringContaining('token audiences ["vault"] is invalid for the target audiences ["https://other.example"]'),
  });
  expect((await review(vaultToken, undefined)).body.status?.authenticated).toBeUndefined();
  const apiToken = k8s.issue({ namespace: "vault", serviceAccount: "app", audiences: [API_SERVER_AUDIENCE] });
  expect((await review(apiToken, undefined)).body.status).toMatchObject({ authenticated: true, audiences: [API_SERVER_AUDIENCE] });
});

it("refuses expired tokens and tokens it did not sign", async () => {
  const expired = k8s.issue({ namespace: "vault", serviceAccount: "app", audiences: ["vault"], ttlSec: -1 });
  expect((await review(expired, ["vault"])).body.status?.error).toMatch(/expired/);
  const foreign = other.issue({ namespace: "vault", serviceAccount: "app", audiences: ["vault"] });
  expect((await review(foreign, ["vault"])).body.status?.authenticated).toBeUndefined();
  expect((await review("not-a-jwt", ["vault"])).body.status?.error).toMatch(/not a JWT/);
});

it("answers 401 to a caller without a token for the API server's audience (a client's own vault-audience token included)", async () => {
  const vaultToken = k8s.issue({ namespace: "vault", serviceAccount: "app", audiences: ["vault"] });
  expect((await review(vaultToken, ["vault"], vaultToken)).code).toBe(401);
  expect((await review(vaultToken, ["vault"], other.reviewerJwt)).code).toBe(401);
  expect((await review(vaultToken, ["vault"], "")).code).toBe(401);
  expect(k8s.reviews.filter((r) => r.authenticated).map((r) => r.statusAudiences)).toEqual([["vault"], [API_SERVER_AUDIENCE]]);
});
