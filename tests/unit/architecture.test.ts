import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

// What the import rules of .dependency-cruiser.cjs cannot see: a query built on a Kysely instance
// needs no import, so the rule that SQL lives in db/ is checked on the calls themselves.

const root = new URL('../../', import.meta.url);
const sources = execFileSync('git', ['ls-files', '*.ts'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
const queryCall = /\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(|\bsql`/;

it('builds SQL only in db/ and migrations/', () => {
  const outside = sources.filter((file) => !/^(db|migrations|tests|bench)\//.test(file));
  expect(outside.length).toBeGreaterThan(50);
  const offenders = outside.filter((file) => queryCall.test(readFileSync(new URL(file, root), 'utf8')));
  expect(offenders).toEqual([]);
});
