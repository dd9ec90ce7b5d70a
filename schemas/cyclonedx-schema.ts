import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * The official CycloneDX JSON schemas, as the CycloneDX library ships them (its `res/schema`), one
 * per version Warden reads, and the schemas they refer to by URL.
 */
const schemaFolder = join(dirname(createRequire(import.meta.url).resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
const bomSchemaFiles = {
  '1.4': 'bom-1.4.SNAPSHOT.schema.json',
  '1.5': 'bom-1.5.SNAPSHOT.schema.json',
  '1.6': 'bom-1.6.SNAPSHOT.schema.json',
};
const referencedSchemaFiles = ['spdx.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json', 'cryptography-defs.SNAPSHOT.schema.json'];

export type CycloneDxSpecVersion = keyof typeof bomSchemaFiles;
export const cycloneDxSpecVersions = Object.keys(bomSchemaFiles) as CycloneDxSpecVersion[];

/** A value in a form where equal JSON values are equal strings: object keys sorted, as JSON Schema's equality ignores their order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * `uniqueItems` in linear time: ajv compares object items pairwise, so a 5,000-component BOM (whose
 * `components` and `dependencies` the schemas declare unique) took over 20 s of blocked event loop.
 * Same meaning, same error as ajv's own.
 */
function uniqueItems(unique: boolean, data: unknown[]): boolean {
  const validate = uniqueItems as typeof uniqueItems & { errors?: Partial<ErrorObject>[] };
  validate.errors = [];
  if (!unique) return true;
  const seen = new Map<string, number>();
  for (let j = 0; j < data.length; j += 1) {
    const key = canonical(data[j]);
    const i = seen.get(key);
    if (i !== undefined) {
      validate.errors = [
        { keyword: 'uniqueItems', params: { i, j }, message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)` },
      ];
      return false;
    }
    seen.set(key, j);
  }
  return true;
}

/**
 * One validator for every version, configured as the CycloneDX library configures its own
 * (`JsonValidator`: lenient about unknown keywords, no remote schemas, the formats ajv-formats
 * knows, `iri-reference` and `idn-email` taken as written) but with the linear `uniqueItems` above.
 */
let ajv: Ajv | undefined;
const compiled = new Map<CycloneDxSpecVersion, ValidateFunction>();
const readSchema = (file: string) => JSON.parse(readFileSync(join(schemaFolder, file), 'utf8'));

function validatorFor(version: CycloneDxSpecVersion): ValidateFunction {
  let validate = compiled.get(version);
  if (validate) return validate;
  if (!ajv) {
    ajv = new Ajv({
      strict: false,
      useDefaults: false,
      addUsedSchema: false,
      schemas: Object.fromEntries(referencedSchemaFiles.map((file) => [`http://cyclonedx.org/schema/${file}`, readSchema(file)])),
    });
    addFormats(ajv);
    ajv.addFormat('iri-reference', true);
    ajv.addFormat('idn-email', true);
    ajv.removeKeyword('uniqueItems');
    ajv.addKeyword({ keyword: 'uniqueItems', type: 'array', schemaType: 'boolean', validate: uniqueItems, errors: true });
  }
  validate = ajv.compile(readSchema(bomSchemaFiles[version]));
  compiled.set(version, validate);
  return validate;
}

/** The official schema's errors for a CycloneDX document of this version; none when it is valid. */
export function cycloneDxSchemaErrors(doc: unknown, version: CycloneDxSpecVersion): ErrorObject[] {
  const validate = validatorFor(version);
  return validate(doc) ? [] : (validate.errors ?? []);
}
