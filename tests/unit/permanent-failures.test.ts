import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { withPermanentFailures } from '../../activities/permanent-failures';
import { permanentPgFailure } from '../../db/pg-errors';
import { sanitiseText } from '../../domain/failure';

const pgError = (code: string, message = 'refused') => Object.assign(new Error(message), { code });

describe('PostgreSQL errors: permanent or transient', () => {
  it.each([
    ['22021', 'InvalidData'], // invalid byte sequence (a NUL)
    ['22P02', 'InvalidData'], // invalid text representation (not a UUID)
    ['22P05', 'InvalidData'], // untranslatable character (a lone surrogate in jsonb)
    ['23505', 'ConstraintViolation'],
    ['23503', 'ConstraintViolation'],
    ['23514', 'ConstraintViolation'],
    ['42703', 'SchemaMismatch'],
    ['42P01', 'SchemaMismatch'],
  ])('%s is permanent: %s', (code, type) => {
    expect(permanentPgFailure(pgError(code))).toEqual({ type, sqlState: code });
  });

  it.each(['57P01', '57P03', '08006', '08001', '40001', '40P01', '53300', '57014', 'ECONNREFUSED', 'ETIMEDOUT'])(
    '%s stays retryable',
    (code) => {
      expect(permanentPgFailure(pgError(code))).toBeUndefined();
    },
  );

  it('finds the SQLSTATE along the cause chain, and nothing on plain errors', () => {
    expect(permanentPgFailure(new Error('wrapped', { cause: pgError('23502') }))?.type).toBe('ConstraintViolation');
    expect(permanentPgFailure(new Error('Connection terminated due to connection timeout'))).toBeUndefined();
    expect(permanentPgFailure(undefined)).toBeUndefined();
  });
});

describe('withPermanentFailures', () => {
  const wrapped = withPermanentFailures({
    refused: async () => {
      throw pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00');
    },
    down: async () => {
      throw pgError('57P01', 'terminating connection due to administrator command');
    },
    onPurpose: async () => {
      throw ApplicationFailure.nonRetryable('no such control', 'CheckNotRunnable');
    },
    fine: async (x: number) => x * 2,
  });

  it('makes a data refusal a non-retryable ApplicationFailure with the type and the activity', async () => {
    const failure = await wrapped.refused().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'InvalidData', nonRetryable: true, details: [{ activity: 'refused', sqlState: '22021' }] });
  });

  it('passes unavailability, deliberate failures and results through', async () => {
    const down = await wrapped.down().catch((error: unknown) => error);
    expect(down).not.toBeInstanceOf(ApplicationFailure);
    expect(down).toMatchObject({ code: '57P01' });
    await expect(wrapped.onPurpose()).rejects.toMatchObject({ type: 'CheckNotRunnable' });
    await expect(wrapped.fine(21)).resolves.toBe(42);
  });
});

describe('sanitiseText', () => {
  it('replaces what PostgreSQL and JSON cannot hold, keeps the rest, and cuts', () => {
    expect(sanitiseText('a\u0000b\ud800c\udc00d 😀\tok\n\u0007')).toBe('a\ufffdb\ufffdc\ufffdd 😀\tok\n');
    expect(sanitiseText('x'.repeat(600))).toHaveLength(500);
    expect(sanitiseText(undefined)).toBe('');
    expect(sanitiseText(42)).toBe('42');
  });
});
