// On the verifier's OpenBao (verifier-fixture.ts): tenant logins need a token minted for the role's audience
// (a TokenReview stand-in plays the tenant cluster's API server), and `npm run verify` never prints the token
// it reads with.
import { CLUSTER, kube, ok, root, runVerify, server, tokens, verifierWorldPerFile } from "./verifier-fixture";
import { vaultRequest } from "./support/vault-http";

jest.setTimeout(120_000);
verifierWorldPerFile();

describe("tenant logins", () => {
  const login = (jwt: string) => vaultRequest(server.addr, server.ca, "POST", `/v1/auth/kubernetes-${CLUSTER}/login`, { body: { role: "search", jwt } });

  it("accept a projected token minted for the role's audience, and grant the tenant's policy only", async () => {
    const res = await login(kube.issue({ namespace: "search", serviceAccount: "search-api", audiences: ["vault"] }));
    expect(res.status).toBe(200);
    expect((res.body.auth as { token_policies: string[] }).token_policies).toEqual(["tenant-search"]); // no default policy (issue 17, 6)
  });

  it("refuse a token minted for another audience (replayed from another service), or for the API server only", async () => {
    for (const audiences of [["https://payments.example.internal"], ["https://kubernetes.default.svc.cluster.local"]]) {
      const res = await login(kube.issue({ namespace: "search", serviceAccount: "search-api", audiences }));
      expect([audiences[0], res.status]).toEqual([audiences[0], 403]);
    }
  });

  it("refuse another namespace's service account", async () => {
    expect((await login(kube.issue({ namespace: "payments", serviceAccount: "search-api", audiences: ["vault"] }))).status).toBe(403);
  });
});

it("never prints the token it reads with, on success or with findings", async () => {
  expect(JSON.stringify(await runVerify())).not.toContain(String(tokens.plan));
  await ok(root, "POST", "sys/auth/leak-check", { type: "userpass" });
  try {
    const run = await runVerify();
    expect(run.status).toBe(1);
    expect(JSON.stringify(run)).not.toContain(String(tokens.plan));
  } finally {
    await ok(root, "DELETE", "sys/auth/leak-check");
  }
});
