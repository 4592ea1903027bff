import { SecretV1 } from "@cdktf/provider-kubernetes/lib/secret-v1";
import { CertRequest } from "@cdktf/provider-tls/lib/cert-request";
import { LocallySignedCert } from "@cdktf/provider-tls/lib/locally-signed-cert";
import { PrivateKey } from "@cdktf/provider-tls/lib/private-key";
import { SelfSignedCert } from "@cdktf/provider-tls/lib/self-signed-cert";
import { Construct } from "constructs";
import type { CertificateNames } from "./vault-naming";

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
  /** Lifetime of the generated certificate (the CA lives twice as long). */
  readonly validityDays: number;
  /** @default "vault-tls" */
  readonly secretName?: string;
}

/** The TLS material the Vault pods mount: Vault terminates TLS itself, end to end. */
export class VaultTls extends Construct {
  /** The kubernetes.io/tls secret with tls.crt, tls.key and ca.crt. */
  readonly secretName: string;
  /** The generated CA certificate (PEM), for clients to trust; undefined with an existing secret. */
  readonly caCertPem?: string;

  constructor(scope: Construct, id: string, props: VaultTlsProps) {
    super(scope, id);
    if (props.mode === "existingSecret") {
      if (!props.existingSecretName) throw new Error("existingSecretName is required with mode existingSecret; name a kubernetes.io/tls secret with ca.crt");
      this.secretName = props.existingSecretName;
      return;
    }
    const validityHours = props.validityDays * 24;
    const caKey = new PrivateKey(this, "ca-key", { algorithm: "ECDSA", ecdsaCurve: "P384" });
    const ca = new SelfSignedCert(this, "ca", {
      privateKeyPem: caKey.privateKeyPem,
      isCaCertificate: true,
      subject: [{ commonName: `vault-gke ${props.namespace} CA`, organization: "vault-gke" }],
      validityPeriodHours: validityHours * 2,
      earlyRenewalHours: validityHours,
      allowedUses: ["cert_signing", "crl_signing"],
    });
    const serverKey = new PrivateKey(this, "server-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const csr = new CertRequest(this, "server-csr", {
      privateKeyPem: serverKey.privateKeyPem,
      subject: [{ commonName: props.names.dnsNames[0], organization: "vault-gke" }],
      dnsNames: props.names.dnsNames,
      ipAddresses: props.names.ipAddresses,
    });
    const cert = new LocallySignedCert(this, "server-cert", {
      certRequestPem: csr.certRequestPem,
      caPrivateKeyPem: caKey.privateKeyPem,
      caCertPem: ca.certPem,
      validityPeriodHours: validityHours,
      earlyRenewalHours: 30 * 24,
      // client_auth: Raft peers present the same certificate when they join.
      allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
    });
    this.secretName = props.secretName ?? "vault-tls";
    new SecretV1(this, "secret", {
      metadata: { name: this.secretName, namespace: props.namespace },
      type: "kubernetes.io/tls",
      data: { "tls.crt": cert.certPem, "tls.key": serverKey.privateKeyPem, "ca.crt": ca.certPem },
    });
    this.caCertPem = ca.certPem;
  }
}
