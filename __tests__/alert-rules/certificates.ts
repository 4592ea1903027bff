// Certificates with a chosen lifetime for a running test cluster, for the
// certificate alert: the test PKI (support/pki.ts) issues two-day certificates,
// which that alert (14 days) would always see. Both keep their key and names:
// the CA certificate is issued again from its own key and subject (a client
// that trusts the old one still verifies the new chain), the server
// certificate again from its key with the extensions it carries (its SANs).
// The servers read their certificate files again on SIGHUP, as Vault does for
// a rotated certificate.
import { execFileSync } from "node:child_process";
import { renameSync } from "node:fs";
import { join } from "node:path";
import type { BaoServer } from "../support/bao";

const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });

/** Issues the CA certificate in `caDir` (ca.crt from ca.key) again, valid for `days`. */
export function reissueCa(caDir: string, days: number): void {
  const f = (name: string) => join(caDir, name);
  const subject = String(openssl(["x509", "-in", f("ca.crt"), "-noout", "-subject", "-nameopt", "compat"]))
    .trim()
    .replace(/^subject=/, "");
  openssl(["req", "-x509", "-new", "-key", f("ca.key"), "-sha256", "-days", String(days), "-subj", subject, "-out", f("ca.crt.new")]);
  renameSync(f("ca.crt.new"), f("ca.crt"));
}

/** Issues the server certificate in `dir` (tls.crt from tls.key, the same SANs) again from the CA in `caDir`, valid for `days`. */
export function reissueServerCertificate(caDir: string, dir: string, days: number): void {
  const f = (name: string) => join(dir, name);
  openssl(["x509", "-x509toreq", "-in", f("tls.crt"), "-signkey", f("tls.key"), "-copy_extensions", "copy", "-out", f("reissue.csr")]);
  openssl([
    "x509",
    "-req",
    "-in",
    f("reissue.csr"),
    "-CA",
    join(caDir, "ca.crt"),
    "-CAkey",
    join(caDir, "ca.key"),
    "-CAcreateserial",
    "-CAserial",
    f("ca.srl"),
    "-copy_extensions",
    "copy",
    "-days",
    String(days),
    "-sha256",
    "-out",
    f("tls.crt.new"),
  ]);
  renameSync(f("tls.crt.new"), f("tls.crt"));
}

/** Has every server read its certificate files again. */
export function reloadCertificates(servers: readonly BaoServer[]): void {
  for (const s of servers) if (s.alive && s.pid) process.kill(s.pid, "SIGHUP");
}
