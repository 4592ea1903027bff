import { Writable } from "node:stream";
import { Backoff, sleep } from "../src/shared/backoff";
import { decodeRootToken } from "../src/vault/generate-root";
import { createLogger, scrub } from "../src/shared/log";
import { decode, encode, keySharesOf, parseRecord, type StoredInit } from "../src/sidecar/records";
import { healthKind, VaultClient } from "../src/vault/client";

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
    expect(() => decode(Buffer.from("hvs.secretsecretsecretsecret"), "vault-gke/canary/v1", "canary")).toThrow(/^the latest version of the canary secret is not JSON \(28 bytes\); inspect it in Secret Manager$/);
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
    const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
    return { stream, lines: () => text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>) };
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
    expect(line).toMatchObject({ token: "[redacted]", root_token: "[redacted]", keys_base64: "[redacted]", accessor: "acc", level: "info", component: "vault-gke-bootstrap" });
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
