import { z } from 'zod';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  controlsForApplicability,
  currentBaseline,
  findBaselineVersion,
  listBaselineVersions,
  proposeBaselineVersion,
} from '../../db/baseline';
import {
  baselineApprovalWorkflowType,
  makeBaselineApprovalWorkflowId,
  soaColumns,
  soaHtml,
  soaRows,
  statementOfApplicability,
  type BaselineApprovalInput,
} from '../../domain/baseline';
import { notFound } from '../../http/problem';
import { auditReaders, everyone, securityManagement } from '../../http/roles';
import {
  baselineProposal,
  baselineProposed,
  baselineVersionParams,
  baselineVersionView,
  soaQuery,
  statementOfApplicability as soaSchema,
} from '../../schemas/baseline';
import { responses } from '../../schemas/common';
import { serializeCsv } from '../../schemas/csv';
import { startOnce } from '../../temporal/start';

const tags = ['baseline'];
// The page's only resource is its inline stylesheet: nothing else may load or run.
const soaPagePolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

type VersionRow = NonNullable<Awaited<ReturnType<typeof findBaselineVersion>>>;

function toView(row: VersionRow) {
  return {
    version: row.version,
    status: row.status,
    measures: row.measures,
    statements: row.statements,
    reason: row.reason,
    workflowId: row.workflow_id,
    proposedBy: row.proposed_by,
    proposedAt: row.proposed_at.toISOString(),
    decidedBy: row.decided_by,
    decidedAt: row.decided_at?.toISOString() ?? null,
    comment: row.comment,
  };
}

/** A rendered document goes out as is: the route's JSON schema describes only the JSON form. */
function sendDocument(reply: FastifyReply, type: string, text: string) {
  return reply
    .type(type)
    .serializer((payload: unknown) => payload as string)
    .send(text);
}

export async function baselineRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/baseline', {
    config: { roles: everyone },
    schema: {
      tags,
      operationId: 'getBaseline',
      summary: 'The security baseline in force',
      description:
        'The approved baseline version with the highest number: its measures per classification level and its Annex A statements',
      response: responses({ 200: baselineVersionView }),
    },
    handler: async () => {
      const { version } = await currentBaseline(app.db);
      return toView((await findBaselineVersion(app.db, version)) as VersionRow);
    },
  });

  routes.get('/baseline/versions', {
    config: { roles: everyone },
    schema: {
      tags,
      operationId: 'listBaselineVersions',
      summary: 'Every version of the security baseline, newest first',
      description: 'Every version: approved, rejected or awaiting approval, with who proposed and who decided it',
      response: responses({ 200: z.object({ items: z.array(baselineVersionView) }) }),
    },
    handler: async () => ({ items: (await listBaselineVersions(app.db)).map(toView) }),
  });

  routes.get('/baseline/versions/:version', {
    config: { roles: everyone },
    schema: {
      tags,
      operationId: 'getBaselineVersion',
      summary: 'One version of the security baseline',
      description: 'One version with its measures, statements and decision',
      params: baselineVersionParams,
      response: responses({ 200: baselineVersionView }),
    },
    handler: async (request) => {
      const row = await findBaselineVersion(app.db, request.params.version);
      if (!row) throw notFound('baseline version', String(request.params.version));
      return toView(row);
    },
  });

  routes.post('/baseline/versions', {
    config: { roles: securityManagement },
    schema: {
      tags,
      operationId: 'proposeBaselineVersion',
      summary: 'Propose a new version of the security baseline',
      description:
        'Proposes the whole measure set (per aspect, from which classification level) and Annex A statements as the next version; it takes effect when a second Security Manager, not the proposer, approves the `baseline.approval` task. One proposal at a time (409 while another awaits approval). Services’ additional SLA requirements stay on top of whichever version is in force.',
      body: baselineProposal,
      response: responses({ 202: baselineProposed }),
    },
    handler: async (request, reply) => {
      const version = await proposeBaselineVersion(app.db, request.body, request.actor);
      const input: BaselineApprovalInput = { version, proposedBy: request.actor.principalId, reason: request.body.reason };
      const workflowId = makeBaselineApprovalWorkflowId(version);
      await startOnce(app.temporal.client, baselineApprovalWorkflowType, { workflowId, taskQueue: app.temporal.taskQueue, args: [input] });
      return reply.code(202).send({ version, workflowId, status: 'pending_approval' as const });
    },
  });

  routes.get('/statement-of-applicability', {
    // The inbox may link here: a signed-in reader opens the HTML page with the session cookie.
    config: { roles: auditReaders, credentials: ['bearer', 'session'] },
    schema: {
      tags,
      operationId: 'getStatementOfApplicability',
      summary: 'The Statement of Applicability (ISO/IEC 27001:2022 Annex A)',
      description:
        'Each of the 93 Annex A controls: applicable or not, the justification, the baseline measures and Warden controls implementing it and their last test result, from the baseline in force. JSON, CSV (`format=csv` or Accept: text/csv) or a self-contained HTML page (`format=html` or Accept: text/html).',
      querystring: soaQuery,
      response: responses({ 200: soaSchema }),
    },
    handler: async (request, reply) => {
      const soa = statementOfApplicability(await currentBaseline(app.db), await controlsForApplicability(app.db), new Date().toISOString());
      const accept = request.headers.accept ?? '';
      const format = request.query.format ?? (accept.includes('text/csv') ? 'csv' : accept.includes('text/html') ? 'html' : 'json');
      if (format === 'csv') {
        return sendDocument(
          reply.header('content-disposition', `attachment; filename="statement-of-applicability-v${soa.baselineVersion}.csv"`),
          'text/csv; charset=utf-8',
          serializeCsv([soaColumns, ...soaRows(soa)]),
        );
      }
      if (format === 'html')
        return sendDocument(reply.header('content-security-policy', soaPagePolicy), 'text/html; charset=utf-8', soaHtml(soa));
      return soa;
    },
  });
}
