import { afterAll, beforeAll, expect, it } from 'vitest';
import { DemoError, loadDemo, type DemoSummary } from '../../cli/demo';
import { eventually, startStack, type Stack } from '../setup/stack';

let stack: Stack;
let admin: string;
let loaded: DemoSummary;
const started = Date.now();

beforeAll(async () => {
  stack = await startStack();
  admin = await stack.token(['admin'], 'admin');
  loaded = await loadDemo({ url: stack.baseUrl, token: admin });
}, 120_000);
afterAll(() => stack?.close());

it('loads a living organisation through the API within a minute', async () => {
  expect(Date.now() - started).toBeLessThan(60_000);
  const get = async (path: string) => (await stack.request('GET', path, { token: admin })).body;

  expect((await get('/services')).items.map((s: { name: string }) => s.name)).toEqual(['Online Banking (demo)', 'Payroll (demo)']);
  expect((await get('/controls')).items.length).toBe(2);
  expect((await get('/testing-schedule')).items.every((item: { cadence: string | null }) => item.cadence !== null)).toBe(true);

  // Incidents at different steps: one acknowledged, the others waiting for it.
  const statuses = await eventually(
    async () => {
      const incidents = (await get('/incidents')).items as { status: string }[];
      const distinct = new Set(incidents.map((incident) => incident.status));
      return incidents.length === 3 && distinct.size >= 2 && distinct;
    },
    30_000,
    'three incidents in at least two states',
  );
  expect(statuses.size).toBeGreaterThanOrEqual(2);

  const change = await get(`/changes/${loaded.changeId}`);
  expect(change.status).toMatch(/review/);
  const advisory = await eventually(
    async () => {
      const read = await get(`/advisories/${loaded.advisoryId}`);
      return read.remediationDetails?.length > 0 && read;
    },
    30_000,
    'the advisory matched to bank-web-01',
  );
  expect(advisory.remediationDetails[0]).toMatchObject({ product: 'openssl' });

  // The inbox has work: open tasks of several kinds.
  const kinds = await eventually(
    async () => {
      const tasks = (await get('/tasks?status=open&limit=500')).items as { kind: string }[];
      const distinct = new Set(tasks.map((task) => task.kind.split('.')[0]));
      return distinct.size >= 3 && distinct;
    },
    30_000,
    'open tasks of at least three processes',
  );
  expect(kinds.size).toBeGreaterThanOrEqual(3);
  // The campaign's row is written by its workflow, after the start the demo was answered.
  const accessReview = await eventually(
    async () => {
      const read = await get(`/access-reviews/${loaded.accessReviewId}`);
      return read.id === loaded.accessReviewId && read;
    },
    30_000,
    'the access review recorded',
  );
  expect(accessReview.id).toBe(loaded.accessReviewId);
  expect((await get(`/reviews/${loaded.reviewId}`)).period ?? loaded.reviewId).toBeDefined();
});

it('refuses to load twice', async () => {
  await expect(loadDemo({ url: stack.baseUrl, token: admin })).rejects.toThrow(DemoError);
});
