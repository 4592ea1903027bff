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
  const f = (name: string) => join(dir, name);
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f("ca.key")]);
  run(["req", "-x509", "-new", "-key", f("ca.key"), "-sha256", "-days", "2", "-subj", "/CN=vault-gke test CA", "-out", f("ca.crt")]);
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
    f("ca.crt"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-sha256",
    "-extfile",
    f("ext.cnf"),
    "-out",
    f("tls.crt"),
  ]);
  return { caCertFile: f("ca.crt"), certFile: f("tls.crt"), keyFile: f("tls.key") };
}
