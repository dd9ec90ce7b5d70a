import type { HttpResponse, Stack } from './stack';

/** A browser-like client of the web inbox: its cookies and the CSRF token of the last page it read. */
export interface WebClient {
  cookies: Map<string, string>;
  csrfToken: string;
  /** The Set-Cookie headers of the last response, for checking cookie flags. */
  lastSetCookies: string[];
  get(path: string): Promise<HttpResponse<string>>;
  /** Posts a form; the CSRF token is added unless `csrf: false`. */
  post(path: string, fields?: Record<string, string>, options?: { csrf?: boolean }): Promise<HttpResponse<string>>;
}

const csrfField = /name="_csrf" value="([^"]+)"/;

export function webClient(stack: Stack): WebClient {
  const client: WebClient = {
    cookies: new Map(),
    csrfToken: '',
    lastSetCookies: [],
    get: (path) => send('GET', path),
    post: (path, fields = {}, { csrf = true } = {}) =>
      send('POST', path, new URLSearchParams({ ...(csrf ? { _csrf: client.csrfToken } : {}), ...fields }).toString()),
  };
  async function send(method: string, path: string, form?: string) {
    const response = await fetch(stack.baseUrl + path, {
      method,
      redirect: 'manual',
      headers: {
        ...(client.cookies.size ? { cookie: [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {}),
        ...(form !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form,
    });
    client.lastSetCookies = response.headers.getSetCookie();
    for (const header of client.lastSetCookies) {
      const [pair = '', ...attributes] = header.split(';');
      const [name = '', value = ''] = pair.split('=');
      const expired = value === '' || attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0$/i.test(a));
      if (expired) client.cookies.delete(name.trim());
      else client.cookies.set(name.trim(), value);
    }
    const body = await response.text();
    const token = csrfField.exec(body)?.[1];
    if (token) client.csrfToken = token;
    return { status: response.status, headers: response.headers, body };
  }
  return client;
}

/** A web client signed in with `token`. */
export async function signedIn(stack: Stack, token: string): Promise<WebClient> {
  const client = webClient(stack);
  await client.get('/ui/sign-in');
  const response = await client.post('/ui/sign-in', { token });
  if (response.status !== 303) throw new Error(`sign-in failed: ${response.status} ${response.body}`);
  await client.get('/ui/tasks');
  return client;
}
