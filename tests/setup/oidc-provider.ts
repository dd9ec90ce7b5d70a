import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/** A person the test identity provider knows: their login is their subject. */
export interface IdentityAccount {
  name: string;
  email: string;
  groups: string[];
}

export interface IdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Registers Warden as a client once its address (the redirect URI's origin) is known. */
  register(wardenBaseUrl: string): void;
  close(): Promise<void>;
}

/**
 * A real OpenID provider (`oidc-provider`) on loopback with its development login and consent pages:
 * any password is accepted, and the login names one of `accounts`. It listens before Warden starts
 * (Warden's configuration needs the issuer) and learns Warden's redirect URI afterwards.
 */
export async function startIdentityProvider(accounts: Record<string, IdentityAccount>): Promise<IdentityProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'warden';
  const clientSecret = 'a-client-secret-for-the-test-provider';
  return {
    issuer,
    clientId,
    clientSecret,
    register(wardenBaseUrl) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [`${wardenBaseUrl}/ui/sign-in/oidc/callback`],
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        cookies: { keys: ['a-cookie-key-for-the-test-provider'] },
        claims: { openid: ['sub'], profile: ['name'], email: ['email'], groups: ['groups'] },
        // Claims in the ID token itself, as Warden reads them, not only from the userinfo endpoint.
        conformIdTokenClaims: false,
        async findAccount(_context, id) {
          const account = accounts[id];
          if (!account) return undefined;
          return { accountId: id, claims: async () => ({ sub: id, ...account }) };
        },
      });
      server.on('request', provider.callback());
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
