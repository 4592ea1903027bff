// What a Vault server's listener presents right now: its certificate's expiry,
// and the expiry of the CA in the trusted bundle that issued it. Read over a
// real handshake rather than from the mounted files, so a certificate that was
// renewed on disk but never loaded still shows its old expiry.
import { connect } from "node:tls";
import { X509Certificate } from "node:crypto";

export interface ServedCertificate {
  /** The server certificate's notAfter. */
  readonly expiresAt: Date;
  /** The notAfter of the bundle's CA that issued it; undefined when none of them did (the handshake would have failed). */
  readonly caExpiresAt?: Date;
  readonly fingerprint256: string;
}

/** The PEM certificates of a bundle, in order. */
export function bundleCertificates(bundle: string | Buffer): X509Certificate[] {
  const pems = String(bundle).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return pems.map((pem) => new X509Certificate(pem));
}

/** Connects to `address` (https://host:port), verifies the server against `ca`, and reads its certificate. */
export function servedCertificate(address: string, ca: string | Buffer, servername?: string, timeoutMs = 5000): Promise<ServedCertificate> {
  const url = new URL(address);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: url.hostname,
      port: Number(url.port || 443),
      ca,
      servername: servername ?? url.hostname,
      rejectUnauthorized: true,
      timeout: timeoutMs,
    });
    socket.once("timeout", () => socket.destroy(new Error(`no TLS handshake with ${address} within ${timeoutMs} ms`)));
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      const raw = socket.getPeerX509Certificate();
      socket.end();
      if (!raw) return reject(new Error(`${address} presented no certificate`));
      const issuer = bundleCertificates(ca).find((c) => raw.checkIssued(c) && raw.verify(c.publicKey));
      resolve({
        expiresAt: new Date(raw.validTo),
        caExpiresAt: issuer ? new Date(issuer.validTo) : undefined,
        fingerprint256: raw.fingerprint256,
      });
    });
  });
}
