// Streams a snapshot into a spool file while hashing it, so neither command
// ever holds a whole snapshot in memory: SHA-256 (recorded in the object's
// metadata and checked on restore), and CRC32C and MD5 in the encodings GCS
// reports (base64), for the end-to-end upload and download checks.
import { createHash, type Hash } from "node:crypto";
import { createWriteStream, openSync, rmSync } from "node:fs";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CRC32C } from "@google-cloud/storage";

export interface Digests {
  readonly bytes: number;
  /** Hex, as recorded in the object's `sha256` metadata. */
  readonly sha256: string;
  /** Base64 big-endian, as GCS reports `crc32c`. */
  readonly crc32c: string;
  /** Base64, as GCS reports `md5Hash`. */
  readonly md5: string;
}

/** A pass-through stream that hashes what flows through it; `digests()` once it has ended. */
export class HashingStream extends Transform {
  private readonly sha256: Hash = createHash("sha256");
  private readonly md5: Hash = createHash("md5");
  private readonly crc32c = new CRC32C();
  private bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.sha256.update(chunk);
    this.md5.update(chunk);
    this.crc32c.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  digests(): Digests {
    return { bytes: this.bytes, sha256: this.sha256.digest("hex"), crc32c: this.crc32c.toString(), md5: this.md5.digest("base64") };
  }
}

/**
 * Writes `source` to a new file (it must not exist; owner-only permissions) and
 * returns its digests. On any failure the partial file is removed.
 */
export async function spool(source: Readable, file: string, signal?: AbortSignal): Promise<Digests> {
  const hashing = new HashingStream();
  // Created here, before any data flows: a stream that opens its file lazily can
  // create it after an early failure's cleanup ran, leaving a stray spool file.
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o600);
  } catch (error) {
    source.destroy(); // nothing will read it: release the connection behind it
    throw error;
  }
  try {
    await pipeline(source, hashing, createWriteStream(file, { fd }), { signal });
  } catch (error) {
    removeSpool(file);
    throw error;
  }
  return hashing.digests();
}

/** Removes a spool file; never throws (it runs in cleanup paths). */
export function removeSpool(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // a leftover spool file is noise, not a reason to fail; the emptyDir goes with the pod
  }
}
