// The thread that checks documents against the formats' official JSON schemas (the catalogue is in
// schemas/official-schemas.ts, which starts this thread and talks to it). Compiling a schema takes
// seconds and checking a 20,000-component SBOM over a second: here they block this thread, never the
// event loop that answers requests.
//
// Plain JavaScript on purpose: a worker thread loads its entry with Node's own loader, which neither
// tsx's hooks (registered on the main thread) nor vitest's transform reach, so this one file runs
// unchanged from the sources, under the tests and beside the compiled program.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Ajv from 'ajv';
import Ajv2019 from 'ajv/dist/2019.js';
import Ajv2020 from 'ajv/dist/2020.js';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';

/** A value in a form where equal JSON values are equal strings: object keys sorted, as JSON Schema's equality ignores their order. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * `uniqueItems` in linear time: ajv compares object items pairwise, so a 5,000-component BOM (whose
 * `components` and `dependencies` the schemas declare unique) took over 20 s to check. Same meaning,
 * same error as ajv's own.
 */
function uniqueItems(unique, data) {
  uniqueItems.errors = [];
  if (!unique) return true;
  const seen = new Map();
  for (let j = 0; j < data.length; j += 1) {
    const key = canonical(data[j]);
    const i = seen.get(key);
    if (i !== undefined) {
      uniqueItems.errors = [
        { keyword: 'uniqueItems', params: { i, j }, message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)` },
      ];
      return false;
    }
    seen.set(key, j);
  }
  return true;
}

// A schema is read by the validator of the draft it declares. A referenced schema is read as the
// draft of the schema referring to it: CSAF 2.0 (2020-12) refers to CVSS 2.0 and 3.0 (draft-04),
// which use none of the keywords whose meaning changed since (`id`, boolean exclusiveMinimum).
const validatorClasses = { 'draft-04': AjvDraft04, 'draft-07': Ajv, '2019-09': Ajv2019, '2020-12': Ajv2020 };

/**
 * One validator per draft, configured as the CycloneDX library configures its own (`JsonValidator`:
 * lenient about unknown keywords, no remote schemas, the formats ajv-formats knows, `iri-reference`
 * and `idn-email` taken as written) but with the linear `uniqueItems` above. The schemas are not
 * checked against their meta-schemas: they are the published ones, and the tests compile each.
 */
const validators = new Map();
function validatorFor(draft) {
  let ajv = validators.get(draft);
  if (ajv) return ajv;
  const Validator = validatorClasses[draft];
  ajv = new Validator({ strict: false, useDefaults: false, addUsedSchema: false, validateSchema: false });
  addFormats(ajv);
  ajv.addFormat('iri-reference', true);
  ajv.addFormat('idn-email', true);
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword({ keyword: 'uniqueItems', type: 'array', schemaType: 'boolean', validate: uniqueItems, errors: true });
  validators.set(draft, ajv);
  return ajv;
}

const readSchema = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** @type {Record<string, { draft: keyof typeof validatorClasses, file: string, referenced: Record<string, string> }>} */
const catalogue = workerData;
const compiled = new Map();

/** The compiled check for one schema of the catalogue: compiled on first use, kept for the thread's life. */
function checkFor(name) {
  let validate = compiled.get(name);
  if (validate) return validate;
  const { draft, file, referenced } = catalogue[name];
  const ajv = validatorFor(draft);
  // Schemas refer to others by URL; each is read from its vendored file under that URL, which
  // replaces the identifier it gives itself (the CVSS ones add a date the reference leaves out, and
  // 2.0 and 3.0 write it as draft-04's `id`, which later drafts call `$id`).
  for (const [url, referencedFile] of Object.entries(referenced)) {
    if (ajv.getSchema(url)) continue;
    const { id: _ownId, ...schema } = readSchema(referencedFile);
    ajv.addSchema({ ...schema, $id: url });
  }
  validate = ajv.compile(readSchema(file));
  compiled.set(name, validate);
  return validate;
}

parentPort.on('message', ({ id, schema, document }) => {
  try {
    const validate = checkFor(schema);
    parentPort.postMessage({ id, errors: validate(document) ? [] : (validate.errors ?? []) });
  } catch (error) {
    parentPort.postMessage({ id, failure: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
