import { readFileSync } from 'node:fs';

/** Warden's version, from package.json: what `warden --version` prints and the OpenAPI document states. */
export const wardenVersion: string = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')).version;
