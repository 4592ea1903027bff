// IPv4 CIDR parsing for validation: a range must parse and have its host bits zero.

export interface Ipv4Range {
  readonly base: number;
  readonly prefixLength: number;
}

export function parseCidr(text: string): Ipv4Range | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefixLength = Number(match[5]);
  if (octets.some((o) => o > 255) || prefixLength > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefixLength);
  if (base % size !== 0) return undefined;
  return { base, prefixLength };
}

export function rangesOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y) return false;
  const xEnd = x.base + 2 ** (32 - x.prefixLength);
  const yEnd = y.base + 2 ** (32 - y.prefixLength);
  return x.base < yEnd && y.base < xEnd;
}
