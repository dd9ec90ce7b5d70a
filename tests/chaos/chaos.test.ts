import { describe, expect, it } from 'vitest';
import { chaosFailures, runChaos } from '../../bench/chaos';

// Issue #14, findings 2 and 3 end to end: `npm run chaos` at a reduced size. Its own PostgreSQL and
// Temporal dev server, one API and two worker processes; workers killed with SIGKILL, Temporal and
// PostgreSQL restarted while incidents arrive; then every task decided through the API.
describe('npm run chaos, reduced', () => {
  it('completes every workflow with no duplicates, no 5xx but 503 and no crashed process', async () => {
    const lines: string[] = [];
    const report = await runChaos({ incidents: 3, workerKills: 2, settleTimeoutMs: 240_000, log: (line) => lines.push(line) });
    expect(chaosFailures(report), lines.join('\n')).toEqual([]);
    expect(report.workflows.completed).toBe(3);
    expect(report.faults).toEqual([
      'SIGKILL worker-1',
      'SIGKILL worker-2',
      'Temporal dev server stopped',
      'Temporal dev server restarted',
      'PostgreSQL stopped',
      'PostgreSQL restarted',
    ]);
    // Every decision went through the API: acknowledge, triage and the playbook's steps, per incident.
    expect(report.decisions).toBeGreaterThanOrEqual(3 * 4);
  }, 600_000);
});
