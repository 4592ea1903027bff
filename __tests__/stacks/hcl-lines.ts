// A tiny structural reading of rendered server HCL for assertions: which
// listeners exist and whether each serves TLS. (OpenBao itself parses the text
// in the integration test; this only keeps the unit tests readable.)
export function parse(hcl: string): { listeners: string[]; listenerTls: boolean } {
  const blocks = [...hcl.matchAll(/listener "([^"]+)" \{([\s\S]*?)\n\}/g)];
  return {
    listeners: blocks.map((b) => b[1]),
    listenerTls: blocks.length > 0 && blocks.every((b) => /tls_disable = false/.test(b[2]) && /tls_cert_file = "/.test(b[2])),
  };
}
