import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const stylesheet = readFileSync(new URL('./inbox.css', import.meta.url), 'utf8');
const stylesheetHash = createHash('sha256').update(stylesheet).digest('hex').slice(0, 12);

/** The content hash is in the path, so the file may be cached for a year and still never go stale. */
export const stylesheetPath = `/ui/assets/inbox.${stylesheetHash}.css`;
export const stylesheetContent = stylesheet;
