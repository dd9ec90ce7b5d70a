import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { configSchema } from '../../config';

it('documents every environment variable config.ts reads in the README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const undocumented = Object.keys(configSchema.shape).filter((name) => !readme.includes(`| \`${name}\` |`));
  expect(undocumented).toEqual([]);
});
