import { SecretV1 } from "@cdktf/provider-kubernetes/lib/secret-v1";
import { CertRequest } from "@cdktf/provider-tls/lib/cert-request";
import { LocallySignedCert } from "@cdktf/provider-tls/lib/locally-signed-cert";
import { PrivateKey } from "@cdktf/provider-tls/lib/private-key";
import { SelfSignedCert } from "@cdktf/provider-tls/lib/self-signed-cert";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import type { CertificateNames } from "./vault-naming";

/** The generated server certificate is replaced by any apply this many days before it expires. */
export const SERVER_CERT_EARLY_RENEWAL_DAYS = 30;

export interface VaultTlsProps {
  readonly namespace: string;
  /**
   * generated: a CA and a server certificate made by Terraform at apply time
   * (their private keys are in the Terraform state: restrict the state bucket);
   * existingSecret: a kubernetes.io/tls secret made elsewhere (cert-manager) with tls.crt, tls.key and ca.crt.
   */
  readonly mode: "generated" | "existingSecret";
  /** The existing secret's name (existingSecret mode). */
  readonly existingSecretName?: string;
  /** SANs of the generated certificate. */
  readonly names: CertificateNames;
  /** Lifetime of the generated certificate (each CA lives twice as long). */
  readonly validityDays: number;
  /**
   * The CA generations (generated mode): `signing` signs the server certificate, `trusted`
   * are concatenated into ca.crt. Rotating the CA is three applies: trust the next one, sign
   * with it once clients have the bundle, drop the old one. @default { signing: 1, trusted: [1] }
   */
  readonly caGenerations?: { readonly signing: number; readonly trusted: readonly number[] };
  /** @default "vault-tls" */
  readonly secretName?: string;
}

/** The TLS material the Vault pods mount: Vault terminates TLS itself, end to end. */
export class VaultTls extends Construct {
  /** The kubernetes.io/tls secret with tls.crt, tls.key and ca.crt. */
  readonly secretName: string;
  /** The generated CA certificates (PEM, every trusted generation), for clients to trust; undefined with an existing secret. */
  readonly caCertPem?: string;

  constructor(scope: Construct, id: string, props: VaultTlsProps) {
    super(scope, id);
    if (props.mode === "existingSecret") {
      if (!props.existingSecretName) throw new Error("existingSecretName is required with mode existingSecret; name a kubernetes.io/tls secret with ca.crt");
      this.secretName = props.existingSecretName;
      return;
    }
    const validityHours = props.validityDays * 24;
    const generations = props.caGenerations ?? { signing: 1, trusted: [1] };
    if (!generations.trusted.includes(generations.signing)) {
      throw new Error(`caGenerations: generation ${generations.signing} signs but is not trusted (${generations.trusted.join(", ")}); trust it first`);
    }
    // Generation 1 keeps the construct ids it always had, so existing CAs stay in the state.
    const cas = new Map(
      [...new Set([...generations.trusted, generations.signing])].map((gen) => {
        const suffix = gen === 1 ? "" : `-g${gen}`;
        const key = new PrivateKey(this, `ca-key${suffix}`, { algorithm: "ECDSA", ecdsaCurve: "P384" });
        const cert = new SelfSignedCert(this, `ca${suffix}`, {
          privateKeyPem: key.privateKeyPem,
          isCaCertificate: true,
          subject: [{ commonName: `vault-gke ${props.namespace} CA${gen === 1 ? "" : ` ${gen}`}`, organization: "vault-gke" }],
          validityPeriodHours: validityHours * 2,
          // Never renewed by a plain apply: a new CA that clients do not trust yet would fail
          // every connection at once. A CA is replaced only through the generations above.
          earlyRenewalHours: 0,
          allowedUses: ["cert_signing", "crl_signing"],
        });
        return [gen, { key, cert }] as const;
      }),
    );
    const signer = cas.get(generations.signing)!;
    const serverKey = new PrivateKey(this, "server-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const csr = new CertRequest(this, "server-csr", {
      privateKeyPem: serverKey.privateKeyPem,
      subject: [{ commonName: props.names.dnsNames[0], organization: "vault-gke" }],
      dnsNames: props.names.dnsNames,
      ipAddresses: props.names.ipAddresses,
    });
    const cert = new LocallySignedCert(this, "server-cert", {
      certRequestPem: csr.certRequestPem,
      caPrivateKeyPem: signer.key.privateKeyPem,
      caCertPem: signer.cert.certPem,
      validityPeriodHours: validityHours,
      // Any apply in the last 30 days replaces it; the container's watcher reloads it into Vault.
      earlyRenewalHours: SERVER_CERT_EARLY_RENEWAL_DAYS * 24,
      // client_auth: Raft peers present the same certificate when they join.
      allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
    });
    this.secretName = props.secretName ?? "vault-tls";
    // Every trusted CA, in the order listed: clients and Raft peers accept a certificate signed by either.
    const bundle = Fn.join(
      "",
      generations.trusted.map((gen) => cas.get(gen)!.cert.certPem),
    );
    new SecretV1(this, "secret", {
      metadata: { name: this.secretName, namespace: props.namespace },
      type: "kubernetes.io/tls",
      data: { "tls.crt": cert.certPem, "tls.key": serverKey.privateKeyPem, "ca.crt": bundle },
    });
    this.caCertPem = bundle;
  }
}
