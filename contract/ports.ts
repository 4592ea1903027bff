// The ports of a Vault pod that the stacks (listeners, services, probes, the
// NetworkPolicy, client addresses) and the agent (the sidecar's endpoint, the
// commands' defaults) must agree on.

/** Vault's API: the TLS listener clients, load balancers, probes and the sidecar reach. */
export const VAULT_API_PORT = 8200;
/** Vault's cluster port: request forwarding and Raft between the servers, nothing else. */
export const VAULT_CLUSTER_PORT = 8201;
/** The sidecar's HTTP endpoint inside the pod (/livez, /readyz, state, metrics); the kubelet probes it. */
export const SIDECAR_HTTP_PORT = 8210;
