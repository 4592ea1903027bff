// Helpers the handlers share: reading a body, reading JSON fields leniently, and answering a list in pages.
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";

/** Answers a request with a JSON body (and records the status). */
export type Send = (status: number, body: unknown, headers?: OutgoingHttpHeaders) => void;

export const asObject = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
export const asString = (v: unknown): string => (typeof v === "string" ? v : "");

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * A page of items, paged as GitHub pages lists: 1-based, per_page default 30 and at most 100, Link to the next and last.
 * base is the stand-in's URL, which the Link URLs start with.
 */
export function page(base: string, url: URL, items: readonly unknown[], send: Send): void {
  const perPage = Math.min(Math.max(Math.trunc(Number(url.searchParams.get("per_page"))) || 30, 1), 100);
  const page = Math.max(Math.trunc(Number(url.searchParams.get("page"))) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const headers: OutgoingHttpHeaders = {};
  if (page < last) {
    const link = (p: number) => {
      const u = new URL(url.pathname + url.search, base);
      u.searchParams.set("per_page", String(perPage));
      u.searchParams.set("page", String(p));
      return `<${u.href}>`;
    };
    headers.Link = `${link(page + 1)}; rel="next", ${link(last)}; rel="last"`;
  }
  send(200, items.slice((page - 1) * perPage, page * perPage), headers);
}
