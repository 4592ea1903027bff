// Issue 17: an admin cannot become the automation, a tenant or root. Each
// request below succeeded before (on OpenBao 2.7.2, and the policy spellings
// on HashiCorp Vault 1.21.4); replayed as written on the distribution this
// project runs (jest projects integration and integration-vault), each is
// refused and changes nothing. Where the distributions differ, the test says so.
import { DISTRIBUTION } from "./support/bao";
import { GoogleIdTokenIssuer } from "./support/google-id-token";
import { APPLY_SA, asRoot, AUDIENCE, call, capabilities, CLUSTER, login, policiesWorldPerFile, status, tokens } from "./policies-fixture";

policiesWorldPerFile();

const attacker = new GoogleIdTokenIssuer();
const read = async (path: string) => (await asRoot("GET", path)).body.data as Record<string, unknown>;

describe("admin and the auth methods the stacks declare", () => {
  it("cannot add its own key to auth/runner, so it cannot sign itself an apply token (1)", async () => {
    const before = await read("auth/runner/config");
    expect(
      await status(tokens.admin, "POST", "auth/runner/config", { jwt_validation_pubkeys: [attacker.publicKeyPem], bound_issuer: before.bound_issuer }),
    ).toBe(403);
    expect(await read("auth/runner/config")).toEqual(before);
    expect((await login(attacker.issue({ email: APPLY_SA, audience: AUDIENCE }))).token).toBeUndefined();
  });

  it("cannot replace a tenant cluster backend's CA and reviewer, nor repoint the in-cluster backend (4, 5)", async () => {
    const before = await read(`auth/kubernetes-${CLUSTER}/config`);
    expect(
      await status(tokens.admin, "POST", `auth/kubernetes-${CLUSTER}/config`, {
        kubernetes_host: before.kubernetes_host,
        kubernetes_ca_cert: attacker.publicKeyPem,
        token_reviewer_jwt: "x.y.z",
      }),
    ).toBe(403);
    expect(await read(`auth/kubernetes-${CLUSTER}/config`)).toEqual(before);
    expect(await status(tokens.admin, "POST", "auth/in-cluster/config", { kubernetes_host: "https://attacker.example:6443" })).toBe(403);
  });

  it("cannot widen a declared tenant login role to every service account and namespace (3)", async () => {
    const before = await read(`auth/kubernetes-${CLUSTER}/role/a`);
    expect(
      await status(tokens.admin, "POST", `auth/kubernetes-${CLUSTER}/role/a`, { bound_service_account_names: ["*"], bound_service_account_namespaces: ["*"] }),
    ).toBe(403);
    expect(await read(`auth/kubernetes-${CLUSTER}/role/a`)).toEqual(before);
  });

  it("cannot disable, re-enable or tune a declared auth method, but still runs its own", async () => {
    for (const mount of ["runner", "in-cluster", `kubernetes-${CLUSTER}`]) {
      expect([mount, await status(tokens.admin, "DELETE", `sys/auth/${mount}`)]).toEqual([mount, 403]);
      expect([mount, await status(tokens.admin, "POST", `sys/auth/${mount}/tune`, { default_lease_ttl: "768h" })]).toEqual([mount, 403]);
    }
    expect(await status(tokens.admin, "POST", "sys/auth/ops-userpass", { type: "userpass" })).toBe(204);
    expect(await status(tokens.admin, "POST", "auth/ops-userpass/users/oncall", { password: "x", token_policies: ["ops-readers"] })).toBe(204);
    expect(await status(tokens.admin, "DELETE", "sys/auth/ops-userpass")).toBe(204);
  });

  it("leaves break-glass able to apply the shared stack's changes to them", async () => {
    expect(await capabilities(tokens.breakGlass, "auth/runner/config")).toEqual(expect.arrayContaining(["update"]));
    expect(await capabilities(tokens.breakGlass, `auth/kubernetes-${CLUSTER}/role/a`)).toEqual(expect.arrayContaining(["update"]));
    expect(await capabilities(tokens.breakGlass, "sys/auth/runner")).toEqual(expect.arrayContaining(["update", "sudo"]));
  });
});

