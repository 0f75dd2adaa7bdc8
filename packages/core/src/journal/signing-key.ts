import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/** A signing key as configured: PEM text, a KeyObject, a file holding PEM, or an environment variable holding PEM. */
export type SigningKeyInput = string | KeyObject | { file: string } | { env: string };

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** First 16 hex digits of SHA-256 over the public key's SPKI DER: the verifier derives the same id. */
  keyId: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** Loads and checks an Ed25519 private key once, at start; a bad key is a ConfigError naming `path`. */
export function loadSigningKey(input: SigningKeyInput, path: string): SigningKey {
  let privateKey: KeyObject;
  try {
    if (typeof input === 'string') {
      privateKey = createPrivateKey(input);
    } else if ('file' in input && typeof input.file === 'string') {
      privateKey = createPrivateKey(readFileSync(input.file));
    } else if ('env' in input && typeof input.env === 'string') {
      const pem = process.env[input.env];
      if (!pem) throw new Error(`environment variable ${input.env} is not set`);
      privateKey = createPrivateKey(pem.includes('-----BEGIN') ? pem : Buffer.from(pem, 'base64').toString('utf8'));
    } else if (typeof (input as KeyObject).asymmetricKeyType === 'string') {
      privateKey = input as KeyObject;
    } else {
      throw new Error('expected PEM text, a KeyObject, { file } or { env }');
    }
  } catch (err) {
    throw new ConfigError(path, `cannot load the signing key: ${(err as Error).message}`, { cause: err });
  }
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(path, `expected an Ed25519 private key, got ${privateKey.type} ${privateKey.asymmetricKeyType ?? ''}`.trim());
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}
