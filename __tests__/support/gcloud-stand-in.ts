// A stand-in for the Google Cloud CLI, put first on PATH by the tests of the
// runners' scripts (deploy/atlantis/bin). It answers only the three commands
// those scripts run, from files the test writes:
//   gcloud secrets versions access latest --project=P --secret=S   -> secrets/P/S
//   gcloud storage cat gs://B/O                                     -> gcs/B/O
//   gcloud auth print-identity-token --audiences=A --include-email
//          [--impersonate-service-account=SA]                      -> id-tokens/<A, / and : as _>,
//          or, after signIdTokens(), a token minted at each call as gcloud documents it
//          (gcloud reference, `auth print-identity-token`): one hour of validity; the
//          email and email_verified claims only with --include-email AND
//          --impersonate-service-account (the flag "should only be used for impersonate
//          service account"): the ambient credential of a GKE pod (Workload Identity's
//          metadata server) gives a token without them. Each minted token's claims are
//          appended to minted.log.
// Modes (file "mode"): ok; noisy (succeeds but writes a warning on stderr, as
// gcloud does about updates); fail (prints partial output on stdout and an
// error on stderr, exit 1, as a denied call does). Every call's arguments are
// appended to calls.log. Not emulated: authentication, IAM, other flags.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const SCRIPT = `#!/usr/bin/env bash
set -uo pipefail
here=$(dirname "$0")
echo "$*" >>"$here/calls.log"
mode=$(cat "$here/mode")
if [ "$mode" = fail ]; then
  echo "partial output that must not become a token"
  echo "ERROR: (gcloud.$1) PERMISSION_DENIED: the caller does not have permission (stand-in)" >&2
  exit 1
fi
[ "$mode" = noisy ] && echo "WARNING: a newer version of the Google Cloud CLI is available (stand-in)" >&2
arg() { local name=$1; shift; for a in "$@"; do case $a in --$name=*) echo "\${a#--$name=}"; return 0 ;; esac; done; return 1; }
serve() { if [ -f "$1" ]; then cat "$1"; else echo "ERROR: $2 NOT_FOUND (stand-in)" >&2; exit 1; fi; }
case "$1 $2" in
  "secrets versions")
    [ "$3 $4" = "access latest" ] || { echo "ERROR: unexpected: $*" >&2; exit 2; }
    serve "$here/secrets/$(arg project "$@")/$(arg secret "$@")" "secret $(arg secret "$@")" ;;
  "storage cat")
    if [ -f "$here/gcs-endpoint" ]; then
      path=\${3#gs://}; bucket=\${path%%/*}; object=\$(jq -rn --arg o "\${path#*/}" '$o|@uri')
      curl -sf "\$(cat "$here/gcs-endpoint")/storage/v1/b/$bucket/o/$object?alt=media" || { echo "ERROR: object $3 NOT_FOUND (stand-in)" >&2; exit 1; }
    else
      serve "$here/gcs/\${3#gs://}" "object $3"
    fi ;;
  "auth print-identity-token")
    audience=$(arg audiences "$@") || { echo "ERROR: stand-in wants --audiences" >&2; exit 2; }
    if [ -f "$here/signer.js" ]; then
      email=no; printf '%s\\n' "$@" | grep -qx -- --include-email && email=yes
      exec node "$here/signer.js" "$audience" "$(arg impersonate-service-account "$@" || true)" "$email"
    fi
    printf '%s\\n' "$@" | grep -qx -- --include-email || { echo "ERROR: stand-in wants --include-email" >&2; exit 2; }
    serve "$here/id-tokens/$(echo "$audience" | tr '/:' '__')" "ID token for audience $audience" ;;
  *) echo "ERROR: the stand-in does not know: gcloud $*" >&2; exit 2 ;;
esac
`;

const SIGNER = `const { createSign } = require("node:crypto");
const { appendFileSync, readFileSync } = require("node:fs");
const { join } = require("node:path");
const [audience, impersonated, includeEmail] = process.argv.slice(2);
const config = JSON.parse(readFileSync(join(__dirname, "signer.json"), "utf8"));
const now = Math.floor(Date.now() / 1000);
const b64url = (v) => Buffer.from(v).toString("base64url");
const who = impersonated || config.ambient;
const claims = { iss: config.issuer, aud: audience, azp: who, sub: config.subjects[who] || "100000000000000000000", iat: now, exp: now + config.ttlSec };
if (impersonated && includeEmail === "yes") Object.assign(claims, { email: impersonated, email_verified: true });
appendFileSync(join(__dirname, "minted.log"), JSON.stringify(claims) + "\\n");
const input = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: "stand-in" })) + "." + b64url(JSON.stringify(claims));
process.stdout.write(input + "." + b64url(createSign("RSA-SHA256").update(input).sign(config.privateKey)) + "\\n");
`;

export type GcloudMode = "ok" | "noisy" | "fail";

export class GcloudStandIn {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "vault-gke-gcloud-"));
    writeFileSync(join(this.dir, "gcloud"), SCRIPT, { mode: 0o755 });
    this.mode("ok");
  }

  /** PATH with the stand-in first. */
  path(rest = process.env.PATH ?? ""): string {
    return `${this.dir}:${rest}`;
  }

  mode(mode: GcloudMode): void {
    writeFileSync(join(this.dir, "mode"), mode);
  }

  private put(file: string, content: string): void {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }

  secret(project: string, secret: string, value: string): void {
    this.put(join(this.dir, "secrets", project, secret), value);
  }

  object(bucket: string, object: string, content: string): void {
    this.put(join(this.dir, "gcs", bucket, object), content);
  }

  idToken(audience: string, token: string): void {
    this.put(join(this.dir, "id-tokens", audience.replace(/[/:]/g, "_")), `${token}\n`);
  }

  /**
   * From now on, mint each ID token at the call, signed with `privateKey`, as gcloud does;
   * `ambient` is the identity of the runner's own credential (a GKE pod's service account).
   */
  signIdTokens(privateKey: string, ambient: string, ttlSec = 3600, issuer = "https://accounts.google.com"): void {
    writeFileSync(join(this.dir, "signer.json"), JSON.stringify({ privateKey, ambient, ttlSec, issuer, subjects: {} }));
    writeFileSync(join(this.dir, "signer.js"), SIGNER);
  }

  /** The claims of every token minted since signIdTokens(), oldest first. */
  minted(): Record<string, unknown>[] {
    try {
      return readFileSync(join(this.dir, "minted.log"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      return [];
    }
  }

  /** From now on, `gcloud storage cat` reads the objects from this Cloud Storage endpoint (fake-gcs-server). */
  storageEndpoint(url: string): void {
    writeFileSync(join(this.dir, "gcs-endpoint"), url);
  }

  calls(): string[] {
    try {
      return readFileSync(join(this.dir, "calls.log"), "utf8").split("\n").filter(Boolean);
    } catch {
      return [];
    }
  }

  clearCalls(): void {
    appendFileSync(join(this.dir, "calls.log"), "");
    writeFileSync(join(this.dir, "calls.log"), "");
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
