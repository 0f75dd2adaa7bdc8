import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { keyIdOf } from '../journal/signing-key.js';

/** A key the verifier trusts, with an optional validity period for the checkpoints it signs. */
export interface TrustedKey {
  keyId: string;
  key: KeyObject;
  notBefore?: string;
  notAfter?: string;
}

export function trustedKey(pemOrKey: string | KeyObject, validity?: { notBefore?: string; notAfter?: string }): TrustedKey {
  const key = typeof pemOrKey !== 'string' && pemOrKey.type === 'public' ? pemOrKey : createPublicKey(pemOrKey);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 public key, got ${key.asymmetricKeyType}`);
  return {
    keyId: keyIdOf(key),
    key,
    ...(validity?.notBefore ? { notBefore: validity.notBefore } : {}),
    ...(validity?.notAfter ? { notAfter: validity.notAfter } : {}),
  };
}

/**
 * Reads a public key file: PEM (public or private; only the public half is used), or a JSON keyring
 * { "keys": [{ "public_key": "<PEM>", "not_before"?: "<RFC 3339>", "not_after"?: "<RFC 3339>" }] }.
 */
export function loadTrustedKeys(path: string): TrustedKey[] {
  const text = readFileSync(path, 'utf8');
  if (text.trimStart().startsWith('{')) {
    const ring = JSON.parse(text) as { keys?: { public_key?: string; not_before?: string; not_after?: string }[] };
    if (!Array.isArray(ring.keys)) throw new Error(`${path}: a keyring needs a "keys" array`);
    return ring.keys.map((k, i) => {
      if (typeof k.public_key !== 'string') throw new Error(`${path}: keys[${i}].public_key: expected PEM text`);
      return trustedKey(k.public_key, {
        ...(k.not_before ? { notBefore: k.not_before } : {}),
        ...(k.not_after ? { notAfter: k.not_after } : {}),
      });
    });
  }
  return [trustedKey(text)];
}
