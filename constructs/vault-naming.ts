// Names of the Kubernetes objects around Vault that several constructs (and
// the certificate's SANs) must agree on.

export const VAULT_STATEFULSET = "vault";

export const VAULT_SERVICES = {
  general: "vault",
  active: "vault-active",
  standby: "vault-standby",
  internal: "vault-internal",
} as const;

/** Labels every Vault server pod carries; selectors use them. */
export const VAULT_POD_LABELS = {
  "app.kubernetes.io/name": "vault",
  "app.kubernetes.io/instance": "vault",
  "app.kubernetes.io/component": "server",
} as const;

export function vaultPodNames(replicas: number): string[] {
  return Array.from({ length: replicas }, (_, i) => `${VAULT_STATEFULSET}-${i}`);
}

/** The name a peer reaches pod `pod` by, through the headless service. */
export function vaultPodHost(pod: string, namespace: string): string {
  return `${pod}.${VAULT_SERVICES.internal}.${namespace}.svc.cluster.local`;
}

export interface CertificateNames {
  readonly dnsNames: string[];
  readonly ipAddresses: string[];
}

/** The load balancer's Service (exposure loadBalancer): in-cluster clients may name it too. */
export const VAULT_LB_SERVICE = "vault-lb";

/**
 * Every name a client or peer uses: the services (the load balancer's too), each pod through
 * the headless service, the public hostname, loopback, and `addresses` (the load balancer's
 * static address, for clients that connect by IP).
 */
export function vaultCertificateNames(namespace: string, replicas: number, hostname: string, addresses: readonly string[] = []): CertificateNames {
  const forms = (name: string) => [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
  const services = [...Object.values(VAULT_SERVICES), VAULT_LB_SERVICE].flatMap(forms);
  const pods = vaultPodNames(replicas).flatMap((pod) => forms(`${pod}.${VAULT_SERVICES.internal}`));
  return { dnsNames: [hostname, ...services, ...pods, "localhost"], ipAddresses: ["127.0.0.1", "::1", ...addresses] };
}
