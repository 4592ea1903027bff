// A throwaway CA and server certificate made with the openssl CLI, for tests
// that run real TLS servers on loopback.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestPki {
  readonly caCertFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export function makeTestPki(dir: string, dnsNames: readonly string[], ipAddresses: readonly string[] = ["127.0.0.1"]): TestPki {
  const caCertFile = makeTestCa(dir, "vault-gke test CA");
  return { caCertFile, ...signServerCertificate(dir, dir, dnsNames, ipAddresses) };
}

/** A CA (ca.crt, ca.key) in `dir`; returns the certificate's path. */
export function makeTestCa(dir: string, commonName: string): string {
  const f = (name: string) => join(dir, name);
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f("ca.key")]);
  run(["req", "-x509", "-new", "-key", f("ca.key"), "-sha256", "-days", "2", "-subj", `/CN=${commonName}`, "-out", f("ca.crt")]);
  return f("ca.crt");
}

/** A new key and server certificate (tls.key, tls.crt in `outDir`) signed by the CA in `caDir`. */
export function signServerCertificate(
  caDir: string,
  outDir: string,
  dnsNames: readonly string[],
  ipAddresses: readonly string[] = ["127.0.0.1"],
): { certFile: string; keyFile: string } {
  const f = (name: string) => join(outDir, name);
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f("tls.key")]);
  run(["req", "-new", "-key", f("tls.key"), "-subj", "/CN=vault", "-out", f("tls.csr")]);
  const san = [...dnsNames.map((d) => `DNS:${d}`), ...ipAddresses.map((ip) => `IP:${ip}`)].join(",");
  writeFileSync(f("ext.cnf"), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
  run([
    "x509",
    "-req",
    "-in",
    f("tls.csr"),
    "-CA",
    join(caDir, "ca.crt"),
    "-CAkey",
    join(caDir, "ca.key"),
    "-CAcreateserial",
    "-CAserial",
    f("ca.srl"),
    "-days",
    "2",
    "-sha256",
    "-extfile",
    f("ext.cnf"),
    "-out",
    f("tls.crt"),
  ]);
  return { certFile: f("tls.crt"), keyFile: f("tls.key") };
}
