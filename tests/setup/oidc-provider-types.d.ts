// oidc-provider ships no types; the harness uses its constructor, `callback()` and `findAccount`.
declare module 'oidc-provider' {
  import type { RequestListener } from 'node:http';
  export interface Account {
    accountId: string;
    claims(): Promise<Record<string, unknown>>;
  }
  export default class Provider {
    constructor(
      issuer: string,
      configuration: Record<string, unknown> & { findAccount?(context: unknown, id: string): Promise<Account | undefined> },
    );
    callback(): RequestListener;
  }
}
