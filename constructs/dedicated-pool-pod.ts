// What every pod on Vault's dedicated node pool shares, the Vault servers and
// the snapshot job alike: where it may run, the restricted container security
// context, and a view of the TLS secret that holds only the CA.

export interface NodePlacement {
  /** Node label the pods select. */
  readonly label: { readonly key: string; readonly value: string };
  /** Taint of the dedicated pool the pods tolerate (Kubernetes effect, e.g. NoSchedule). */
  readonly taint: { readonly key: string; readonly value: string; readonly effect: string };
}

/** Pod Security "restricted", container level. */
export const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** The pod spec fields that put a pod on the dedicated pool and nowhere else. */
export function onDedicatedPool(p: NodePlacement) {
  return {
    nodeSelector: { [p.label.key]: p.label.value },
    toleration: [{ key: p.taint.key, operator: "Equal", value: p.taint.value, effect: p.taint.effect }],
  };
}

/** A volume with the TLS secret's ca.crt only, never the server's private key. */
export function caOnlyVolume(name: string, tlsSecretName: string) {
  return { name, secret: { secretName: tlsSecretName, defaultMode: "0440", items: [{ key: "ca.crt", path: "ca.crt" }] } };
}
