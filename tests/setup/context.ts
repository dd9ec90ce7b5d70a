import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** A URL to the PostgreSQL server's maintenance database, for creating per-file databases. */
    postgresAdminUrl: string;
    templateDatabase: string;
    databasePrefix: string;
    workflowBundlePath: string;
    codecKeys: string;
  }
}
