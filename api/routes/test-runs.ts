import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { pageOf } from '../../db/pagination';
import { findTestRun, listTestRuns, type TestRunWithControl } from '../../db/test-runs';
import { testRunListQuery, testRunPage, testRunView } from '../../schemas/controls';
import { responses, uuidParam } from '../../schemas/common';
import { pageRequest } from '../../http/paging';
import { notFound } from '../../http/problem';
import { everyone } from '../../http/roles';

function toTestRunView(run: TestRunWithControl) {
  return {
    id: run.id,
    controlId: run.control_id,
    controlName: run.control_name,
    workflowId: run.workflow_id,
    method: run.method,
    requestedBy: run.requested_by,
    scheduledAt: run.scheduled_at.toISOString(),
    startedAt: run.started_at.toISOString(),
    finishedAt: run.finished_at?.toISOString() ?? null,
    durationMs: run.finished_at ? run.finished_at.getTime() - run.started_at.getTime() : null,
    status: run.status,
    result: run.result,
    testedBy: run.tested_by,
    summary: run.summary,
    notes: run.notes,
    evidence: run.evidence,
    taskId: run.task_id,
    incidentId: run.incident_id,
  };
}

export async function testRunRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/test-runs', {
    config: { roles: everyone },
    schema: {
      tags: ['testing schedule'],
      operationId: 'listTestRuns',
      summary: 'List test reports',
      description: 'Test reports, newest first',
      querystring: testRunListQuery,
      response: responses({ 200: testRunPage }),
    },
    handler: async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const { items, nextCursor } = pageOf(await listTestRuns(app.db, { ...filter, ...pageRequest({ limit, cursor }) }), limit);
      return { items: items.map(toTestRunView), nextCursor };
    },
  });

  routes.get('/test-runs/:id', {
    config: { roles: everyone },
    schema: {
      tags: ['testing schedule'],
      operationId: 'getTestRun',
      summary: 'Read a test report',
      description: 'One test report',
      params: uuidParam,
      response: responses({ 200: testRunView }),
    },
    handler: async (request) => {
      const run = await findTestRun(app.db, request.params.id);
      if (!run) throw notFound('test run', request.params.id);
      return toTestRunView(run);
    },
  });
}
