// The audit devices against what the vault stack declares: no other device, none missing, none logging raw values.
import type { DeclaredAccess } from "../../../contract/declared-access";
import type { Finding } from "./finding";
import type { VaultInventory } from "./inventory";

/** The declared audit devices, each logging HMACs only; no other device (a socket or raw device would receive every client token). */
export function auditDevices(inv: VaultInventory, declared: DeclaredAccess): Finding[] {
  const findings: Finding[] = [];
  // A declaration shipped before audit devices were declared: nothing to compare with.
  if (!declared.auditDevices) return findings;
  const wanted = new Map(declared.auditDevices.map((d) => [d.path, d]));
  for (const [path, device] of Object.entries(inv.auditDevices)) {
    const at = `sys/audit/${path}`;
    const want = wanted.get(path);
    if (!want) {
      findings.push({ kind: "audit-device", path: at, detail: `a ${device.type} audit device no stack declares: it receives every request and response` });
      continue;
    }
    const problems: string[] = [];
    if (device.type !== want.type) problems.push(`is a ${device.type} device; the vault stack declares ${want.type}`);
    if (want.filePath !== undefined && device.options.file_path !== want.filePath)
      problems.push(`writes to ${device.options.file_path ?? "an unknown place"}; the vault stack declares ${want.filePath}`);
    if (device.options.log_raw === "true") problems.push("logs raw values (log_raw: every client token in plain text)");
    if (device.options.hmac_accessor === "false") problems.push("logs token accessors in plain text (hmac_accessor false)");
    if (problems.length > 0) findings.push({ kind: "audit-device", path: at, detail: problems.join("; ") });
  }
  for (const path of wanted.keys()) {
    if (!inv.auditDevices[path])
      findings.push({
        kind: "audit-device",
        path: `sys/audit/${path}`,
        detail: "is missing: with one device left, a full audit disk or a closed stdout blocks every request",
      });
  }
  return findings;
}
