// Imported first by main.ts, before any Google library loads: switches that
// make those libraries log requests and responses (Secret Manager payloads,
// that is the init response, and access tokens) past every redaction layer
// of the sidecar's own logger. Nothing in the pod should set them; if
// something does, they are removed here, and main.ts says so.
export const CLEARED = ["GOOGLE_SDK_NODE_LOGGING", "GOOGLE_SDK_LOGGING", "NODE_DEBUG", "DEBUG", "GAXIOS_DEBUG"].filter((name) => {
  if (process.env[name] === undefined) return false;
  delete process.env[name];
  return true;
});
