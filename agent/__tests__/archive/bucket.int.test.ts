// The snapshot bucket through the official client against fake-gcs-server:
// create-only uploads with the checksums declared up front (so the storage
// service itself refuses a body that changed on the way), the end-to-end
// comparison with what was computed locally, and streamed downloads.
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeGcs, stopAllFakeGcs, type FakeGcs } from "../../../__tests__/support/fake-gcs";
import { SnapshotBucket, SnapshotExistsError, storageClient, verifyStored } from "../../src/archive/bucket";
import { snapshotMetadata, snapshotObjectName } from "../../src/archive/object";
import { spool, type Digests } from "../../src/archive/spool";

jest.setTimeout(60_000);

const BUCKET = "p-prod-vault-snapshots";
let dir: string;
let gcs: FakeGcs;
let bucket: SnapshotBucket;

async function spooled(name: string, bytes: number): Promise<{ file: string; digests: Digests }> {
  writeFileSync(join(dir, `${name}.src`), randomBytes(bytes));
  const file = join(dir, name);
  return { file, digests: await spool(createReadStream(join(dir, `${name}.src`)), file) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vault-gke-bucket-"));
  gcs = await startFakeGcs();
  await gcs.createBucket(BUCKET);
  bucket = new SnapshotBucket(BUCKET, storageClient(gcs.url, {}));
});
afterAll(async () => {
  await stopAllFakeGcs();
  rmSync(dir, { recursive: true, force: true });
});

it("uploads a new object with its metadata and the checksums GCS reports equal to the local ones", async () => {
  // Above the client's 5 MiB mark for chunked (resumable) uploads, as real snapshots are.
  const { file, digests } = await spooled("big", 6 * 1024 * 1024 + 3);
  const name = snapshotObjectName("prod", new Date("2026-01-01T00:00:00Z"));
  const stored = await bucket.upload(file, name, "prod", digests, snapshotMetadata("prod", digests.sha256));
  expect(stored).toMatchObject({ name, bytes: digests.bytes, crc32c: digests.crc32c, md5: digests.md5, alreadyStored: false });
  expect(await gcs.describeObject(BUCKET, name)).toMatchObject({
    size: digests.bytes,
    crc32c: digests.crc32c,
    md5Hash: digests.md5,
    metadata: snapshotMetadata("prod", digests.sha256),
  });
});

it("never overwrites: another snapshot under the same name is refused, the same one is recognized", async () => {
  const first = await spooled("first", 1000);
  const other = await spooled("other", 1000);
  const name = snapshotObjectName("prod", new Date("2026-01-01T01:00:00Z"));
  await bucket.upload(first.file, name, "prod", first.digests, snapshotMetadata("prod", first.digests.sha256));
  await expect(bucket.upload(other.file, name, "prod", other.digests, snapshotMetadata("prod", other.digests.sha256))).rejects.toThrow(SnapshotExistsError);
  // A retried run whose first upload landed (the answer was lost) finds its own object.
  expect((await bucket.upload(first.file, name, "prod", first.digests, snapshotMetadata("prod", first.digests.sha256))).alreadyStored).toBe(true);
  expect((await gcs.getObject(BUCKET, name)).length).toBe(1000);
  expect((await gcs.describeObject(BUCKET, name))?.metadata.sha256).toBe(first.digests.sha256);
});

it("the storage service refuses a body whose MD5 and CRC32C are not the ones declared when the upload started", async () => {
  const { file, digests } = await spooled("changed", 2000);
  const other = await spooled("declared", 2000);
  const name = snapshotObjectName("prod", new Date("2026-01-01T02:00:00Z"));
  // As if the spool file changed between hashing and uploading: the declared checksums are the other file's.
  await expect(
    bucket.upload(file, name, "prod", { ...digests, crc32c: other.digests.crc32c, md5: other.digests.md5 }, snapshotMetadata("prod", digests.sha256)),
  ).rejects.toThrow(
    /^upload of gs:\/\/p-prod-vault-snapshots\/prod\/prod-20260101T020000Z.snap: HTTP 400: provided (MD5 hash|CRC32C) .* doesn't match calculated/,
  );
  expect(await gcs.describeObject(BUCKET, name)).toBeUndefined();
});

it("compares what GCS stored with what was read from Vault, field by field", () => {
  const digests = { bytes: 10, sha256: "a".repeat(64), crc32c: "AAAAAA==", md5: "bWQ1" };
  const stored = {
    name: "prod/prod-20260101T000000Z.snap",
    generation: "1",
    bytes: 10,
    takenAt: new Date(),
    crc32c: "AAAAAA==",
    md5: "bWQ1",
    metadata: snapshotMetadata("prod", "a".repeat(64)),
  };
  expect(() => verifyStored(stored, digests, snapshotMetadata("prod", digests.sha256))).not.toThrow();
  expect(() => verifyStored({ ...stored, bytes: 9, crc32c: "BBBBBB==" }, digests, snapshotMetadata("prod", digests.sha256))).toThrow(
    "the stored object prod/prod-20260101T000000Z.snap does not match the snapshot read from Vault: size 9 != 10 bytes; crc32c BBBBBB== != AAAAAA==",
  );
  expect(() => verifyStored({ ...stored, metadata: {} }, digests, snapshotMetadata("prod", digests.sha256))).toThrow(/metadata sha256 null != "a{64}"/);
});

it("lists only the environment's snapshots, newest last, and downloads one generation with its digests", async () => {
  await gcs.putObject(BUCKET, "prod/README.txt", Buffer.from("not a snapshot"));
  await gcs.putObject(BUCKET, "prod-eu/prod-eu-20300101T000000Z.snap", Buffer.from("another environment"));
  const names = (await bucket.list("prod")).map((s) => s.name);
  expect(names).toEqual(["prod/prod-20260101T000000Z.snap", "prod/prod-20260101T010000Z.snap"]);
  const newest = await bucket.newest("prod");
  const digests = await bucket.download(newest!, join(dir, "downloaded"));
  expect(digests.sha256).toBe(newest!.metadata.sha256);
});
