import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ErrorObject } from 'ajv';
import { jsonSchemaFieldErrors } from './json-schema-errors';

type Draft = 'draft-04' | 'draft-07' | '2019-09' | '2020-12';
interface CatalogueEntry {
  /** The JSON Schema draft the schema declares (`$schema`). */
  draft: Draft;
  file: string;
  /** The schemas it refers to, by the URL it refers to them with. */
  referenced: Record<string, string>;
}

// CycloneDX's schemas as the CycloneDX library ships them (its `res/schema`); the others, which no
// registry package ships, vendored in schemas/official/ (its README says from where and how to update).
const cycloneDxFolder = join(dirname(createRequire(import.meta.url).resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
const cycloneDx = (file: string): CatalogueEntry => ({
  draft: 'draft-07',
  file: join(cycloneDxFolder, file),
  referenced: Object.fromEntries(
    ['spdx.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json', 'cryptography-defs.SNAPSHOT.schema.json'].map((referenced) => [
      `http://cyclonedx.org/schema/${referenced}`,
      join(cycloneDxFolder, referenced),
    ]),
  ),
});
const vendored = (file: string) => fileURLToPath(new URL(`official/${file}`, import.meta.url));

const catalogue = {
  'cyclonedx-1.4': cycloneDx('bom-1.4.SNAPSHOT.schema.json'),
  'cyclonedx-1.5': cycloneDx('bom-1.5.SNAPSHOT.schema.json'),
  'cyclonedx-1.6': cycloneDx('bom-1.6.SNAPSHOT.schema.json'),
  'spdx-2.3': { draft: 'draft-07', file: vendored('spdx-2.3.schema.json'), referenced: {} },
  'sarif-2.1.0': { draft: 'draft-04', file: vendored('sarif-2.1.0.schema.json'), referenced: {} },
  'osv-1.7': { draft: '2020-12', file: vendored('osv-1.7.5.schema.json'), referenced: {} },
  'csaf-2.0': {
    draft: '2020-12',
    file: vendored('csaf-2.0.schema.json'),
    referenced: {
      'https://www.first.org/cvss/cvss-v2.0.json': vendored('cvss-v2.0.schema.json'),
      'https://www.first.org/cvss/cvss-v3.0.json': vendored('cvss-v3.0.schema.json'),
      'https://www.first.org/cvss/cvss-v3.1.json': vendored('cvss-v3.1.schema.json'),
    },
  },
} satisfies Record<string, CatalogueEntry>;

export type OfficialSchema = keyof typeof catalogue;
export const officialSchemas = Object.keys(catalogue) as OfficialSchema[];

interface Pending {
  resolve: (errors: ErrorObject[]) => void;
  reject: (error: Error) => void;
}
type Reply = { id: number; errors: ErrorObject[] } | { id: number; failure: string };

/**
 * The one thread that compiles the schemas and checks documents against them
 * (official-schema-worker.mjs), started at the first check rather than at process start. It keeps the
 * process alive only while a check is pending; if it dies, the checks it held fail and the next check
 * starts another.
 */
let thread: { worker: Worker; pending: Map<number, Pending> } | undefined;
let lastId = 0;

function checker() {
  if (thread) return thread;
  const worker = new Worker(new URL('./official-schema-worker.mjs', import.meta.url), { workerData: catalogue });
  const pending = new Map<number, Pending>();
  const current = { worker, pending };
  const failAll = (error: Error) => {
    if (thread === current) thread = undefined;
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  };
  worker.on('message', (reply: Reply) => {
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if ('failure' in reply) waiting?.reject(new Error(`official schema check failed: ${reply.failure}`));
    else waiting?.resolve(reply.errors);
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the official schema thread exited (${code})`)));
  worker.unref();
  thread = current;
  return current;
}

/**
 * The errors of a document against an official schema, named as the API names fields
 * (`body.components.1.purl`); none when it is valid. The document is copied to the checking thread,
 * so the caller's event loop stays free while the schema compiles (once per process) and checks.
 */
export async function officialSchemaErrors(schema: OfficialSchema, document: unknown): Promise<{ path: string; message: string }[]> {
  const { worker, pending } = checker();
  lastId += 1;
  const id = lastId;
  const errors = await new Promise<ErrorObject[]>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.ref();
    try {
      worker.postMessage({ id, schema, document });
    } catch (error) {
      // A document the structured clone cannot copy (nested past its stack) is refused here.
      pending.delete(id);
      if (pending.size === 0) worker.unref();
      reject(error);
    }
  });
  return jsonSchemaFieldErrors(errors);
}
