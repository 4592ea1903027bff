// The value types environment and tenant files are made of (names, ranges,
// durations, certificates), each with the message that says how to write it.
import { X509Certificate } from "node:crypto";
import { z } from "zod";
import { parseCidr } from "../cidr";

/** `why`: what the length limit protects, for the error (a name other names are built from). */
export const dnsLabel = (what: string, max = 63, why?: string) =>
  z
    .string()
    .max(max, { error: `${what} must be at most ${max} characters${why ? ` (${why})` : ""}` })
    .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, {
      error: `${what} must be lowercase letters, digits and '-', starting with a letter (for example 'prod')`,
    });

export const dnsName = z
  .string()
  .max(253, { error: "a DNS name has at most 253 characters" })
  .regex(/^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/, {
    error: "not a DNS name; use lowercase labels separated by dots, for example vault.example.com",
  });

export const cidr = z.string().refine((value) => parseCidr(value) !== undefined, {
  error: "not an IPv4 CIDR range; write it as a.b.c.d/n with the host bits zero, for example 10.10.0.0/20",
});

/** A Vault duration such as 30m, 1h or 768h, converted to seconds. */
export const duration = z
  .string()
  .regex(/^\d+[smh]$/, { error: "not a duration; write a whole number followed by s, m or h, for example 1h" })
  .transform((value) => {
    const n = Number(value.slice(0, -1));
    return n * { s: 1, m: 60, h: 3600 }[value.slice(-1) as "s" | "m" | "h"];
  });

export const pemCertificate = z.string().refine(
  (text) => {
    try {
      new X509Certificate(text);
      return /-----BEGIN CERTIFICATE-----/.test(text);
    } catch {
      return false;
    }
  },
  {
    error: "not a PEM certificate; paste the cluster CA (gcloud container clusters describe ... --format='value(masterAuth.clusterCaCertificate)' | base64 -d)",
  },
);

export const serviceAccountEmail = z.email({ error: "not a service account email; write its email, for example deployer@my-project.iam.gserviceaccount.com" });

export const kubernetesQuantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/, {
  error: "not a Kubernetes quantity; for example 500m for CPU or 512Mi for memory",
});
