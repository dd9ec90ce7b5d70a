import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { listAuditEvents, verifyAuditChain } from '../../db/audit';
import { auditVerifyKeys } from '../../db/audit-checkpoints';
import { auditReaders } from '../../http/roles';
import { detailText, humanize, table, time } from '../format';
import { html } from '../html';
import { blankIsUnset, pageRoute, uiPrefix, type WebContext, type WebPage } from '../page';

const path = `${uiPrefix}/audit`;
const pageSize = 100;

const auditQuery = z.object({
  subjectType: blankIsUnset(z.string().max(100)),
  subjectId: blankIsUnset(z.string().max(200)),
  action: blankIsUnset(z.string().max(100)),
  after: z.coerce.number().int().min(0).optional(),
});

/**
 * The audit trail for auditors, as `GET /audit` and `GET /audit/verify` give it: whether the hash
 * chain and its signed checkpoints verify (and the first row that does not), then the events oldest
 * first, filtered by subject and action, with their details spelled out and their full subject ids.
 */
export const auditPage: WebPage = {
  nav: { label: 'Audit trail', path, roles: auditReaders },
  async routes(app: FastifyInstance, web: WebContext) {
    const keys = auditVerifyKeys(app.config.WARDEN_AUDIT_SIGNING_KEY, app.config.WARDEN_AUDIT_VERIFY_KEY);
    app.withTypeProvider<ZodTypeProvider>().get('/audit', {
      ...pageRoute(auditReaders),
      schema: { hide: true, querystring: auditQuery },
      handler: async (request, reply) => {
        const { after, ...filter } = request.query;
        const [verification, rows] = await Promise.all([
          verifyAuditChain(app.db, { keys }),
          listAuditEvents(app.db, { ...filter, afterId: after, limit: pageSize }),
        ]);
        const events = rows.slice(0, pageSize);
        const next =
          rows.length > pageSize &&
          `${path}?${new URLSearchParams({ ...Object.fromEntries(Object.entries(filter).filter(([, v]) => v)), after: String(events.at(-1)?.id ?? 0) })}`;
        const status = verification.valid
          ? html`<p class="notice success" role="status" data-testid="audit-verify"><strong>Verified.</strong> ${verification.checked} events link and hash correctly; ${verification.checkpoints} signed checkpoint${verification.checkpoints === 1 ? '' : 's'} hold${verification.lastCheckpoint ? html`, the newest signed ${time(verification.lastCheckpoint.signedAt)}` : ''}; ${verification.unanchored} event${verification.unanchored === 1 ? '' : 's'} after it await the next signature.</p>`
          : html`<p class="notice error" role="alert" data-testid="audit-verify"><strong>The audit trail does not verify.</strong> ${verification.reason ?? ''}${verification.firstBrokenId ? ` First broken event: ${verification.firstBrokenId}.` : ''}${verification.firstBrokenCheckpointId ? ` First broken checkpoint: ${verification.firstBrokenCheckpointId}.` : ''}</p>`;
        return web.render(request, reply, {
          title: 'Audit trail',
          body: html`<h1>Audit trail</h1>
${status}
<form class="filters" method="get" action="${path}" role="search" aria-label="Filter the audit trail">
  <div><label for="filter-subjectType">Subject type</label><input id="filter-subjectType" name="subjectType" value="${filter.subjectType ?? ''}"></div>
  <div><label for="filter-subjectId">Subject id</label><input id="filter-subjectId" name="subjectId" value="${filter.subjectId ?? ''}"></div>
  <div><label for="filter-action">Action</label><input id="filter-action" name="action" value="${filter.action ?? ''}"></div>
  <div class="actions"><button type="submit">Filter</button></div>
</form>
${table(
  ['#', 'When', 'Who', 'Action', 'Subject', 'Details'],
  events.map((event) => [
    String(event.id),
    time(event.occurred_at),
    event.actor,
    humanize(event.action),
    html`${humanize(event.subject_type)} ${web.linkTo({ type: event.subject_type, id: event.subject_id }, event.subject_id)}`,
    html`<dl class="facts">${Object.entries(event.details).map(([key, value]) => html`<dt>${humanize(key)}</dt><dd>${detailText(value)}</dd>`)}</dl>`,
  ]),
  'Audit events',
)}
${next && html`<p><a href="${next}">Later events</a></p>`}`,
        });
      },
    });
  },
};
