import { z } from 'zod';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Problem } from '../../http/problem';
import { deciders, everyone } from '../../http/roles';
import { decideTask } from '../../http/task-decisions';
import { findVisibleTask, listTasks } from '../../db/tasks';
import { uuidParam } from '../../schemas/common';
import { decisionBody } from '../../schemas/tasks';
import { html } from '../html';
import { pageRoute, safeReturnPath, uiPrefix, type WebContext, type WebPage } from '../page';
import { byUrgency, decisionNotice, decisionNoticeQuery, isOverdue, taskCards } from '../task-card';

const path = `${uiPrefix}/tasks`;
/** More open tasks than one person can work through in a sitting; the oldest come first. */
const shownTasks = 200;

const decisionForm = z.object({
  _csrf: z.string(),
  outcome: z.string().min(1).max(50),
  comment: z.string().max(10_000).optional(),
  data: z.string().max(100_000).optional(),
  returnTo: z.string().max(500).optional(),
});
type DecisionForm = z.infer<typeof decisionForm>;

/** Parses the form's data field: empty is no data, anything else must be a JSON object. */
function parseData(text: string | undefined): { data?: Record<string, unknown>; error?: string } {
  if (!text?.trim()) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { data: value as Record<string, unknown> };
    return { error: 'Data must be a JSON object, such as {"scope": "…"}.' };
  } catch (error) {
    return { error: `Data is not valid JSON: ${(error as Error).message}` };
  }
}

export const tasksPage: WebPage = {
  nav: { label: 'My tasks', path },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/tasks', {
      ...pageRoute(everyone),
      schema: { hide: true, querystring: decisionNoticeQuery },
      handler: async (request, reply) => {
        const tasks = (await listTasks(app.db, request.actor, { mine: true, limit: shownTasks })).slice(0, shownTasks).sort(byUrgency);
        const cards = await taskCards(web, request.actor, tasks, {
          csrfToken: reply.generateCsrf(),
          returnTo: path,
          decidable: () => true,
        });
        const overdue = tasks.filter(isOverdue).length;
        return web.render(request, reply, {
          title: 'My tasks',
          notice: decisionNotice(request.query.notice),
          body: html`<h1>My tasks</h1>
<p class="hint">${tasks.length ? `${tasks.length} open task${tasks.length === 1 ? '' : 's'} you may decide${overdue ? `, ${overdue} overdue` : ''}.` : 'Nothing is waiting for you.'}</p>
${cards}`,
        });
      },
    });

    routes.post('/tasks/:id/decision', {
      ...pageRoute(deciders),
      preValidation: app.csrfProtection,
      schema: { hide: true, params: uuidParam, body: decisionForm },
      handler: async (request, reply) => {
        const form = request.body;
        const returnTo = safeReturnPath(form.returnTo);
        const { data, error } = parseData(form.data);
        const decision = decisionBody.safeParse({ outcome: form.outcome, comment: form.comment?.trim() || undefined, data });
        try {
          if (error) throw new Problem(400, 'Bad Request', error);
          if (!decision.success) throw new Problem(400, 'Bad Request', decision.error.issues.map((issue) => issue.message).join('; '));
          const result = await decideTask(app, request.actor, request.params.id, decision.data);
          return reply.redirect(`${returnTo}?notice=${result.status}`, 303);
        } catch (problem) {
          if (!(problem instanceof Problem)) throw problem;
          return showRefusal(request, reply, problem, form, returnTo);
        }
      },
    });

    /** The refusal's reason (the workflow's own words), with the task and what was typed, to try again. */
    async function showRefusal(request: FastifyRequest, reply: FastifyReply, problem: Problem, form: DecisionForm, returnTo: string) {
      const task = await findVisibleTask(app.db, request.actor, (request.params as { id: string }).id);
      const cards = task
        ? await taskCards(web, request.actor, [task], {
            csrfToken: reply.generateCsrf(),
            returnTo,
            decidable: (t) => t.status === 'open',
            entered: { comment: form.comment, data: form.data },
          })
        : [];
      // A 503 is not a refusal: nothing was decided, and the same form sent again shortly will be.
      const retry = problem.status === 503;
      const heading = retry ? 'Try again in a moment' : 'Decision refused';
      if (retry && problem.headers) reply.headers(problem.headers);
      return web.render(request, reply, {
        title: heading,
        status: problem.status,
        notice: {
          kind: 'error',
          text: retry ? `Your decision was not taken yet: ${problem.detail}` : `Your decision was refused: ${problem.detail}`,
        },
        body: html`<h1>${heading}</h1>${cards}<p><a href="${returnTo}">Back</a></p>`,
      });
    }
  },
};
