import { JwtAuthBackend } from "@cdktf/provider-vault/lib/jwt-auth-backend";
import { JwtAuthBackendRole } from "@cdktf/provider-vault/lib/jwt-auth-backend-role";
import { Construct } from "constructs";
import { APPLY_ROLE, AUTH_PATHS } from "../contract/vault-names";

/** Google signs the ID tokens of service accounts (the issuer auth/runner trusts by default); for callers that configure auth/runner themselves. */
export { GOOGLE_ISSUER } from "../contract/vault-names";

export interface ApplyRoleProps {
  /** Google service accounts (emails) of approved applies. */
  readonly applyServiceAccounts: readonly string[];
  /** The audience runners request for their ID tokens (the Vault address). */
  readonly audience: string;
  /** The provisioner policy's name. */
  readonly policy: string;
  /** Token lifetime; also the hard ceiling (the token cannot be renewed past it). */
  readonly ttlSec: number;
  /** Never longer than this, whatever the TTL. */
  readonly maxTtlSec: number;
}

/**
 * The apply role's settings in Vault's API terms: a pure function, so the tests
 * write exactly these to a real OpenBao and replay logins against them.
 */
export function applyRoleSettings(props: ApplyRoleProps) {
  if (props.applyServiceAccounts.length === 0) throw new Error("applyServiceAccounts is empty; list the apply runners' Google service accounts");
  if (props.ttlSec > props.maxTtlSec) throw new Error(`ttlSec (${props.ttlSec}) cannot exceed maxTtlSec (${props.maxTtlSec})`);
  return {
    role_type: "jwt",
    bound_audiences: [props.audience],
    user_claim: "email",
    bound_claims_type: "string",
    bound_claims: { email: [...props.applyServiceAccounts] },
    token_policies: [props.policy],
    token_ttl: props.ttlSec,
    token_max_ttl: props.ttlSec,
    token_explicit_max_ttl: props.maxTtlSec,
    token_type: "service",
    // Without the default policy: no cubbyhole or response-wrapping storage; the provisioner policy grants what the token needs of itself.
    token_no_default_policy: true,
  } as const;
}

export interface RunnerAuthProps extends ApplyRoleProps {
  /** Where the backend is mounted. @default AUTH_PATHS.runner ("runner") */
  readonly path?: string;
  /** @default APPLY_ROLE ("provisioner") */
  readonly roleName?: string;
  /** The OIDC issuer whose keys sign the ID tokens (the environment's delivery.runnerIssuer, Google's by default). */
  readonly issuer: string;
}

/**
 * How runners get the apply credential: a JWT auth backend that accepts
 * Google-signed ID tokens of the apply service accounts only (works on
 * HashiCorp Vault and OpenBao alike; no key file exists anywhere), and one
 * role whose tokens carry the provisioner policy for minutes.
 */
export class RunnerAuth extends Construct {
  readonly path: string;

  constructor(scope: Construct, id: string, props: RunnerAuthProps) {
    super(scope, id);
    const issuer = props.issuer;
    const s = applyRoleSettings(props);
    const backend = new JwtAuthBackend(this, "backend", {
      path: props.path ?? AUTH_PATHS.runner,
      type: "jwt",
      description: "runners' Google service accounts: approved applies (vault-gke)",
      oidcDiscoveryUrl: issuer,
      boundIssuer: issuer,
      tune: [{ defaultLeaseTtl: `${props.ttlSec}s`, maxLeaseTtl: `${props.maxTtlSec}s`, tokenType: "default-service" }],
    });
    this.path = backend.path;
    new JwtAuthBackendRole(this, "apply-role", {
      backend: backend.path,
      roleName: props.roleName ?? APPLY_ROLE,
      roleType: s.role_type,
      boundAudiences: [...s.bound_audiences],
      userClaim: s.user_claim,
      boundClaimsType: s.bound_claims_type,
      // The provider turns a comma-separated value into the list Vault matches against.
      boundClaims: { email: s.bound_claims.email.join(",") },
      tokenPolicies: [...s.token_policies],
      tokenTtl: s.token_ttl,
      tokenMaxTtl: s.token_max_ttl,
      tokenExplicitMaxTtl: s.token_explicit_max_ttl,
      tokenType: s.token_type,
      tokenNoDefaultPolicy: s.token_no_default_policy,
    });
  }
}
