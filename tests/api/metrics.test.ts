import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../cli/embedded-postgres';
import { openTask } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';

let stack: Stack;
const tokens = {} as Record<'reporter' | 'auditor' | 'manager', string>;

beforeAll(async () => {
  stack = await startStack();
  tokens.reporter = await stack.token(['reporter'], 'rita');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
  tokens.manager = await stack.token(['security_manager'], 'max');
});
afterAll(async () => {
  await stack?.close();
});

const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('GET /metrics', () => {
  it('serves the process figures and request latency to admin and auditor tokens only', async () => {
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: { title: 'Beaconing host', description: 'x', category: 'malware', affectedCis: [], source: 'edr' },
    });
    await openTask(stack, tokens.manager, reported.body.id, 'incident.acknowledge');

    expect((await stack.request('GET', '/metrics')).status).toBe(401);
    expect((await stack.request('GET', '/metrics', { token: tokens.reporter })).status).toBe(403);
    const scraped = await eventually(
      async () => {
        const response = await stack.request('GET', '/metrics', { token: tokens.auditor });
        return sample(response.body, 'warden_tasks_open') === 1 && response;
      },
      15_000,
      'the open acknowledgement task in /metrics',
    );
    expect(scraped.headers.get('content-type')).toContain('text/plain');
    const text: string = scraped.body;
    expect(sample(text, 'warden_incidents_open{severity="low"}')).toBe(1);
    expect(sample(text, 'warden_tasks_overdue')).toBe(0);
    expect(text).toMatch(/^warden_http_request_duration_seconds_count\{method="POST",route="\/incidents",status_code="202"\} 1$/m);
    // No test_runs table on this branch: the gauge is declared but has no series.
    expect(text).toContain('# TYPE warden_test_runs gauge');
    expect(text).not.toMatch(/^warden_test_runs\{/m);
    expect(text).toContain('# TYPE warden_patch_compliance_percent gauge');
  });

  it('the worker serves the Temporal SDK metrics on WARDEN_WORKER_METRICS_ADDRESS', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'tests/setup/worker-metrics-probe.ts', inject('temporalAddress'), address, inject('workflowBundlePath')],
      { timeout: 45_000 },
    );
    expect(stdout).toMatch(/^temporal_worker_start\{/m);
    expect(stdout).toMatch(/^temporal_num_pollers\{/m);
  });
});
