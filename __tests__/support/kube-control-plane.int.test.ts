// The tenant-cluster control plane the end-to-end test runs: it serves the API
// with RBAC, fills a service account token secret (the token reviewer's, as the
// shared stack creates it) and answers TokenReviews of the tokens it signs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KUBE_SA_ISSUER, startKubeControlPlane, type KubeControlPlane } from "./kube-control-plane";
import { waitFor } from "./vault-http";

jest.setTimeout(180_000);

let dir: string;
let kube: KubeControlPlane;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-kube-"));
  kube = await startKubeControlPlane(dir);
});
afterAll(async () => {
  await kube?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it("fills a service account token secret and reviews the token; refuses a bad token", async () => {
  expect((await kube.api("POST", "/api/v1/namespaces", { metadata: { name: "vault-auth" } })).status).toBe(201);
  expect((await kube.api("POST", "/api/v1/namespaces/vault-auth/serviceaccounts", { metadata: { name: "reviewer" } })).status).toBe(201);
  const secret = {
    metadata: { name: "reviewer", annotations: { "kubernetes.io/service-account.name": "reviewer" } },
    type: "kubernetes.io/service-account-token",
  };
  expect((await kube.api("POST", "/api/v1/namespaces/vault-auth/secrets", secret)).status).toBe(201);
  const token = await waitFor(
    "the token controller to fill the secret",
    async () => {
      const s = await kube.api("GET", "/api/v1/namespaces/vault-auth/secrets/reviewer");
      const value = Buffer.from(String((s.body.data as Record<string, string> | undefined)?.token ?? ""), "base64").toString();
      return value || undefined;
    },
    60_000,
  );
  const review = await kube.api("POST", "/apis/authentication.k8s.io/v1/tokenreviews", { spec: { token } });
  expect(review.body.status).toMatchObject({
    authenticated: true,
    user: { username: "system:serviceaccount:vault-auth:reviewer" },
    audiences: [KUBE_SA_ISSUER],
  });
  const bad = await kube.api("POST", "/apis/authentication.k8s.io/v1/tokenreviews", { spec: { token: `${token}x` } });
  // `authenticated: false` is omitted from the answer.
  expect(bad.body.status).toMatchObject({ error: expect.stringContaining("invalid bearer token") });
  expect(bad.body.status).not.toHaveProperty("authenticated", true);
});
