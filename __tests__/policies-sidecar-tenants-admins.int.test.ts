// The standing credentials replayed against the OpenBao of policies-fixture.ts, with the policies the sidecar
// writes: the sidecar's own token writes tenant policies only, tenants reach only their own secrets, admins run
// Vault day to day without what daily operation does not need, and break-glass adds that, still without
// tenants' secrets.
import { renderTenantPolicy } from "../contract/tenant-policy";
import { call, capabilities, CLUSTER, policiesWorldPerFile, status, tokens } from "./policies-fixture";

jest.setTimeout(90_000);
policiesWorldPerFile();

describe("the sidecar's own token", () => {
  it("writes tenant policies and nothing else", async () => {
    expect(await status(tokens.sidecar, "PUT", "sys/policies/acl/tenant-z", { policy: renderTenantPolicy({ tenant: "z" }) })).toBe(204);
    for (const name of ["admin", "provisioner", "vault-gke-sidecar", "default", "ops"])
      expect(await status(tokens.sidecar, "PUT", `sys/policies/acl/${name}`, { policy: 'path "*" { capabilities = ["read"] }' })).toBe(403);
    expect(await status(tokens.sidecar, "GET", "tenants/b/kv/data/db")).toBe(403);
    expect(await status(tokens.sidecar, "POST", "sys/auth/x", { type: "userpass" })).toBe(403);
    expect(await status(tokens.sidecar, "LIST", "tenants/a/transit/keys")).toBe(200);
  });
});

describe("the verifiers' tokens and audit devices", () => {
  // Both list the devices (the verifier compares them), which takes sudo on sys/audit; neither may add a device
  // (a socket with log_raw would receive every client token) or remove one.
  it.each(["plan", "sidecar"] as const)("the %s token lists audit devices and cannot enable or disable one", async (who) => {
    const t = tokens[who];
    expect(await status(t, "GET", "sys/audit")).toBe(200);
    expect(await status(t, "PUT", "sys/audit/leak", { type: "socket", options: { address: "127.0.0.1:9", socket_type: "udp", log_raw: "true" } })).toBe(403);
    expect(await status(t, "PUT", "sys/audit/leak-file", { type: "file", options: { file_path: "/tmp/leak.log", log_raw: "true" } })).toBe(403);
    expect(await status(t, "DELETE", "sys/audit/file")).toBe(403);
  });
});

describe("tenant isolation", () => {
  it("lets tenant A use its own KV area and transit key", async () => {
    expect(await status(tokens.a, "POST", "tenants/a/kv/data/app", { data: { k: "v" } })).toBe(200);
    expect((await call(tokens.a, "GET", "tenants/a/kv/data/app")).body.data).toMatchObject({ data: { k: "v" } });
    expect(await status(tokens.a, "LIST", "tenants/a/kv/metadata/")).toBe(200);
    expect(await status(tokens.a, "POST", "tenants/a/transit/encrypt/k", { plaintext: Buffer.from("x").toString("base64") })).toBe(200);
  });

  it("keeps tenant A from reading, listing or writing tenant B's secrets", async () => {
    expect(await status(tokens.a, "GET", "tenants/b/kv/data/db")).toBe(403);
    expect(await status(tokens.a, "LIST", "tenants/b/kv/metadata/")).toBe(403);
    expect(await status(tokens.a, "POST", "tenants/b/kv/data/db", { data: { password: "stolen" } })).toBe(403);
    expect(await status(tokens.a, "DELETE", "tenants/b/kv/metadata/db")).toBe(403);
    expect(await status(tokens.b, "POST", "tenants/a/transit/encrypt/k", { plaintext: "eA==" })).toBe(403);
  });

  it("lets a tenant renew only its own database leases", async () => {
    // Past the ACL, Vault answers 400 for a lease that does not exist.
    expect(await status(tokens.a, "PUT", "sys/leases/renew", { lease_id: "tenants/a/database/creds/app/abc", increment: 60 })).toBe(400);
    expect(await status(tokens.a, "PUT", "sys/leases/renew", { lease_id: "tenants/b/database/creds/app/abc" })).toBe(403);
    expect(await status(tokens.a, "PUT", "sys/leases/renew", { lease_id: "auth/kubernetes-apps-prod/login/abc" })).toBe(403);
    expect(await status(tokens.a, "PUT", "sys/leases/renew/tenants/b/database/creds/app/abc", {})).toBe(403);
  });

  it("keeps a tenant from changing policies or auth configuration", async () => {
    expect(await status(tokens.a, "PUT", "sys/policies/acl/tenant-a", { policy: 'path "*" { capabilities = ["sudo"] }' })).toBe(403);
    expect(await status(tokens.a, "POST", "sys/auth/kubernetes-evil", { type: "kubernetes" })).toBe(403);
    expect(await status(tokens.a, "POST", `auth/kubernetes-${CLUSTER}/config`, { kubernetes_host: "https://evil" })).toBe(403);
    expect(await status(tokens.a, "POST", "sys/mounts/tenants/a/other", { type: "kv" })).toBe(403);
  });
});

