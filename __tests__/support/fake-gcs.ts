// A Cloud Storage stand-in for tests: fake-gcs-server (github.com/fsouza/
// fake-gcs-server, built into .tools/bin by `npm run tools`), which speaks the
// JSON API the official @google-cloud/storage client uses, including resumable
// uploads, generation preconditions, declared CRC32C/MD5 checks and the
// x-goog-hash header on downloads. Point the client at it with
// STORAGE_EMULATOR_HOST=<url> (the client then sends no credentials).
//
// What it does not cover: IAM (every request may do everything, so the
// "create only, no delete" grants are asserted on the synthesized Terraform
// instead), bucket retention policies and object holds, soft delete, and
// real GCS's limits and error codes beyond the common ones.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./bao";
import { freePort } from "./ports";
import { waitFor } from "./vault-http";

export const FAKE_GCS = join(projectRoot(), ".tools", "bin", "fake-gcs-server");

export interface GcsObject {
  readonly name: string;
  readonly size: number;
  readonly crc32c: string;
  readonly md5Hash: string;
  readonly generation: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface FakeGcs {
  /** http://127.0.0.1:<port>: the value for STORAGE_EMULATOR_HOST. */
  readonly url: string;
  createBucket(bucket: string): Promise<void>;
  /** Writes (or replaces) an object with the given bytes and custom metadata, as anyone with full access could. */
  putObject(bucket: string, name: string, content: Buffer, metadata?: Record<string, string>): Promise<GcsObject>;
  getObject(bucket: string, name: string): Promise<Buffer>;
  describeObject(bucket: string, name: string): Promise<GcsObject | undefined>;
  listObjects(bucket: string, prefix?: string): Promise<GcsObject[]>;
  deleteObject(bucket: string, name: string): Promise<void>;
  /** Everything the server printed (for failure messages). */
  readonly output: () => string;
  stop(): Promise<void>;
}

const running = new Set<FakeGcs>();
const children = new Set<ChildProcess>();
// Last resort when a test process ends without its afterAll (a crash, a killed worker): no server outlives it.
process.once("exit", () => children.forEach((c) => c.kill("SIGKILL")));

function toObject(o: Record<string, unknown>): GcsObject {
  return {
    name: String(o.name),
    size: Number(o.size ?? 0),
    crc32c: String(o.crc32c ?? ""),
    md5Hash: String(o.md5Hash ?? ""),
    generation: String(o.generation ?? ""),
    metadata: (o.metadata as Record<string, string> | undefined) ?? {},
  };
}

/** Starts fake-gcs-server on a free loopback port (plain http, in-memory backend) and waits until it answers. */
export async function startFakeGcs(): Promise<FakeGcs> {
  if (!existsSync(FAKE_GCS)) throw new Error(`${FAKE_GCS} is missing: run \`npm run tools\` first`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(
    FAKE_GCS,
    [
      "-scheme",
      "http",
      "-host",
      "127.0.0.1",
      "-port",
      String(port),
      "-backend",
      "memory",
      "-external-url",
      url,
      "-public-host",
      `127.0.0.1:${port}`,
      "-log-level",
      "warn",
    ],
    { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => children.delete(child));
  const alive = () => child.exitCode === null && child.signalCode === null;

  const call = async (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Response> => {
    const res = await fetch(`${url}${path}`, { method, body: body === undefined ? undefined : new Uint8Array(Buffer.from(body)), headers });
    if (!res.ok && res.status !== 404) throw new Error(`fake-gcs-server ${method} ${path}: HTTP ${res.status}: ${await res.text()}`);
    return res;
  };
  const o = (bucket: string, name: string) => `/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(name)}`;

  const server: FakeGcs = {
    url,
    output: () => output,
    async createBucket(bucket) {
      await call("POST", "/storage/v1/b", JSON.stringify({ name: bucket }), { "Content-Type": "application/json" });
    },
    async putObject(bucket, name, content, metadata = {}) {
      // A multipart upload: the JSON resource (with custom metadata) and the bytes in one request.
      const boundary = `vault-gke-${Math.random().toString(36).slice(2)}`;
      const head = `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify({ name, metadata })}\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\n\r\n`;
      const body = Buffer.concat([Buffer.from(head), content, Buffer.from(`\r\n--${boundary}--\r\n`)]);
      const res = await call("POST", `/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=multipart`, body, {
        "Content-Type": `multipart/related; boundary=${boundary}`,
      });
      return toObject((await res.json()) as Record<string, unknown>);
    },
    async getObject(bucket, name) {
      const res = await call("GET", `${o(bucket, name)}?alt=media`);
      if (res.status === 404) throw new Error(`no object gs://${bucket}/${name}`);
      return Buffer.from(await res.arrayBuffer());
    },
    async describeObject(bucket, name) {
      const res = await call("GET", o(bucket, name));
      return res.status === 404 ? undefined : toObject((await res.json()) as Record<string, unknown>);
    },
    async listObjects(bucket, prefix = "") {
      const res = await call("GET", `/storage/v1/b/${encodeURIComponent(bucket)}/o?prefix=${encodeURIComponent(prefix)}`);
      return (((await res.json()) as { items?: Record<string, unknown>[] }).items ?? []).map(toObject);
    },
    async deleteObject(bucket, name) {
      await call("DELETE", o(bucket, name));
    },
    async stop() {
      running.delete(server);
      if (!alive()) return;
      // In-memory backend: nothing to flush, so no graceful shutdown to wait for (it can hang on open connections).
      child.kill("SIGKILL");
      await exited;
    },
  };
  running.add(server);
  try {
    await waitFor(
      "fake-gcs-server to answer",
      async () => {
        if (!alive()) throw new Error(`fake-gcs-server exited: ${output.slice(-2000)}`);
        const res = await fetch(`${url}/_internal/healthcheck`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      15_000,
      20,
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** Stops every fake-gcs-server this test process started (call from afterAll). */
export async function stopAllFakeGcs(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}
