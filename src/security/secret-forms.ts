/**
 * The forms a secret can take in a task's output besides itself: URL-encoded (a query string, a
 * curl trace), JSON-escaped, hex, and base64 / base64url (an HTTP Basic header, a config dump, a
 * token wrapped in a JWT or a data: URL). The redactor looks for each of them.
 *
 * Base64 turns three bytes into four characters, so a secret encoded inside a longer text comes
 * out differently depending on where it starts (three alignments). For each alignment this keeps
 * the characters made of the secret's bits only: the one or two characters at either end that
 * mix in neighbouring bytes are left out. Those can reveal at most a few bits of the secret's first
 * and last byte, never the secret.
 */

/** Shortest encoded form worth looking for: shorter ones would mask ordinary text. */
const MIN_FORM_LENGTH = 8;

export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const forms = new Set<string>([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1), bytes.toString("hex"), bytes.toString("hex").toUpperCase()]);
  for (let offset = 0; offset < 3; offset++) {
    const core = base64Core(bytes, offset);
    forms.add(core);
    forms.add(core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return [...forms].filter((form) => form.length >= MIN_FORM_LENGTH);
}

/** The base64 characters of `bytes` placed `offset` bytes after a 3-byte boundary that depend on `bytes` alone. */
function base64Core(bytes: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
  const firstBit = offset * 8;
  const endBit = (offset + bytes.length) * 8;
  // Character i holds bits [6i, 6i + 6) of the padded bytes.
  const first = Math.ceil(firstBit / 6);
  const end = Math.floor(endBit / 6);
  return encoded.slice(first, end);
}
