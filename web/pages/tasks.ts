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
import { dataFromForm } from '../task-form';
import { byUrgency, decisionNotice, decisionNoticeQuery, isOverdue, taskCards } from '../task-card';

const path = `${uiPrefix}/tasks`;
/** More open tasks than one person can work through in a sitting; the oldest come first. */
const shownTasks = 200;

const ownFields = new Set(['_csrf', 'outcome', 'comment', 'returnTo']);
/** The decision form: its own fields, and the task form's `data.…` fields (web/task-form.ts), a list when repeated. */
const decisionForm = z
  .object({
    _csrf: z.string(),
    outcome: z.string().min(1).max(50),
    comment: z.string().max(10_000).optional(),
    returnTo: z.string().max(500).optional(),
  })
  .catchall(z.union([z.string().max(10_000), z.array(z.string().max(10_000)).max(2000)]))
  .refine((form) => Object.keys(form).every((key) => ownFields.has(key) || key.startsWith('data.')), 'unknown form field');

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
        const task = await findVisibleTask(app.db, request.actor, request.params.id);
        const data = task && dataFromForm(task, form);
        const decision = decisionBody.safeParse({ outcome: form.outcome, comment: form.comment?.trim() || undefined, data });
        try {
          if (!decision.success) throw new Problem(400, 'Bad Request', decision.error.issues.map((issue) => issue.message).join('; '));
          const result = await decideTask(app, request.actor, request.params.id, decision.data);
          return reply.redirect(`${returnTo}?notice=${result.status}`, 303);
        } catch (problem) {
          if (!(problem instanceof Problem)) throw problem;
          return showRefusal(request, reply, problem, { comment: form.comment, data }, returnTo);
        }
      },
    });

    /** The refusal's reason (the workflow's own words), with the task and what was typed, to try again. */
    async function showRefusal(
      request: FastifyRequest,
      reply: FastifyReply,
      problem: Problem,
      entered: { comment: string | undefined; data: Record<string, unknown> | undefined },
      returnTo: string,
    ) {
      const task = await findVisibleTask(app.db, request.actor, (request.params as { id: string }).id);
      const cards = task
        ? await taskCards(web, request.actor, [task], {
            csrfToken: reply.generateCsrf(),
            returnTo,
            decidable: (t) => t.status === 'open',
            entered,
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
        body: html`<h1>${heading}</h1>${problem.errors?.length ? html`<ul class="field-errors">${problem.errors.map((e) => html`<li>${e.path.replace(/^body\./, '')}: ${e.message}</li>`)}</ul>` : ''}${cards}<p><a href="${returnTo}">Back</a></p>`,
      });
    }
  },
};
