import { createHash, createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { type AuditCheckpointResult, type CheckpointStatement, checkpointMessage } from '../domain/audit-checkpoint';
import { linkPendingAudit } from './audit-linker';
import type { AuditCheckpoint, Database } from './database';

// Checkpoints anchor the audit hash chain: the head's id and hash, signed with an Ed25519 key that
// lives with the workers (WARDEN_AUDIT_SIGNING_KEY), never in PostgreSQL. Rewriting events and
// recomputing every hash keeps the chain consistent, but the hash a checkpoint signed no longer matches.

// Serialises checkpoint writers so each links to the one before it (prev_event_id); distinct from
// the chain's own lock so audit appends never wait for a signature.
const checkpointLock = 0x5741_5243; // "WARC"

// An Ed25519 key as DER: these fixed prefixes followed by the 32-byte seed (PKCS#8) or public key (SPKI).
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

export interface AuditVerifyKey {
  /** The first 16 hex digits of the SHA-256 of the raw public key. */
  keyId: string;
  /** base64 of the raw 32-byte Ed25519 public key, as exported. */
  publicKey: string;
  key: KeyObject;
}

export interface AuditSigningKey extends AuditVerifyKey {
  privateKey: KeyObject;
}

const keyIdOf = (raw: Buffer) => createHash('sha256').update(raw).digest('hex').slice(0, 16);

function decode32(base64: string, what: string): Buffer {
  const bytes = Buffer.from(base64.trim(), 'base64');
  if (bytes.length !== 32) throw new RangeError(`${what} must be base64 of 32 bytes, got ${bytes.length}`);
  return bytes;
}

/** A new private key for WARDEN_AUDIT_SIGNING_KEY: base64 of a random 32-byte Ed25519 seed. */
export function generateAuditSigningKey(): string {
  return randomBytes(32).toString('base64');
}

/** WARDEN_AUDIT_SIGNING_KEY: base64 of the 32-byte Ed25519 seed (RFC 8032's private key). */
export function parseAuditSigningKey(seedBase64: string): AuditSigningKey {
  const privateKey = createPrivateKey({
    key: Buffer.concat([pkcs8Prefix, decode32(seedBase64, 'the audit signing key')]),
    format: 'der',
    type: 'pkcs8',
  });
  const key = createPublicKey(privateKey);
  const raw = key.export({ format: 'der', type: 'spki' }).subarray(spkiPrefix.length);
  return { keyId: keyIdOf(raw), publicKey: raw.toString('base64'), key, privateKey };
}

/** One entry of WARDEN_AUDIT_VERIFY_KEY: base64 of a raw 32-byte Ed25519 public key. */
export function parseAuditVerifyKey(publicBase64: string): AuditVerifyKey {
  const raw = decode32(publicBase64, 'an audit verify key');
  const key = createPublicKey({ key: Buffer.concat([spkiPrefix, raw]), format: 'der', type: 'spki' });
  return { keyId: keyIdOf(raw), publicKey: raw.toString('base64'), key };
}

/**
 * The keys checkpoints are verified with: the public half of the signing key, when this process
 * holds it, and every key of the comma-separated verify list (earlier keys, after a rotation).
 */
export function auditVerifyKeys(signingKey: string | undefined, verifyKeys: string | undefined): AuditVerifyKey[] {
  const keys = [
    ...(signingKey ? [parseAuditSigningKey(signingKey)] : []),
    ...(verifyKeys
      ? verifyKeys
          .split(',')
          .filter((key) => key.trim() !== '')
          .map(parseAuditVerifyKey)
      : []),
  ].map(({ keyId, publicKey, key }) => ({ keyId, publicKey, key }));
  return keys.filter((key, index) => keys.findIndex((other) => other.keyId === key.keyId) === index);
}

const statementOf = (row: AuditCheckpoint): CheckpointStatement => ({
  eventId: row.event_id,
  eventHash: row.event_hash,
  prevEventId: row.prev_event_id,
  signedAt: row.signed_at,
  keyId: row.key_id,
});

/** Why a checkpoint's signature does not hold, or undefined when it does. */
export function checkpointSignatureProblem(row: AuditCheckpoint, keys: readonly AuditVerifyKey[]): string | undefined {
  const key = keys.find((candidate) => candidate.keyId === row.key_id);
  if (!key) return `checkpoint ${row.id} is signed by key ${row.key_id}, which is not among the verify keys`;
  let valid = false;
  try {
    valid = verify(null, Buffer.from(checkpointMessage(statementOf(row))), key.key, Buffer.from(row.signature, 'base64'));
  } catch {
    valid = false;
  }
  return valid ? undefined : `checkpoint ${row.id}'s signature does not verify with key ${row.key_id}`;
}

/**
 * Links what is pending, then signs the head of the chain unless it is signed already. Safe to retry and to run in many
 * processes at once: writers are serialised, a head is signed once (unique event_id), and a
 * retry after a commit finds the head signed.
 */
export async function writeAuditCheckpoint(db: Kysely<Database>, key: AuditSigningKey): Promise<AuditCheckpointResult> {
  // A checkpoint vouches for every event committed before it was asked for, a crashed writer's too.
  await linkPendingAudit(db);
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${checkpointLock})`.execute(trx);
    const head = await trx.selectFrom('audit_events').select(['id', 'hash']).orderBy('id', 'desc').limit(1).executeTakeFirst();
    if (!head) return { written: false, reason: 'no-events' } as const;
    const last = await trx.selectFrom('audit_checkpoints').select('event_id').orderBy('event_id', 'desc').limit(1).executeTakeFirst();
    if (last && last.event_id >= head.id) return { written: false, reason: 'head-already-signed' } as const;
    const statement: CheckpointStatement = {
      eventId: head.id,
      eventHash: head.hash,
      prevEventId: last?.event_id ?? 0,
      // Millisecond precision: what timestamptz(3) gives back must verify the same.
      signedAt: new Date(Date.now()),
      keyId: key.keyId,
    };
    const signature = sign(null, Buffer.from(checkpointMessage(statement)), key.privateKey).toString('base64');
    const inserted = await trx
      .insertInto('audit_checkpoints')
      .values({
        event_id: statement.eventId,
        event_hash: statement.eventHash,
        prev_event_id: statement.prevEventId,
        signed_at: statement.signedAt,
        key_id: statement.keyId,
        signature,
      })
      .onConflict((conflict) => conflict.column('event_id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return { written: false, reason: 'head-already-signed' } as const;
    return { written: true, checkpointId: inserted.id, eventId: statement.eventId } as const;
  });
}

/** Every checkpoint in chain order, for verification (one a signing interval: a year of hourly ones is 8,760 rows). */
export function allAuditCheckpoints(db: Kysely<Database>): Promise<AuditCheckpoint[]> {
  return db.selectFrom('audit_checkpoints').selectAll().orderBy('event_id').orderBy('id').execute();
}

/** Checkpoints oldest first, one beyond `limit` so the caller knows whether another page follows. */
export function listAuditCheckpoints(
  db: Kysely<Database>,
  page: { afterId?: number | undefined; limit: number },
): Promise<AuditCheckpoint[]> {
  let query = db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .orderBy('id')
    .limit(page.limit + 1);
  if (page.afterId !== undefined) query = query.where('id', '>', page.afterId);
  return query.execute();
}

/** The statement a checkpoint row signs, for the export. */
export function checkpointMessageOf(row: AuditCheckpoint): string {
  return checkpointMessage(statementOf(row));
}
