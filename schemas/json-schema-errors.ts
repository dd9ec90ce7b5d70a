import type { ErrorObject } from 'ajv';

interface FieldError {
  path: string;
  message: string;
}

/** A JSON Pointer segment as written in the document: `~1` is `/`, `~0` is `~`. */
const segment = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

/**
 * A JSON Schema validator's (ajv's) errors as the API names fields: `/components/1/purl` →
 * `body.components.1.purl`. A missing or unexpected property is named itself, not its parent.
 */
export function jsonSchemaFieldErrors(errors: readonly ErrorObject[]): FieldError[] {
  return errors.map((error) => {
    const path = ['body', ...error.instancePath.split('/').slice(1).map(segment)];
    const named = error.params.missingProperty ?? error.params.additionalProperty;
    if (typeof named === 'string') path.push(named);
    return { path: path.join('.'), message: error.message ?? `fails ${error.keyword}` };
  });
}
