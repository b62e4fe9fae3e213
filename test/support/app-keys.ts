/**
 * Real P-256 app keys (WebCrypto) that sign document operations as Connect does (document-model's
 * operation signature), for the tests of TASK_AUTHORIZED_WRITERS and of who decides an approval.
 */
import type { Action } from "document-model";
import { ab2hex, actionSigner, buildOperationSignature } from "document-model/core";
import { didKeyOf } from "../../src/security/authorized-writers.js";

const P256 = { name: "ECDSA", namedCurve: "P-256" } as const;

export interface AppKey {
  hex: string;
  did: string;
  sign: (documentId: string, action: Action) => Promise<Action>;
}

export async function appKey(name: string): Promise<AppKey> {
  const pair = await crypto.subtle.generateKey(P256, true, ["sign", "verify"]);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const hex = ab2hex(raw);
  return {
    hex,
    did: didKeyOf(raw),
    async sign(documentId, action) {
      const signer = actionSigner({ address: "0x1111111111111111111111111111111111111111", networkId: "eip155", chainId: 1 }, { name, key: hex }, []);
      const signature = await buildOperationSignature({ documentId, signer, action, previousStateHash: "" }, async (message) =>
        new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new Uint8Array(message))),
      );
      return { ...action, context: { signer: actionSigner(signer.user, signer.app, [signature]) } };
    },
  };
}

