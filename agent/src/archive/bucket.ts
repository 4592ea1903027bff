// The snapshot bucket through the official Cloud Storage client. Every call
// here needs only `storage.objects.list` and `storage.objects.create` (the
// snapshot identity) or, for a restore, also `storage.objects.get`: object
// metadata is read from listings, never with a separate metadata read.
import { Storage, type Bucket, type FileMetadata } from "@google-cloud/storage";
import { METADATA, snapshotPrefix, snapshotTime } from "./object";
import { spool, type Digests } from "./spool";

export interface StoredSnapshot {
  readonly name: string;
  readonly generation: string;
  readonly bytes: number;
  /** When the vault state was taken (from the name). */
  readonly takenAt: Date;
  readonly createdAt?: Date;
  readonly crc32c?: string;
  readonly md5?: string;
  /** The custom metadata (sha256, environment, vault-gke-format). */
  readonly metadata: Readonly<Record<string, string>>;
}

export class SnapshotNotFoundError extends Error {
  constructor(
    readonly bucket: string,
    readonly objectName: string,
    readonly environment: string,
  ) {
    super(
      `object gs://${bucket}/${objectName} does not exist; list environment ${environment}'s snapshots with ` +
        `\`gcloud storage ls -l gs://${bucket}/${snapshotPrefix(environment)}\` and pass one with --object, or use --latest`,
    );
    this.name = "SnapshotNotFoundError";
  }
}

/** A create-only upload met an object of that name that is not the same snapshot. */
export class SnapshotExistsError extends Error {
  constructor(bucket: string, objectName: string) {
    super(`object gs://${bucket}/${objectName} already exists and holds another snapshot; snapshots are never overwritten`);
    this.name = "SnapshotExistsError";
  }
}

/** The client rejects some failures (a refused resumable upload) with plain objects: make them Errors that say what failed. */
export function gcsError(what: string, error: unknown): Error {
  const e = error as { message?: unknown; code?: unknown };
  const message = typeof e?.message === "string" ? e.message : String(error);
  return Object.assign(new Error(`${what}: ${typeof e?.code === "number" ? `HTTP ${e.code}: ` : ""}${message}`), { code: e?.code });
}

