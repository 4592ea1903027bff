import { createServer, type Server, type Socket } from "node:net";
import { Writable } from "node:stream";
import { Backoff, sleep } from "../src/shared/backoff";
import { decodeRootToken } from "../src/vault/generate-root";
import { createLogger, scrub } from "../src/shared/log";
import { decode, encode, keySharesOf, parseRecord, type StoredInit } from "../src/sidecar/records";
import { healthKind, VaultClient } from "../src/vault/client";
import { SnapshotVault, VaultUnreachableError } from "../src/vault/snapshot-api";
import { expectStatus, VaultError, vaultErrors } from "../src/vault/transport";

describe("health statuses", () => {
  it.each([
    [200, "active"],
    [429, "standby"],
    [472, "dr-secondary"],
    [473, "perf-standby"],
    [501, "uninitialized"],
    [503, "sealed"],
    [500, "unexpected"],
    [404, "unexpected"],
  ])("maps %i to %s", (status, kind) => {
    expect(healthKind(status)).toBe(kind);
  });
});

describe("backoff", () => {
  it("starts well under a second, grows, caps and resets", () => {
    const b = new Backoff(100, 10_000, () => 1);
    const waits = Array.from({ length: 10 }, () => b.next());
    expect(waits[0]).toBe(100);
    expect(waits[1]).toBe(200);
    expect(waits[3]).toBe(800);
    expect(Math.max(...waits)).toBe(10_000);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it("jitters between half the base and the ceiling", () => {
    const low = new Backoff(100, 10_000, () => 0);
    low.next();
    low.next();
    expect(low.next()).toBe(50);
  });

  it("ends a sleep at once when aborted", async () => {
    const stop = new AbortController();
    const started = Date.now();
    setTimeout(() => stop.abort(), 20);
    expect(await sleep(10_000, stop.signal)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await sleep(1, undefined)).toBe(true);
  });
});

describe("generate-root decoding", () => {
  it("XORs the encoded token with the one-time password", () => {
    const token = "s.0123456789abcdefghijklmn";
    const otp = "ZYXWVUTSRQPONMLKJIHGFEDCBA";
    const encoded = Buffer.from([...Buffer.from(token)].map((b, i) => b ^ otp.charCodeAt(i))).toString("base64");
    expect(decodeRootToken(encoded, otp)).toBe(token);
  });

  it("fails when the lengths differ", () => {
    expect(() => decodeRootToken(Buffer.from("abc").toString("base64"), "abcd")).toThrow(/3 bytes for a 4-byte one-time password/);
  });
});

describe("records", () => {
  const init: StoredInit = { format: "vault-gke/init-response/v1", storedAt: "t", seal: "shamir", response: { keys_base64: ["a", "b"], root_token: "r" } };

  it("round-trips and picks unseal or recovery keys by seal", () => {
    const back = decode<StoredInit>(encode(init), "vault-gke/init-response/v1", "init response");
    expect(keySharesOf(back as StoredInit)).toEqual(["a", "b"]);
    expect(() => keySharesOf({ ...init, seal: "auto" })).toThrow(/no recovery keys/);
  });

  it("says when a stored document is not ours, without echoing it", () => {
    expect(() => decode(Buffer.from("hvs.secretsecretsecretsecret"), "vault-gke/canary/v1", "canary")).toThrow(
      /^the latest version of the canary secret is not JSON \(28 bytes\); inspect it in Secret Manager$/,
    );
    expect(() => decode(encode({ format: "other" }), "vault-gke/canary/v1", "canary")).toThrow(/not a vault-gke\/canary\/v1 document/);
    expect(decode(undefined, "vault-gke/canary/v1", "canary")).toBeUndefined();
  });

  it("turns any stored bytes into a state, never an exception", () => {
    expect(parseRecord(undefined, "vault-gke/canary/v1")).toEqual({ kind: "absent" });
    expect(parseRecord(Buffer.from([0xff, 0x00, 0x7b]), "vault-gke/canary/v1")).toEqual({ kind: "unreadable", reason: "not JSON (3 bytes)" });
    expect(parseRecord(encode(null), "vault-gke/canary/v1")).toEqual({ kind: "unreadable", reason: "not a vault-gke/canary/v1 document" });
    expect(parseRecord(encode(init), "vault-gke/init-response/v1")).toEqual({ kind: "ok", value: init });
  });
});

describe("logging", () => {
  function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
    let text = "";
    const stream = new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        done();
      },
    });
    return {
      stream,
      lines: () =>
        text
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as Record<string, unknown>),
    };
  }

  it("redacts secret fields and masks token-shaped strings anywhere", () => {
    const out = capture();
    const log = createLogger("info", out.stream);
    const token = "hvs.CAESIJ1234567890abcdefghijklmnopqrstuv";
    log.info({ token, root_token: token, keys_base64: ["k1"], nested: { detail: `failed with ${token}` }, accessor: "acc" }, `message with ${token}`);
    const [line] = out.lines();
    const text = JSON.stringify(line);
    expect(text).not.toContain(token);
    expect(text).not.toContain("k1");
    expect(line).toMatchObject({
      token: "[redacted]",
      root_token: "[redacted]",
      keys_base64: "[redacted]",
      accessor: "acc",
      level: "info",
      component: "vault-gke-bootstrap",
    });
    expect(line.msg).toBe("message with [redacted-token]");
  });

  it("masks legacy s. tokens too", () => {
    expect(scrub("x s.ABCDEFGHIJKLMNOPQRSTUVWX y")).toBe("x [redacted-token] y");
  });
});

