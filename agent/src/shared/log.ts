// Structured JSON logs (pino). Secrets are kept out in three layers: the code
// logs named, non-secret fields only; pino redacts the field names secrets go
// by; and a last filter masks anything shaped like a Vault token.
import pino, { type Logger } from "pino";

const TOKEN_SHAPE = /\b(?:hvs|hvb|hvr|s|b|r)\.[A-Za-z0-9_-]{20,}/g;

export function scrub(text: string): string {
  return text.replace(TOKEN_SHAPE, "[redacted-token]");
}

function scrubDeep(value: unknown): unknown {
  if (typeof value === "string") return scrub(value);
  if (Array.isArray(value)) return value.map(scrubDeep);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, scrubDeep(v)]));
  }
  return value;
}

export const REDACTED_FIELDS = [
  "token",
  "root_token",
  "client_token",
  "keys",
  "keys_base64",
  "recovery_keys",
  "recovery_keys_base64",
  "key",
  "otp",
  "encoded_token",
  "encoded_root_token",
  "payload",
  "data",
  "*.token",
  "*.root_token",
  "*.client_token",
  "*.keys",
  "*.keys_base64",
  "*.recovery_keys",
  "*.recovery_keys_base64",
  "*.payload",
  "*.data",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { component: "vault-gke-bootstrap" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_FIELDS, censor: "[redacted]" },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => scrubDeep(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === "string" ? scrub(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    destination ?? pino.destination({ fd: 1, sync: true }),
  );
}

export type { Logger };
