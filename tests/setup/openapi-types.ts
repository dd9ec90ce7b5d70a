import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';
import { loadConfig } from '../../config';
import { openApiDocument } from '../../server';

/**
 * The TypeScript types openapi-typescript generates from Warden's OpenAPI document: what a client
 * nobody here wrote sees. The suite compiles `warden-api.d.ts` and calls the API through it with
 * openapi-fetch (tests/api/openapi.test.ts); tests/unit/openapi-contract.test.ts fails when it is stale.
 * `npm run openapi:types` regenerates it.
 */
export const generatedTypesPath = new URL('./warden-api.d.ts', import.meta.url);

export async function generateApiTypes(): Promise<string> {
  // The document as a deployment without WARDEN_PUBLIC_URL serves it, whatever this shell has set.
  const document = await openApiDocument(loadConfig({}));
  return COMMENT_HEADER + astToString(await openapiTS(document as unknown as OpenAPI3));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(generatedTypesPath, await generateApiTypes());
}