describe("vault client", () => {
  it("refuses a plaintext address", () => {
    expect(() => new VaultClient({ address: "http://127.0.0.1:8200", ca: "" })).toThrow(/must be https/);
  });
});

describe("vault transport", () => {
  /** A loopback port that takes connections and never answers (not even the TLS handshake). */
  async function silentPort(): Promise<{ port: number; close(): Promise<void> }> {
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    return {
      port,
      close: () => {
        for (const socket of sockets) socket.destroy();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  it("refuses a plaintext address for the snapshot calls too", () => {
    expect(() => new SnapshotVault({ address: "http://127.0.0.1:8200", ca: Buffer.from("") })).toThrow(/must be https/);
  });

  it("maps a refused call to VaultError with Vault's own error strings, never the body", () => {
    expect(vaultErrors({ errors: ["1 error occurred:\n\t* permission denied\n\n", " ", 7] })).toEqual(["1 error occurred:\n\t* permission denied", "7"]);
    expect(vaultErrors({ data: { errors: ["x"] } })).toEqual([]);
    const refused = { status: 400, body: { errors: ["missing role", "bad jwt"], auth: { client_token: "hvs.secret" } } };
    expect(() => expectStatus("login at auth/k8s", refused, [200])).toThrow(new VaultError("login at auth/k8s", 400, ["missing role", "bad jwt"]));
    expect(() => expectStatus("login at auth/k8s", refused, "2xx")).toThrow(/^vault login at auth\/k8s: HTTP 400: missing role; bad jwt$/);
    expect(() => expectStatus("revoke", { status: 403, body: {} }, [204])).toThrow(/^vault revoke: HTTP 403$/);
    expect(expectStatus("revoke", { status: 204, body: {} }, "2xx").status).toBe(204);
    expect(expectStatus("revoke", { status: 200, body: {} }, [204, 200]).status).toBe(200);
  });

  it("words a request that got no answer for its program: the call for VaultClient, the server for the snapshot calls", async () => {
    const silent = await silentPort();
    const address = `https://127.0.0.1:${silent.port}`;
    const client = new VaultClient({ address, ca: "", timeoutMs: 100 });
    const snapshots = new SnapshotVault({ address, ca: Buffer.from(""), idleTimeoutMs: 100 });
    try {
      expect(await client.health()).toEqual({ kind: "unreachable", status: 0, detail: "vault GET sys/health: timed out after 100 ms" });
      const idle = await snapshots.json("GET", "sys/health").catch((e: Error) => e);
      expect(idle).toBeInstanceOf(VaultUnreachableError);
      expect((idle as Error).message).toBe(`cannot reach vault at ${address}: ETIMEDOUT no data for 100 ms`);
    } finally {
      client.close();
      snapshots.close();
      await silent.close();
    }
    // Now nothing listens on the port at all.
    const closed = new VaultClient({ address, ca: "" });
    const closedSnapshots = new SnapshotVault({ address, ca: Buffer.from("") });
    try {
      expect((await closed.health()).detail).toBe(`vault GET sys/health: connect ECONNREFUSED 127.0.0.1:${silent.port}`);
      await expect(closedSnapshots.json("GET", "sys/health")).rejects.toThrow(
        `cannot reach vault at ${address}: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:${silent.port}`,
      );
    } finally {
      closed.close();
      closedSnapshots.close();
    }
  });
});
