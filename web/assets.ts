import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A file served under /ui/assets with its content hash in the path, so it may be cached for a year and still never go stale. */
function asset(file: string, extension: string, type: string) {
  const content = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 12);
  return { path: `/ui/assets/${file.replace(/\.\w+$/, '')}.${hash}.${extension}`, content, type };
}

const stylesheet = asset('inbox.css', 'css', 'text/css; charset=utf-8');
/** The one script: deadlines count down on the page (web/time-left.js). */
const script = asset('time-left.js', 'js', 'text/javascript; charset=utf-8');

export const stylesheetPath = stylesheet.path;
export const scriptPath = script.path;
export const assets = new Map([stylesheet, script].map((file) => [file.path, file]));
