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

/** What `promtool check metrics` (Debian's prometheus package; CI installs it) says about an exposition. */
async function promtoolProblems(exposition: string): Promise<string> {
  const child = execFile('promtool', ['check', 'metrics']);
  child.stdin?.end(exposition);
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
  return code === 0 ? output.trim() : `exit ${code}: ${output}`;
}

describe('GET /metrics and /metrics/business', () => {
  it('serve Prometheus-clean metrics to admin and auditor tokens only: this process, and the process figures once', async () => {
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: { title: 'Beaconing host', description: 'x', category: 'malware', affectedCis: [], source: 'edr' },
    });
    await openTask(stack, tokens.manager, reported.body.id, 'incident.acknowledge');
    // A drill of the same severity, open too: exercises stay out of the real figures.
    const drill = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: { title: 'Drill: beaconing host', description: 'x', category: 'malware', affectedCis: [], source: 'drill', drill: true },
    });
    await openTask(stack, tokens.manager, drill.body.id, 'incident.acknowledge');

    for (const path of ['/metrics', '/metrics/business']) {
      expect((await stack.request('GET', path)).status).toBe(401);
      expect((await stack.request('GET', path, { token: tokens.reporter })).status).toBe(403);
    }
    const business = await eventually(
      async () => {
        const response = await stack.request('GET', '/metrics/business', { token: tokens.auditor });
        return sample(response.body, 'warden_tasks_open{kind="incident.acknowledge"}') === 2 && response;
      },
      15_000,
      'the open acknowledgement task in /metrics/business',
    );
    expect(business.headers.get('content-type')).toContain('text/plain');
    const figures: string = business.body;
    expect(sample(figures, 'warden_incidents_open{severity="low"}')).toBe(1);
    expect(sample(figures, 'warden_tasks_overdue{kind="incident.acknowledge"}')).toBe(0);
    expect(sample(figures, 'warden_security_tests_overdue')).toBe(0);
    expect(figures).toContain('# TYPE warden_approvals_decided_total counter');
    expect(figures).toContain('# TYPE warden_test_runs_total counter');
    expect(figures).toContain('# TYPE warden_remediations_overdue gauge');
    expect(figures).toContain('# TYPE warden_patch_compliance_ratio gauge');
    // Business figures are not per process: they are not in /metrics, so summing replicas cannot multiply them.
    expect(figures).not.toMatch(/^(process|nodejs)_/m);
    expect(await promtoolProblems(figures)).toBe('');

    const own = await stack.request('GET', '/metrics', { token: tokens.auditor });
    expect(own.headers.get('content-type')).toContain('text/plain');
    const text: string = own.body;
    expect(text).toMatch(/^warden_http_request_duration_seconds_count\{method="POST",route="\/incidents",status_code="202"\} 2$/m);
    // Node.js's standard names, as stock dashboards query them.
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
    expect(text).not.toContain('warden_api_');
    expect(text).not.toContain('warden_incidents_open');
    expect(await promtoolProblems(text)).toBe('');
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
