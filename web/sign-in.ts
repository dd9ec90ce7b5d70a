import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sessionCookie } from '../http/plugins/auth';
import { everyone } from '../http/roles';
import { createWebSession, endWebSession, webSessionLifetimeMs } from '../db/web-sessions';
import { html } from './html';
import { singleSignOnPath } from './single-sign-on';
import { pageRoute, safeReturnPath, secureCookies, uiPrefix, type Notice, type WebContext } from './page';

const signInForm = z.object({ _csrf: z.string(), token: z.string().trim().min(1).max(500), next: z.string().max(500).optional() });

/** Sign-in with an API token, exchanged for a server-side session (beside single sign-on, when configured); sign-out ends it. */
export async function signInRoutes(app: FastifyInstance, web: WebContext) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'strict', secure: secureCookies(app.config.WARDEN_PUBLIC_URL) } as const;

  const singleSignOn = Boolean(app.config.WARDEN_OIDC_ISSUER);
  const form = (csrfToken: string, next: string | undefined) => html`<div class="sign-in card">
<h1>Sign in to Warden</h1>
${
  singleSignOn &&
  html`<p><a class="button primary" href="${singleSignOnPath(next)}">Sign in with your organisation account</a></p>
<h2>Or with an API token</h2>`
}
<form method="post" action="${uiPrefix}/sign-in" class="decide">
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <input type="hidden" name="next" value="${next}">
  <label for="token">API token</label>
  <input id="token" name="token" type="password" autocomplete="off" required aria-describedby="token-hint">
  <p class="hint" id="token-hint">Your Warden API token (wdn_…). It is not stored in the browser; a session is.</p>
  <div class="outcomes"><button type="submit">Sign in</button></div>
</form>
</div>`;

  const show = (
    reply: Parameters<WebContext['render']>[1],
    request: Parameters<WebContext['render']>[0],
    next: string | undefined,
    notice?: Notice,
    status?: number,
  ) => web.render(request, reply, { title: 'Sign in', body: form(reply.generateCsrf(), next), notice, status });

  routes.get('/sign-in', {
    config: { public: true },
    schema: { hide: true, querystring: z.object({ next: z.string().max(500).optional() }) },
    handler: (request, reply) => show(reply, request, request.query.next),
  });

  routes.post('/sign-in', {
    config: { public: true },
    preValidation: app.csrfProtection,
    schema: { hide: true, body: signInForm },
    handler: async (request, reply) => {
      const signedIn = await createWebSession(app.db, request.body.token, { ip: request.ip });
      if (!signedIn) return show(reply, request, request.body.next, { kind: 'error', text: 'That token is unknown or revoked.' }, 401);
      reply.setCookie(sessionCookie, signedIn.secret, { ...cookieOptions, maxAge: webSessionLifetimeMs / 1000 });
      return reply.redirect(safeReturnPath(request.body.next), 303);
    },
  });

  routes.post('/sign-out', {
    ...pageRoute(everyone),
    preValidation: app.csrfProtection,
    schema: { hide: true, body: z.object({ _csrf: z.string() }) },
    handler: async (request, reply) => {
      if (request.webSession) {
        await endWebSession(app.db, request.webSession);
        app.credentials.forgetAll();
      }
      reply.clearCookie(sessionCookie, cookieOptions);
      return reply.redirect(`${uiPrefix}/sign-in`, 303);
    },
  });
}
