// Every credential vault-gke hands out, replayed against a real OpenBao server
// with the policies the sidecar writes (policies/*.hcl, the provisioner rendered
// for the example's registered cluster, tenant policies rendered from their
// engines), and the attacks the least-privilege issue lists, each expected to be
// refused. The apply credential is obtained the way runners obtain it: a login
// at auth/runner with a Google-style ID token, against a role configured with
// exactly the settings the shared stack ships (applyRoleSettings).
// (The sidecar's token, tenant isolation, admins and break-glass: policies-sidecar-tenants-admins.int.test.ts;
// the OpenBao and the tokens: policies-fixture.ts; the attacks: policies-attacks.ts.)
import { APPLY_TOKEN_MAX_TTL_SEC } from "../config/schema";
import { ATTACKS } from "./policies-attacks";
import { APPLY_SA, AUDIENCE, call, CLUSTER, env, issuer, login, policiesWorldPerFile, REVIEWER_JWT, status, tokens } from "./policies-fixture";
import { isWrite, tenantStackRequests, type ProviderRequest } from "./support/tenant-stack-requests";
import { waitFor } from "./support/vault-http";

jest.setTimeout(90_000);
policiesWorldPerFile();

/** The tenant stack's requests, each with its name in the tests' titles. */
const tenantStack = (filter: (r: ProviderRequest) => boolean = () => true) =>
  tenantStackRequests("c", CLUSTER)
    .filter(filter)
    .map((r) => [r.what, r] as const);

describe("the plan credential (pull-request code can read it)", () => {
  it.each(tenantStack(isWrite))("is refused: %s", async (_, r) => {
    expect(await status(tokens.plan, r.method, r.path, r.body)).toBe(403);
  });

  // A plan refreshes the tenant stack with this credential. Nothing exists yet for tenant c: past
  // the ACL (which answers 403), Vault answers 404, or 400 for a mount.
  it.each(tenantStack((r) => !isWrite(r)))("reads what a refresh reads: %s", async (_, r) => {
    expect([200, 400, 404]).toContain(await status(tokens.plan, r.method, r.path));
  });

  it.each(ATTACKS.map((a) => [a.name, a] as const))("is refused: %s", async (_, a) => {
    expect(await status(tokens.plan, a.method, a.path, a.body)).toBe(403);
  });

  it("cannot even make the provider's child token (plans skip it), nor revoke itself", async () => {
    expect(await status(tokens.plan, "POST", "auth/token/create", { ttl: "20m" })).toBe(403);
    expect(await status(tokens.plan, "PUT", "auth/token/revoke-self", {})).toBe(403);
    expect(await status(tokens.plan, "GET", "auth/token/lookup-self")).toBe(200);
  });

  it("reads what a refresh of the tenant and shared stacks needs", async () => {
    for (const path of [
      "sys/mounts/tenants/a/kv",
      "tenants/a/transit/keys/k",
      `auth/kubernetes-${CLUSTER}/role/a`,
      `auth/kubernetes-${CLUSTER}/config`,
      `sys/mounts/auth/kubernetes-${CLUSTER}`,
      `sys/mounts/auth/kubernetes-${CLUSTER}/tune`,
      "sys/policies/acl/tenant-a",
      "sys/auth",
      "sys/mounts",
    ]) {
      expect([path, await status(tokens.plan, "GET", path)]).toEqual([path, 200]);
    }
    expect(await status(tokens.plan, "LIST", `auth/kubernetes-${CLUSTER}/role`)).toBe(200);
    expect(await status(tokens.plan, "LIST", "tenants/a/transit/keys")).toBe(200);
    expect(await status(tokens.plan, "LIST", "sys/policies/acl")).toBe(200);
  });

  it("reads a backend's configuration but never its reviewer JWT", async () => {
    const res = await call(tokens.plan, "GET", `auth/kubernetes-${CLUSTER}/config`);
    expect(res.status).toBe(200);
    expect((res.body.data as Record<string, unknown>).kubernetes_host).toBe("https://127.0.0.1:9");
    expect(JSON.stringify(res.body)).not.toContain(REVIEWER_JWT);
  });

  it("reads no secret data, credential or key material", async () => {
    expect(await status(tokens.plan, "GET", "tenants/b/kv/data/db")).toBe(403);
    expect(await status(tokens.plan, "LIST", "tenants/b/kv/metadata/")).toBe(403);
    expect(await status(tokens.plan, "POST", "tenants/a/transit/decrypt/k", { ciphertext: "vault:v1:AAAA" })).toBe(403);
    expect(await status(tokens.plan, "GET", "tenants/a/database/creds/app")).toBe(403);
  });
});

