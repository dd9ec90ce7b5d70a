import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import '../setup/context';

const folder = new URL('./histories/', import.meta.url);
const files = readdirSync(folder).filter((file) => file.endsWith('.json'));

/**
 * Histories recorded from finished workflows must replay against today's code. A change that would
 * break running workflows (a reordered activity, a removed step) fails here; guard it with patched().
 * Re-record with WARDEN_RECORD_HISTORIES=1 only for a deliberate, versioned change.
 */
describe('workflow histories replay against the current code', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(new URL(file, folder), 'utf8')));
    await expect(
      Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, file.replace(/\.json$/, '')),
    ).resolves.toBeUndefined();
  });
});
