/**
 * Where outbound webhooks may POST (TASK_WEBHOOK_URL_ALLOWLIST): URL prefixes, compared as parsed
 * URLs — the same scheme, host and port, and a path at or below the prefix's, on a "/" boundary —
 * so "https://ci.example.com" admits neither "https://ci.example.com.evil.test/" nor
 * "http://ci.example.com/", and "https://ci.example.com/ph" not "https://ci.example.com/phish".
 * Empty: any http(s) URL. Checked when a webhook is saved, and again before each delivery (the
 * list may have changed since).
 */
export class WebhookUrlPolicy {
  private readonly prefixes: URL[];

  constructor(prefixes: readonly string[] = []) {
    this.prefixes = prefixes.map((prefix) => new URL(prefix));
  }

  allows(url: string): boolean {
    if (this.prefixes.length === 0) return true;
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return false;
    }
    return this.prefixes.some((prefix) => prefix.origin === target.origin && pathWithin(target.pathname, prefix.pathname));
  }

  /** Why `url` is refused, naming what is allowed. */
  refusal(): string {
    return `not allowed by TASK_WEBHOOK_URL_ALLOWLIST: must be at or below one of ${this.prefixes.map((p) => p.href).join(", ")}`;
  }
}

function pathWithin(path: string, prefix: string): boolean {
  if (prefix === "/" || path === prefix) return true;
  return path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`);
}
