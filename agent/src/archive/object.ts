// How snapshots are named and labelled in the bucket. Shared by the snapshot
// command (which writes them) and the restore command (which reads them back).
//   <env>/<env>-<YYYYMMDDTHHMMSSZ>.snap   (UTC; names sort in time order)

/** The value of the `vault-gke-format` metadata key; a reader refuses any other. */
export const SNAPSHOT_FORMAT = "snapshot/v1";

/** Custom metadata keys on every snapshot object (GCS sets them when the upload starts). */
export const METADATA = {
  sha256: "sha256",
  environment: "environment",
  format: "vault-gke-format",
} as const;

const ENVIRONMENT_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function isEnvironmentName(name: string): boolean {
  return name.length <= 63 && ENVIRONMENT_NAME.test(name);
}

/** 2026-11-29T16:04:05.123Z -> 20261129T160405Z */
export function compactUtc(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

/** The folder of an environment's snapshots, with its trailing slash. */
export function snapshotPrefix(environment: string): string {
  return `${environment}/`;
}

export function snapshotObjectName(environment: string, takenAt: Date): string {
  return `${snapshotPrefix(environment)}${environment}-${compactUtc(takenAt)}.snap`;
}

/** The time in a snapshot object's name, or undefined when the name is not one of this environment's snapshots. */
export function snapshotTime(environment: string, objectName: string): Date | undefined {
  const prefix = `${snapshotPrefix(environment)}${environment}-`;
  if (!objectName.startsWith(prefix) || !objectName.endsWith(".snap")) return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(objectName.slice(prefix.length, -".snap".length));
  if (!m) return undefined;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The newest of an environment's snapshot names (by the time in the name), ignoring anything else under its prefix. */
export function newestSnapshotName(environment: string, names: Iterable<string>): string | undefined {
  let newest: string | undefined;
  for (const name of names) {
    if (snapshotTime(environment, name) && (newest === undefined || name > newest)) newest = name;
  }
  return newest;
}

/** The custom metadata the snapshot command records. */
export function snapshotMetadata(environment: string, sha256Hex: string): Record<string, string> {
  return { [METADATA.sha256]: sha256Hex, [METADATA.environment]: environment, [METADATA.format]: SNAPSHOT_FORMAT };
}
