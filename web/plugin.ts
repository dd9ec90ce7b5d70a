import csrfProtection from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { retryAfterSeconds, unavailableDependency } from '../http/plugins/errors';
import { Problem } from '../http/problem';
import type { Actor } from '../domain/roles';
import { assets } from './assets';
import { humanize } from './format';
import { html } from './html';
import { layout } from './layout';
import { inboxPath, secureCookies, subjectKey, uiPrefix, type WebContext, type WebPage } from './page';
import { signInRoutes } from './sign-in';
import { temporalUi } from './temporal-ui';
import { needsConfigurationItems } from './task-form';
import { configurationItemChoices } from '../db/cis';
import { singleSignOnRoutes } from './single-sign-on';

export const csrfCookie = 'warden_csrf';

const statusTitles: Record<number, string> = {
  400: 'That did not work',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  429: 'Slow down',
  503: 'Temporarily unavailable',
};

/**
 * The web inbox: server-rendered pages under /ui for the people in the process. Form bodies and
 * CSRF tokens exist only in this plugin's context, so the JSON API still refuses forms (415).
 */
export function webInbox(pages: WebPage[]) {
  return async function inbox(app: FastifyInstance) {
    await app.register(formbody);
    await app.register(csrfProtection, {
      cookieKey: csrfCookie,
      cookieOpts: { path: uiPrefix, sameSite: 'strict', httpOnly: true, secure: secureCookies(app.config.WARDEN_PUBLIC_URL) },
    });

    const nav = pages.flatMap((page) => (page.nav ? [page.nav] : []));
    const subjectPages = new Map(pages.flatMap((page) => (page.subject ? [[page.subject.type, page.subject] as const] : [])));
    const web: WebContext = {
      render(request, reply, view) {
        const actor = request.webSession?.actor;
        const page = layout({
          ...view,
          nav,
          currentPath: request.url.split('?')[0] ?? '',
          actor,
          csrfToken: actor && reply.generateCsrf(),
        });
        return (
          reply
            .code(view.status ?? 200)
            .type('text/html; charset=utf-8')
            // Pages show confidential records: never cached, by the browser or anything between.
            .header('cache-control', 'no-store')
            .send(page.toString())
        );
      },
      linkTo(subject, label) {
        // The full id: cut short, GHSA and CSAF ids lose the part that tells them apart.
        const text = label ?? `${humanize(subject.type)} ${subject.id}`;
        const page = subjectPages.get(subject.type);
        return page ? html`<a href="${page.path(subject.id)}">${text}</a>` : html`${text}`;
      },
      async subjectLabels(actor: Actor, subjects) {
        const labels = new Map<string, string>();
        for (const [type, page] of subjectPages) {
          const ids = [...new Set(subjects.filter((s) => s.type === type).map((s) => s.id))];
          if (!ids.length || !page.labels) continue;
          for (const [id, label] of await page.labels(app, actor, ids)) labels.set(subjectKey({ type, id }), label);
        }
        return labels;
      },
      async formLookups(tasks) {
        if (!tasks.some(needsConfigurationItems)) return { configurationItems: [] };
        const chosen = tasks.flatMap((task) => (Array.isArray(task.details.affectedCis) ? task.details.affectedCis.map(String) : []));
        const choices = await configurationItemChoices(app.db, chosen);
        return { configurationItems: choices.map((choice) => ({ value: choice.id, label: choice.label })) };
      },
    };

    app.setErrorHandler((error: FastifyError, request, reply) => {
      const unavailable = unavailableDependency(error);
      const status = unavailable
        ? 503
        : error instanceof Problem
          ? error.status
          : hasZodFastifySchemaValidationErrors(error)
            ? 400
            : (error.statusCode ?? 500);
      if (status === 401) {
        // After signing in, back to the page asked for; a form's POST cannot be replayed, so My tasks.
        const next = request.method === 'GET' ? request.url : `${uiPrefix}/tasks`;
        return reply.redirect(`${uiPrefix}/sign-in?next=${encodeURIComponent(next)}`, 303);
      }
      if (unavailable) {
        // An outage, not a fault: say so, and when to try again, like the API's 503.
        request.log.warn({ err: error, dependency: unavailable }, 'dependency unavailable');
        reply.header('retry-after', String(retryAfterSeconds));
      } else if (status >= 500) request.log.error({ err: error }, 'inbox request failed');
      if (error instanceof Problem && error.headers) reply.headers(error.headers);
      const text = unavailable
        ? `${unavailable} is unavailable at the moment. Try again in a few seconds; nothing was lost.`
        : status >= 500
          ? 'The server could not complete the request; it has been logged.'
          : error.code?.startsWith('FST_CSRF')
            ? 'This form has expired or did not come from Warden. Reload the page and try again.'
            : error.message;
      return web.render(request, reply, {
        title: statusTitles[status] ?? 'Error',
        status,
        body: html`<h1>${statusTitles[status] ?? 'Error'}</h1><p>${text}</p><p><a href="${uiPrefix}/tasks">Back to my tasks</a></p>`,
      });
    });
    app.setNotFoundHandler((request, reply) =>
      web.render(request, reply, {
        title: 'Not found',
        status: 404,
        body: html`<h1>Not found</h1><p>There is no page ${request.url.split('?')[0]}.</p>`,
      }),
    );

    app.get('/', { config: { public: true }, schema: { hide: true } }, (_request, reply) => reply.redirect(inboxPath, 303));
    app.get('/assets/:file', { config: { public: true }, schema: { hide: true } }, (request, reply) => {
      const file = assets.get(request.url.split('?')[0] ?? '');
      if (!file) return reply.callNotFound();
      return reply.type(file.type).header('cache-control', 'public, max-age=31536000, immutable').send(file.content);
    });
    await signInRoutes(app, web);
    await singleSignOnRoutes(app, web);
    for (const page of pages) await page.routes(app, web);
    const temporalUiUpstream = app.config.WARDEN_TEMPORAL_UI_UPSTREAM;
    if (temporalUiUpstream) await app.register(temporalUi(temporalUiUpstream));
  };
}
