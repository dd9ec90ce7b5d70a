import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

// @temporalio/proto is CommonJS built so that Node's ESM loader finds no named exports in it.
const { temporal } = proto;
const encryptedEncoding = 'binary/encrypted';
const keyIdHeader = 'encryption-key-id';
const ivBytes = 12;
const tagBytes = 16;

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** Parses `keyId:base64[,keyId:base64…]`; the first key encrypts, every key decrypts (rotation). */
export function parseCodecKeys(text: string): CodecKey[] {
  return text.split(',').map((entry) => {
    const [id, material] = entry.split(':') as [string, string];
    const key = Buffer.from(material, 'base64');
    if (key.length !== 32) throw new Error(`codec key ${id} must be 32 bytes (base64 of 32 random bytes), got ${key.length}`);
    return { id, key };
  });
}

export function generateCodecKeys(id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** A payload this server cannot decrypt; its message is safe to show to whoever sent the payload. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * AES-256-GCM over the whole serialised payload (metadata included), so the Temporal server, its
 * database and its UI only ever hold ciphertext of incident details.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly active: CodecKey;
  private readonly byId: Map<string, Buffer>;

  constructor(keys: CodecKey[]) {
    const [active] = keys;
    if (!active) throw new Error('the payload codec needs at least one key');
    this.active = active;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', this.active.key, iv);
      const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return {
        metadata: { encoding: encoder.encode(encryptedEncoding), [keyIdHeader]: encoder.encode(this.active.id) },
        data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || decoder.decode(encoding) !== encryptedEncoding) return payload;
      const keyIdBytes = payload.metadata?.[keyIdHeader];
      const keyId = keyIdBytes ? decoder.decode(keyIdBytes) : '';
      const key = this.byId.get(keyId);
      if (!key) throw new PayloadDecryptionError(`codec key ${JSON.stringify(keyId)} is not one this server holds`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < ivBytes + tagBytes) throw new PayloadDecryptionError('encrypted payload is too short to be one this codec wrote');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, ivBytes));
      decipher.setAuthTag(data.subarray(data.length - tagBytes));
      let plaintext: Buffer;
      try {
        plaintext = Buffer.concat([decipher.update(data.subarray(ivBytes, data.length - tagBytes)), decipher.final()]);
      } catch {
        throw new PayloadDecryptionError(
          `payload fails authentication under codec key ${JSON.stringify(keyId)}: altered, or encrypted with another key`,
        );
      }
      return temporal.api.common.v1.Payload.decode(plaintext);
    });
  }
}