describe("admin and Raft autopilot", () => {
  it("reads autopilot's state and settings but cannot change them (cleanup_dead_servers would remove peers, which is break-glass)", async () => {
    expect(await capabilities(tokens.admin, "sys/storage/raft/autopilot/state")).toEqual(["read"]);
    expect(await capabilities(tokens.admin, "sys/storage/raft/autopilot/configuration")).toEqual(["read"]);
    expect(
      await status(tokens.admin, "POST", "sys/storage/raft/autopilot/configuration", {
        cleanup_dead_servers: true,
        dead_server_last_contact_threshold: "10s",
        min_quorum: 3,
      }),
    ).toBe(403);
    expect(await capabilities(tokens.breakGlass, "sys/storage/raft/autopilot/configuration")).toEqual(expect.arrayContaining(["update"]));
    // A plan of the shared stack refreshes the settings with the plan token (this server has no Raft, so the
    // read itself fails after the policy check: anything but 403 passed it), and a tenant's token is refused.
    const planRead = await status(tokens.plan, "GET", "sys/storage/raft/autopilot/configuration");
    expect(planRead).not.toBe(403);
    expect(await status(tokens.a, "GET", "sys/storage/raft/autopilot/configuration")).toBe(403);
    expect(await status(tokens.plan, "POST", "sys/storage/raft/autopilot/configuration", { cleanup_dead_servers: true })).toBe(403);
  });
});

describe("admin and root (9)", () => {
  it.each(["Admin", "ADMIN", "DEFAULT", "default%20", "%20default", "Break-Glass", "Vault-GKE-Sidecar", "Tenant-A"])(
    "cannot rewrite an owned policy through the spelling %s",
    async (spelling) => {
      const owned = decodeURIComponent(spelling).trim().toLowerCase();
      const before = await read(`sys/policies/acl/${owned}`);
      expect(await status(tokens.admin, "PUT", `sys/policies/acl/${spelling}`, { policy: 'path "*" { capabilities = ["sudo", "update"] }' })).toBe(403);
      expect(await read(`sys/policies/acl/${owned}`)).toEqual(before);
    },
  );

  it("writes and deletes its own ops- policies", async () => {
    expect(await status(tokens.admin, "PUT", "sys/policies/acl/ops-oncall", { policy: 'path "sys/health" { capabilities = ["read"] }' })).toBe(204);
    expect(await status(tokens.admin, "DELETE", "sys/policies/acl/ops-oncall")).toBe(204);
  });

  it("cannot enable an audit device that would receive client tokens in plain text", async () => {
    expect(
      await status(tokens.admin, "PUT", "sys/audit/leak", { type: "socket", options: { address: "127.0.0.1:9", socket_type: "tcp", log_raw: "true" } }),
    ).toBe(403);
    expect(await status(tokens.admin, "PUT", "sys/audit/leak-file", { type: "file", options: { file_path: "/tmp/leak.log", log_raw: "true" } })).toBe(403);
    expect(Object.keys((await asRoot("GET", "sys/audit")).body)).not.toEqual(expect.arrayContaining(["leak/", "leak-file/"]));
  });

  it("the generate-root token cannot start a rekey on OpenBao; on Vault 1.21 the rekey endpoints take no token at all (it has no switch to turn them off)", async () => {
    const started = await call(tokens.generateRoot, "PUT", "sys/rekey/init", { secret_shares: 1, secret_threshold: 1 });
    if (DISTRIBUTION === "openbao") {
      // OpenBao 2.7 serves no unauthenticated rekey (disable_unauthed_rekey_endpoints is on by default) and the ACL denies it.
      expect(started.status).toBeGreaterThanOrEqual(400);
      expect((await call(tokens.generateRoot, "GET", "sys/rekey/init")).body.started).not.toBe(true);
    } else {
      // Anyone who reaches the API may start one (finishing it takes the key shares); README: threat model.
      expect(started.status).toBe(200);
      const nonce = (started.body as { nonce?: string }).nonce;
      expect((await call("", "DELETE", "sys/rekey/init", { nonce })).status).toBe(204);
    }
  });
});
