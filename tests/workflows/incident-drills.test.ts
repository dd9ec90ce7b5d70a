import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeMeasures, measurePeriod } from '../../db/measures';
import { drillCoverage } from '../../db/measures/drill-coverage';
import { falsePositiveRate } from '../../db/measures/false-positive-rate';
import { makeDrillScheduleId } from '../../domain/drill';
import { wardenSearchAttributes } from '../../domain/search-attributes';
import { eventually, startStack, type Stack } from '../setup/stack';
import { decide, openTask, seedCi } from '../setup/fixtures';

let stack: Stack;
const tokens = {} as Record<'analyst' | 'manager' | 'auditor', string>;

beforeAll(async () => {
  stack = await startStack();
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
});
afterAll(async () => {
  for (const category of ['malware', 'data_leak'] as const) {
    await stack?.temporal.client.schedule
      .getHandle(makeDrillScheduleId(category))
      .delete()
      .catch(() => undefined);
  }
  await stack?.close();
});

describe('the drill programme', () => {
  it('schedules drills per category, reports their results and the categories drilled, and keeps them out of the real KPIs', async () => {
    const from = new Date();
    const { ciId } = await seedCi(stack.db, { level: 'high' });
    const unknown = await stack.request('PUT', '/drill-schedules/malware', {
      token: tokens.manager,
      body: { every: '30d', affectedCis: ['00000000-0000-4000-8000-000000000000'] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].path).toBe('body.affectedCis.0');
    expect((await stack.request('PUT', '/drill-schedules/malware', { token: tokens.analyst, body: { every: '30d' } })).status).toBe(403);

    const put = await stack.request('PUT', '/drill-schedules/malware', {
      token: tokens.manager,
      body: { every: '30d', affectedCis: [ciId] },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      scheduleId: 'incident-drill/malware',
      category: 'malware',
      every: ['30d'],
      affectedCis: [ciId],
      paused: false,
    });
    expect(put.body.nextRunTimes.length).toBeGreaterThan(0);
    expect(
      (
        await stack.request('PUT', '/drill-schedules/data_leak', {
          token: tokens.manager,
          body: { cronExpressions: ['0 9 1 */3 *'], paused: true },
        })
      ).status,
    ).toBe(200);
    // The dev server is shared by every test file: the list may hold other files' drill Schedules
    // (the bad-input walk creates incident-drill/other), so this test looks at the two it made.
    const listed = await eventually(
      async () => {
        const items: { category: string; paused: boolean }[] | undefined = (
          await stack.request('GET', '/drill-schedules', { token: tokens.auditor })
        ).body.items;
        const ours = items?.filter((s) => s.category === 'malware' || s.category === 'data_leak');
        return ours?.length === 2 && ours;
      },
      15_000,
      'both schedules listed',
    );
    expect(listed.map((s: { category: string; paused: boolean }) => [s.category, s.paused])).toEqual([
      ['data_leak', true],
      ['malware', false],
    ]);

    // Run the malware drill now rather than in 30 days.
    await stack.temporal.client.schedule.getHandle('incident-drill/malware').trigger();
    const drill = await eventually(
      async () => {
        const items = (
          await stack.request('GET', `/drills?from=${from.toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`, {
            token: tokens.auditor,
          })
        ).body.items;
        return items?.[0];
      },
      20_000,
      'the drill incident',
    );
    expect(drill).toMatchObject({ category: 'malware', secondsToAcknowledge: null, stepsSkipped: 0 });
    const id = drill.incidentId;
    const incident = (await stack.request('GET', `/incidents/${id}`, { token: tokens.auditor })).body;
    expect(incident).toMatchObject({ drill: true, source: 'drill-schedule', affectedCis: [ciId], title: 'Drill: malware' });
    // The Schedule's run publishes what operators filter drills by, like every Warden workflow.
    const run = (await stack.temporal.client.schedule.getHandle('incident-drill/malware').describe()).info.recentActions[0];
    if (!run) throw new Error('the triggered drill run is not among the schedule’s recent actions');
    const published = (await stack.temporal.client.workflow.getHandle(run.action.workflow.workflowId).describe()).typedSearchAttributes;
    expect(published.get({ name: wardenSearchAttributes.process.name, type: 'KEYWORD' })).toBe('incident');
    expect(published.get({ name: wardenSearchAttributes.subjectId.name, type: 'KEYWORD' })).toBe('malware');
    expect(published.get({ name: wardenSearchAttributes.drill.name, type: 'BOOL' })).toBe(true);
    expect(published.get({ name: wardenSearchAttributes.status.name, type: 'KEYWORD' })).toBe('scheduled');

    // The exercise: acknowledged, triaged, containment rejected (a skipped step), then left running.
    await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.acknowledge')).id, 'acknowledged');
    await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.triage')).id, 'triaged');
    await decide(stack, tokens.manager, (await openTask(stack, tokens.manager, id, 'incident.approval')).id, 'rejected');
    const result = await eventually(
      async () => {
        const items = (
          await stack.request('GET', `/drills?from=${from.toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`, {
            token: tokens.auditor,
          })
        ).body.items;
        return items?.[0]?.stepsSkipped === 1 && items[0];
      },
      20_000,
      'the skipped containment in the drill results',
    );
    expect(result.secondsToAcknowledge).toBeGreaterThan(0);

    const period = measurePeriod(from, new Date(Date.now() + 60_000));
    const [coverage, falsePositives] = await computeMeasures(stack.db, period, null, [drillCoverage, falsePositiveRate]);
    expect(coverage?.result.value).toBe(Math.round((100 / 7) * 100) / 100);
    expect(coverage?.result.breakdown?.find((b) => b.label === 'malware')?.value).toBe(1);
    // The drill is no real incident: the false-positive rate has nothing to judge.
    expect(falsePositives?.result.value).toBeNull();
  });
});
