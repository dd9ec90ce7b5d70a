import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Playbook } from '../domain/playbook';
import { playbookFile } from '../schemas/playbook';

const folder = fileURLToPath(new URL('.', import.meta.url));

/** The playbooks Warden ships, validated like a published one; a broken file fails loudly at start. */
export function shippedPlaybooks(): Playbook[] {
  return readdirSync(folder)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const parsed = playbookFile.safeParse(parse(readFileSync(`${folder}/${file}`, 'utf8')));
      if (!parsed.success) throw new Error(`playbooks/${file}: ${parsed.error.message}`);
      return { ...parsed.data, version: 1 } as Playbook;
    });
}
