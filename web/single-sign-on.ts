import * as oidc from 'openid-client';
import { z } from 'zod';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sessionCookie } from '../http/plugins/auth';
import { Problem } from '../http/problem';
import { identityPrincipalId, rolesFromClaims } from '../domain/identity';
import { createIdentitySession, recordRefusedSignIn, webSessionLifetimeMs } from '../db/web-sessions';
import { html } from './html';
import { safeReturnPath, secureCookies, uiPrefix, type WebContext } from './page';

const startPath = '/sign-in/oidc';
const callbackPath = '/sign-in/oidc/callback';
/** What the browser keeps between leaving for the identity provider and coming back: never the session itself. */
const pendingCookie = 'warden_oidc';
/** Long enough to type a password and answer a second factor; a stale attempt starts again. */
const pendingLifetimeSeconds = 10 * 60;

const pendingSignIn = z.object({ state: z.string().min(1), nonce: z.string().min(1), verifier: z.string().min(43), next: z.string() });

/** The link the sign-in page offers when single sign-on is configured. */
export const singleSignOnPath = (next: string | undefined) => `${uiPrefix}${startPath}${next ? `?next=${encodeURIComponent(next)}` : ''}`;

/**
 * Single sign-on with OpenID Connect: authorization code with PKCE, state and nonce (openid-client).
 * The provider's subject becomes the principal, its name and e-mail claims the principal's, and the
 * role claim's values the session's roles through WARDEN_OIDC_ROLE_MAP. Registered only when
 * WARDEN_OIDC_ISSUER is set; token sign-in stays beside it.
 */
export async function singleSignOnRoutes(app: FastifyInstance, web: WebContext) {
  const issuer = app.config.WARDEN_OIDC_ISSUER;
  const clientId = app.config.WARDEN_OIDC_CLIENT_ID;
  const clientSecret = app.config.WARDEN_OIDC_CLIENT_SECRET;
  const roleMapping = app.config.WARDEN_OIDC_ROLE_MAP;
  if (!issuer || !clientId || !clientSecret || !roleMapping) return;
  const roleClaim = app.config.WARDEN_OIDC_ROLE_CLAIM;
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const secure = secureCookies(app.config.WARDEN_PUBLIC_URL);
  const pendingCookieOptions = {
    path: `${uiPrefix}${startPath}`,
    httpOnly: true,
    // Lax, not strict: the provider sends the browser back with a top-level GET from its own site.
    sameSite: 'lax',
    secure,
  } as const;

  // Discovered on first use, not at start: the API starts while the provider is down, and a failed
  // discovery is tried again on the next sign-in.
  let discovered: Promise<oidc.Configuration> | undefined;
  const provider = () => {
    discovered ??= oidc
      .discovery(
        new URL(issuer),
        clientId,
        clientSecret,
        undefined,
        // config.ts admits http:// only for a provider on loopback (a local or test provider).
        issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((error: unknown) => {
        discovered = undefined;
        app.log.warn({ err: error, issuer }, 'identity provider discovery failed');
        throw new Problem(503, 'Service Unavailable', 'The identity provider cannot be reached. Try again in a few seconds.', undefined, {
          'retry-after': '5',
        });
      });
    return discovered;
  };
  // Where the provider sends people back; behind a proxy, WARDEN_PUBLIC_URL says what they see.
  const redirectUri = (request: FastifyRequest) =>
    `${app.config.WARDEN_PUBLIC_URL?.replace(/\/$/, '') ?? `${request.protocol}://${request.host}`}${uiPrefix}${callbackPath}`;

  const refuse = async (
    request: FastifyRequest,
    reply: Parameters<WebContext['render']>[1],
    status: number,
    reason: string,
    text: string,
    principalId?: string,
  ) => {
    await recordRefusedSignIn(app.db, { ip: request.ip, reason, ...(principalId ? { principalId } : {}) });
    return web.render(request, reply, {
      title: 'Sign-in refused',
      status,
      body: html`<div class="sign-in card"><h1>Sign-in refused</h1><p>${text}</p><p><a href="${uiPrefix}/sign-in">Back to sign-in</a></p></div>`,
    });
  };

  routes.get(startPath, {
    config: { public: true },
    schema: { hide: true, querystring: z.object({ next: z.string().max(500).optional() }) },
    handler: async (request, reply) => {
      const configuration = await provider();
      const pending = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        verifier: oidc.randomPKCECodeVerifier(),
        next: safeReturnPath(request.query.next),
      };
      reply.setCookie(pendingCookie, Buffer.from(JSON.stringify(pending)).toString('base64url'), {
        ...pendingCookieOptions,
        maxAge: pendingLifetimeSeconds,
      });
      const authorization = oidc.buildAuthorizationUrl(configuration, {
        redirect_uri: redirectUri(request),
        scope: `openid profile email ${roleClaim === 'groups' ? 'groups' : ''}`.trim(),
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
      });
      return reply.redirect(authorization.href, 303);
    },
  });

  routes.get(callbackPath, {
    config: { public: true },
    // The provider's answer is checked by openid-client against what this browser started with.
    schema: { hide: true, querystring: z.record(z.string(), z.string().max(4096)) },
    handler: async (request, reply) => {
      const pending = readPending(request.cookies[pendingCookie]);
      reply.clearCookie(pendingCookie, pendingCookieOptions);
      if (!pending)
        return refuse(
          request,
          reply,
          400,
          'no sign-in pending',
          'This browser did not start a sign-in, or it took longer than ten minutes. Start again.',
        );
      const configuration = await provider();
      const query = new URL(request.url, 'http://callback').search;
      let claims: Record<string, unknown>;
      try {
        const tokens = await oidc.authorizationCodeGrant(configuration, new URL(`${redirectUri(request)}${query}`), {
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          pkceCodeVerifier: pending.verifier,
          idTokenExpected: true,
        });
        claims = tokens.claims() ?? {};
      } catch (error) {
        request.log.warn({ err: error }, 'single sign-on refused');
        // openid-client words the kind ("invalid response encountered"); its cause says what was wrong.
        const reason = describeFailure(error);
        return refuse(
          request,
          reply,
          400,
          reason,
          'The answer from the identity provider did not match the sign-in this browser started. Start again.',
        );
      }
      const subject = String(claims.sub);
      const principalId = identityPrincipalId(subject);
      const roles = rolesFromClaims(claims, roleClaim, roleMapping);
      if (!roles.length)
        return refuse(
          request,
          reply,
          403,
          `no role in claim ${roleClaim}`,
          'Your account has no Warden role. Ask an administrator to add you to a Warden group.',
          principalId,
        );
      const text = (name: string) => (typeof claims[name] === 'string' && claims[name] ? (claims[name] as string) : undefined);
      const signedIn = await createIdentitySession(
        app.db,
        {
          issuer,
          principalId,
          displayName: text('name') ?? text('preferred_username') ?? text('email') ?? subject,
          email: text('email'),
          roles,
        },
        { ip: request.ip },
      );
      reply.setCookie(sessionCookie, signedIn.secret, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure,
        maxAge: webSessionLifetimeMs / 1000,
      });
      return reply.redirect(pending.next, 303);
    },
  });
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return 'the provider refused';
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}

function readPending(cookie: string | undefined): z.infer<typeof pendingSignIn> | undefined {
  if (!cookie) return undefined;
  try {
    const parsed = pendingSignIn.safeParse(JSON.parse(Buffer.from(cookie, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