function describe(environment: string, meta: FileMetadata): StoredSnapshot | undefined {
  const name = String(meta.name ?? "");
  const takenAt = snapshotTime(environment, name);
  if (!takenAt) return undefined;
  const custom = Object.fromEntries(
    Object.entries(meta.metadata ?? {})
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
  return {
    name,
    generation: String(meta.generation ?? ""),
    bytes: Number(meta.size ?? 0),
    takenAt,
    createdAt: meta.timeCreated ? new Date(meta.timeCreated) : undefined,
    crc32c: meta.crc32c,
    md5: meta.md5Hash,
    metadata: custom,
  };
}

/**
 * The official client, or one pointed at an emulator. The client's own
 * STORAGE_EMULATOR_HOST handling expects the JSON API base (…/storage/v1) yet
 * builds upload URLs from its apiEndpoint; passing the emulator's origin as
 * apiEndpoint (and leaving the variable out of the client's sight) gives both
 * the right base, and like any custom endpoint it sends no credentials.
 */
export function storageClient(emulatorHost: string | undefined, env: NodeJS.ProcessEnv = process.env): Storage {
  if (!emulatorHost) return new Storage();
  delete env.STORAGE_EMULATOR_HOST;
  return new Storage({ apiEndpoint: new URL(emulatorHost).origin });
}

export class SnapshotBucket {
  private readonly bucket: Bucket;

  constructor(
    readonly name: string,
    storage: Storage,
  ) {
    this.bucket = storage.bucket(name);
  }

  /** The environment's snapshots, oldest first (anything else under its prefix is ignored). */
  async list(environment: string, exactName?: string): Promise<StoredSnapshot[]> {
    const prefix = exactName ?? snapshotPrefix(environment);
    const [files] = await this.bucket.getFiles({ prefix, autoPaginate: true }).catch((error: unknown) => {
      throw gcsError(`listing gs://${this.name}/${prefix}`, error);
    });
    return files
      .map((f) => describe(environment, f.metadata))
      .filter((s): s is StoredSnapshot => s !== undefined && (exactName === undefined || s.name === exactName))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async newest(environment: string): Promise<StoredSnapshot | undefined> {
    return (await this.list(environment)).at(-1);
  }

  /** One snapshot by its object name, or SnapshotNotFoundError. */
  async find(environment: string, objectName: string): Promise<StoredSnapshot> {
    const [found] = await this.list(environment, objectName);
    if (!found) throw new SnapshotNotFoundError(this.name, objectName, environment);
    return found;
  }

  /**
   * Uploads a spooled snapshot as a new object (ifGenerationMatch: 0: it never
   * replaces one), declaring its CRC32C and MD5 so GCS itself refuses a body
   * that changed on the way, and checks what GCS reports against what was
   * computed locally. A 412 after the client's own retry is accepted only when
   * the existing object is this very snapshot (an earlier attempt that landed).
   */
  async upload(
    file: string,
    objectName: string,
    environment: string,
    digests: Digests,
    metadata: Record<string, string>,
  ): Promise<StoredSnapshot & { readonly alreadyStored: boolean }> {
    let stored: StoredSnapshot | undefined;
    let alreadyStored = false;
    try {
      const [, meta] = await this.bucket.upload(file, {
        destination: objectName,
        resumable: true,
        validation: "crc32c",
        preconditionOpts: { ifGenerationMatch: 0 },
        metadata: { contentType: "application/octet-stream", crc32c: digests.crc32c, md5Hash: digests.md5, metadata },
      });
      stored = describe(environment, meta as FileMetadata);
    } catch (error) {
      // Resumable uploads fail with an Error or a plain object carrying the HTTP status in `code`.
      if ((error as { code?: unknown } | undefined)?.code !== 412) throw gcsError(`upload of gs://${this.name}/${objectName}`, error);
      const existing = (await this.list(environment, objectName))[0];
      if (!existing || existing.metadata[METADATA.sha256] !== digests.sha256) throw new SnapshotExistsError(this.name, objectName);
      stored = existing;
      alreadyStored = true;
    }
    if (!stored) throw new Error(`GCS answered the upload of ${objectName} without object metadata`);
    verifyStored(stored, digests, metadata);
    return { ...stored, alreadyStored };
  }

  /** Streams one generation of a snapshot to `file`, checking the client's CRC32C on the way; returns the local digests. */
  async download(snapshot: StoredSnapshot, file: string, signal?: AbortSignal): Promise<Digests> {
    const source = this.bucket.file(snapshot.name, { generation: snapshot.generation }).createReadStream({ validation: "crc32c" });
    return spool(source, file, signal).catch((error: unknown) => {
      throw gcsError(`download of gs://${this.name}/${snapshot.name}`, error);
    });
  }
}

/** The end-to-end check: what GCS says it stored equals what was read from Vault. */
export function verifyStored(stored: StoredSnapshot, digests: Digests, metadata: Record<string, string>): void {
  const problems: string[] = [];
  if (stored.bytes !== digests.bytes) problems.push(`size ${stored.bytes} != ${digests.bytes} bytes`);
  if (stored.crc32c !== digests.crc32c) problems.push(`crc32c ${stored.crc32c ?? "missing"} != ${digests.crc32c}`);
  if (stored.md5 !== undefined && stored.md5 !== digests.md5) problems.push(`md5 ${stored.md5} != ${digests.md5}`);
  for (const [key, value] of Object.entries(metadata)) {
    if (stored.metadata[key] !== value) problems.push(`metadata ${key} ${JSON.stringify(stored.metadata[key] ?? null)} != ${JSON.stringify(value)}`);
  }
  if (problems.length > 0) throw new Error(`the stored object ${stored.name} does not match the snapshot read from Vault: ${problems.join("; ")}`);
}