describe("admin and break-glass", () => {
  it("lets an admin run Vault day to day", async () => {
    const a = tokens.admin;
    expect(await status(a, "POST", "sys/auth/userpass-ops", { type: "userpass" })).toBe(204);
    expect(await status(a, "POST", "sys/mounts/ops-kv", { type: "kv", options: { version: "2" } })).toBe(204);
    expect(await status(a, "PUT", "sys/policies/acl/ops-readers", { policy: 'path "ops-kv/*" { capabilities = ["read"] }' })).toBe(204);
    expect(await status(a, "DELETE", "sys/mounts/ops-kv")).toBe(204);
    expect(await capabilities(a, "sys/storage/raft/snapshot")).toEqual(["read"]);
    expect(await capabilities(a, "sys/step-down")).toEqual(expect.arrayContaining(["update", "sudo"]));
  });

  it("keeps what daily operation does not need away from admins", async () => {
    const a = tokens.admin;
    // A token role would mint admin + break-glass tokens with no parent.
    expect(await status(a, "POST", "auth/token/roles/ops", { allowed_policies: ["admin", "break-glass"], orphan: true })).toBe(403);
    expect(await status(a, "POST", "auth/token/create/ops", { policies: ["admin", "break-glass"] })).toBe(403);
    for (const name of ["admin", "break-glass", "provisioner", "generate-root", "default", "vault-gke-plan", "vault-gke-sidecar", "snapshot", "tenant-a"]) {
      expect([name, await status(a, "PUT", `sys/policies/acl/${name}`, { policy: 'path "*" { capabilities = ["sudo", "update"] }' })]).toEqual([name, 403]);
    }
    expect(await capabilities(a, "sys/storage/raft/snapshot-force")).toEqual(["deny"]);
    expect(await capabilities(a, "sys/storage/raft/remove-peer")).toEqual(["deny"]);
    expect(await status(a, "DELETE", "sys/audit/file")).toBe(403);
    expect(await status(a, "PUT", "sys/seal", {})).toBe(403);
    expect(await status(a, "PUT", "sys/rotate", {})).toBe(403);
    // OpenBao answers 405 on the unauthenticated rekey endpoints it disables: ask the ACL itself.
    expect(await capabilities(a, "sys/rekey/init")).toEqual(["deny"]);
    // An orphan token would outlive the admin's 30-minute login (up to 32 days).
    expect(await status(a, "POST", "auth/token/create-orphan", { policies: ["admin"], ttl: "768h" })).toBe(403);
  });

  it("gives break-glass what admins lack, and nothing to read tenants' secrets", async () => {
    const g = tokens.breakGlass;
    expect(await capabilities(g, "sys/storage/raft/snapshot-force")).toEqual(["update"]);
    expect(await capabilities(g, "sys/storage/raft/remove-peer")).toEqual(["update"]);
    expect(await capabilities(g, "sys/policies/acl/admin")).toEqual(expect.arrayContaining(["update"]));
    expect(await status(g, "GET", "tenants/b/kv/data/db")).toBe(403);
    // Break-glass does not go unseen: disabling an audit device takes a root from generate-root.
    expect(await status(g, "DELETE", "sys/audit/file")).toBe(403);
    expect(await capabilities(g, "sys/audit/file")).not.toContain("delete");
    expect(await status(tokens.admin, "GET", "tenants/b/kv/data/db")).toBe(403);
  });
});

describe("tenant and snapshot logins without the default policy (issue 17, 6)", () => {
  const lease = (tenant: string) => `tenants/${tenant}/database/creds/app/0123456789abcdef`;

  it("a tenant renews and looks up only its own leases; another tenant's are refused", async () => {
    // Refused by the ACL (403), not by the lease store: the lease need not exist for the refusal to show.
    expect(await status(tokens.b, "PUT", "sys/leases/renew", { lease_id: lease("a") })).toBe(403);
    expect(await status(tokens.b, "PUT", "sys/leases/lookup", { lease_id: lease("a") })).toBe(403);
    expect(await status(tokens.a, "PUT", "sys/leases/renew", { lease_id: lease("b") })).toBe(403);
    expect(await status(tokens.a, "PUT", "sys/leases/lookup", { lease_id: lease("b") })).toBe(403);
    // Its own: past the ACL, to the lease store (which has no such lease).
    expect(await status(tokens.a, "PUT", "sys/leases/renew", { lease_id: lease("a") })).not.toBe(403);
    expect(await status(tokens.a, "PUT", "sys/leases/lookup", { lease_id: lease("a") })).not.toBe(403);
  });

  it("keeps the token's own upkeep", async () => {
    expect(await status(tokens.a, "GET", "auth/token/lookup-self")).toBe(200);
    expect(await status(tokens.a, "PUT", "auth/token/renew-self", {})).toBe(200);
  });

  it("the snapshot job's token renews and looks up no lease, and revokes itself", async () => {
    expect(await status(tokens.snapshot, "PUT", "sys/leases/renew", { lease_id: lease("a") })).toBe(403);
    expect(await status(tokens.snapshot, "PUT", "sys/leases/lookup", { lease_id: lease("a") })).toBe(403);
    expect(await status(tokens.snapshot, "PUT", "auth/token/revoke-self", {})).toBe(204);
  });
});
