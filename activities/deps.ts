import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/database';

/** What every activity factory may use; tests pass the real ones. */
export interface ActivityDeps {
  db: Kysely<Database>;
  logger: Logger;
  workerIdentity: string;
  /** Where named containment actions are POSTed (signed with responderSecret); unset: carried out by hand. */
  responderUrl?: string;
  responderSecret?: string;
  /** Signs provisioning webhooks to systems' `provisioningUrl` (see activities/access.ts). */
  provisioningSecret?: string;
}