describe("the apply credential (a per-run login after approval)", () => {
  it("is a login at auth/runner: provisioner policy only, 15 minutes, never renewable past 20", async () => {
    const self = (await call(tokens.apply, "GET", "auth/token/lookup-self")).body.data as Record<string, unknown>;
    expect(self.policies).toEqual(["provisioner"]);
    expect(self.ttl).toBeLessThanOrEqual(env.delivery.applyTokenTtl);
    expect(self.explicit_max_ttl).toBe(APPLY_TOKEN_MAX_TTL_SEC);
    expect(self.orphan).toBe(true);
    // It cannot even ask for renewal (and the role's explicit max would cap it anyway).
    expect(await status(tokens.apply, "PUT", "auth/token/renew-self", { increment: "768h" })).toBe(403);
  });

  it("is refused to an ID token of another account, for another audience, from another issuer or expired", async () => {
    expect((await login(issuer.issue({ email: "someone@acme-vault-example.iam.gserviceaccount.com", audience: AUDIENCE }))).status).toBe(400);
    expect((await login(issuer.issue({ email: APPLY_SA, audience: "https://other.example" }))).status).toBe(400);
    expect((await login(issuer.issue({ email: APPLY_SA, audience: AUDIENCE, issuer: "https://evil.example" }))).status).toBe(400);
    expect((await login(issuer.issue({ email: APPLY_SA, audience: AUDIENCE, ttlSec: -120 }))).status).toBe(400);
    // A plan runner's identity cannot log in as provisioner either.
    expect((await login(issuer.issue({ email: env.delivery.planServiceAccounts[0], audience: AUDIENCE }))).status).toBe(400);
  });

  it("stops working when its lifetime ends", async () => {
    const res = await login(issuer.issue({ email: APPLY_SA, audience: AUDIENCE }), "short-lived");
    expect(res.status).toBe(200);
    expect(await status(String(res.token), "GET", "sys/mounts/tenants/a/kv")).toBe(200);
    // The provider works with a child token (20 minutes asked): it dies with its parent.
    const child = await call(String(res.token), "POST", "auth/token/create", { ttl: "20m" });
    expect(child.status).toBe(200);
    const childToken = String((child.body.auth as { client_token: string }).client_token);
    await waitFor(
      "the short-lived apply token to expire",
      async () => ((await status(String(res.token), "GET", "sys/mounts/tenants/a/kv")) === 403 ? true : undefined),
      15_000,
      250,
    );
    expect(await status(String(res.token), "GET", "auth/token/lookup-self")).toBe(403);
    await waitFor(
      "its child token to go with it",
      async () => ((await status(childToken, "GET", "sys/mounts/tenants/a/kv")) === 403 ? true : undefined),
      15_000,
      250,
    );
  });

  // In the order the provider makes them: each read follows the write that created what it reads.
  it.each(tenantStack())("makes what the tenant stack needs, or is refused what only an admin may: %s", async (_, r) => {
    const got = await status(tokens.apply, r.method, r.path, r.body);
    if (r.adminOnly) expect(got).toBe(403);
    else if (isWrite(r)) expect([200, 204]).toContain(got);
    else expect(got).toBe(200);
  });

  it.each(ATTACKS.map((a) => [a.name, a] as const))("is refused: %s", async (_, a) => {
    expect(await status(tokens.apply, a.method, a.path, a.body)).toBe(a.refusedWith ?? 403);
  });

  it("reads its own policy (the apply waits for its connection pins: wait-for-pins.sh) and no other", async () => {
    expect(await status(tokens.apply, "GET", "sys/policies/acl/provisioner")).toBe(200);
    for (const name of ["admin", "break-glass", "tenant-a", "vault-gke-sidecar"])
      expect([name, await status(tokens.apply, "GET", `sys/policies/acl/${name}`)]).toEqual([name, 403]);
    expect(await status(tokens.apply, "PUT", "sys/policies/acl/provisioner", { policy: 'path "*" { capabilities = ["sudo"] }' })).toBe(403);
  });

  it("reads no secret data", async () => {
    expect(await status(tokens.apply, "GET", "tenants/b/kv/data/db")).toBe(403);
    expect(await status(tokens.apply, "POST", "tenants/a/transit/decrypt/k", { ciphertext: "vault:v1:AAAA" })).toBe(403);
    expect(await status(tokens.apply, "GET", "tenants/a/database/creds/app")).toBe(403);
  });
});
