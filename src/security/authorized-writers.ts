/**
 * Authorised document writers (TASK_AUTHORIZED_WRITERS). Anyone who can write a synced drive can
 * put a run request in a document; with this list set, only operations signed by one of the listed
 * app keys may start or cancel work. The check is cryptographic, not a claim: the operation must
 * carry document-model's signature (ECDSA P-256 over [timestamp, app key, hash of document, scope,
 * type and input, previous state hash]) made by that key, and the signed hash must be this
 * operation's. A signer's user address is not checked: without its Renown credential it is only a
 * claim, so the list holds keys, not addresses.
 *
 * Keys are written as Connect shows them (`did:key:z…`, a compressed P-256 key) or as the hex of a
 * raw P-256 public key. A replayed signed request carries the same request id, and the same
 * document + request id never makes a second task (idempotency key).
 */
import type { Action } from "document-model";
import { buildOperationSignatureParams, hex2ab, verifyOperationSignature } from "document-model/core";
import { splitNamed } from "./identities.js";

/** `name`: the name the key was listed under (alice=did:key:…), when it was. */
export type WriterCheck = { ok: true; name?: string } | { ok: false; code: "unsigned_operation" | "unauthorized_writer" | "invalid_signature"; message: string };

const P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
/** Multicodec prefix of a P-256 public key (0x1200 as an unsigned varint). */
const P256_MULTICODEC = [0x80, 0x24];
const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

function base58Decode(text: string): Uint8Array {
  let value = 0n;
  for (const char of text) {
    const digit = BASE58.indexOf(char);
    if (digit < 0) throw new Error(`'${char}' is not a base58 digit`);
    value = value * 58n + BigInt(digit);
  }
  const bytes: number[] = [];
  for (; value > 0n; value >>= 8n) bytes.unshift(Number(value & 0xffn));
  for (const char of text) {
    if (char !== "1") break;
    bytes.unshift(0); // leading zero bytes
  }
  return Uint8Array.from(bytes);
}

export function base58Encode(bytes: Uint8Array): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let text = "";
  for (; value > 0n; value /= 58n) text = BASE58[Number(value % 58n)] + text;
  for (const byte of bytes) {
    if (byte !== 0) break;
    text = `1${text}`;
  }
  return text;
}

/** The raw P-256 public key bytes of a `did:key:z…` or hex key; throws saying what is wrong. */
export function publicKeyBytes(key: string): Uint8Array {
  if (key.startsWith("did:key:")) {
    if (!key.startsWith("did:key:z")) throw new Error("a did:key must be base58btc (did:key:z…)");
    const bytes = base58Decode(key.slice("did:key:z".length));
    if (bytes[0] !== P256_MULTICODEC[0] || bytes[1] !== P256_MULTICODEC[1]) throw new Error("the did:key is not a P-256 key");
    return bytes.slice(2);
  }
  const hex = key.startsWith("0x") ? key.slice(2) : key;
  if (!/^(?:[0-9a-fA-F]{66}|[0-9a-fA-F]{130})$/.test(hex)) throw new Error("a hex key must be a raw P-256 public key (66 or 130 hex digits)");
  return hex2ab(hex);
}

/** The did:key of a raw P-256 public key (compressed on the way). */
export function didKeyOf(raw: Uint8Array): string {
  const compressed = raw.length === 65 ? Uint8Array.from([2 + ((raw[64] ?? 0) & 1), ...raw.slice(1, 33)]) : raw;
  return `did:key:z${base58Encode(Uint8Array.from([...P256_MULTICODEC, ...compressed]))}`;
}

/** One spelling per key, whichever form it was written in: the did:key. */
function canonical(key: string): string {
  return didKeyOf(publicKeyBytes(key));
}

async function verifyWithKey(publicKey: string, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  // Copies: WebCrypto wants buffers of their own, not views of a shared one.
  const key = await crypto.subtle.importKey("raw", new Uint8Array(publicKeyBytes(publicKey)), P256, false, ["verify"]);
  return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, new Uint8Array(signature), new Uint8Array(data));
}

export class WriterPolicy {
  /** Each listed key (as its did:key) → the name it was listed under, if any. */
  private readonly keys: Map<string, string | undefined>;

  /** Throws, naming the entry, on a key it cannot read (config validation shows that message). */
  constructor(entries: readonly string[]) {
    this.keys = new Map(entries.map((entry) => {
      const { name, value } = splitNamed(entry);
      try {
        return [canonical(value), name];
      } catch (error) {
        throw new Error(`TASK_AUTHORIZED_WRITERS: '${entry}': ${(error as Error).message}`, { cause: error });
      }
    }));
  }

  /** No list: every writer of the drive may ask for work. */
  get open(): boolean {
    return this.keys.size === 0;
  }

  /** The name `key` (as a signer gives it) was listed under, if it was; says nothing of any signature. */
  nameOf(key: string): string | undefined {
    try {
      return this.keys.get(canonical(key));
    } catch {
      return undefined;
    }
  }

  /** The names keys were listed under. */
  names(): string[] {
    return [...new Set([...this.keys.values()].filter((name): name is string => name !== undefined))];
  }

  async check(documentId: string, action: Action): Promise<WriterCheck> {
    if (this.open) return { ok: true };
    const signer = action.context?.signer;
    const signature = signer?.signatures.at(-1);
    if (!signer || !signature) return { ok: false, code: "unsigned_operation", message: `${action.type} is not signed; only operations signed by an authorised app key (TASK_AUTHORIZED_WRITERS) may start or stop tasks` };
    let key: string;
    try {
      key = canonical(signer.app.key);
    } catch (error) {
      return { ok: false, code: "invalid_signature", message: `${action.type} is signed with an unreadable app key '${signer.app.key}': ${(error as Error).message}` };
    }
    if (!this.keys.has(key)) {
      return { ok: false, code: "unauthorized_writer", message: `${action.type} is signed by app key ${key} (app '${signer.app.name}', user ${signer.user.address}), which is not in TASK_AUTHORIZED_WRITERS` };
    }
    // The signature must cover this operation: same document, scope, type and input.
    const expected = buildOperationSignatureParams({ documentId, signer, action, previousStateHash: "" })[2];
    if (signature[1] !== signer.app.key || signature[2] !== expected) {
      return { ok: false, code: "invalid_signature", message: `${action.type}: the signature does not cover this operation (another document, type or input)` };
    }
    const valid = await verifyOperationSignature(signature, signer, verifyWithKey).catch(() => false);
    if (!valid) return { ok: false, code: "invalid_signature", message: `${action.type}: the signature is not app key ${key}'s` };
    const name = this.keys.get(key);
    return name === undefined ? { ok: true } : { ok: true, name };
  }
}
