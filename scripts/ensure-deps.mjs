// Runs before `npm start` and `npm test` with nothing but Node: installs node_modules when they are
// missing or older than package-lock.json, so both commands work on a fresh clone.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const lockHash = createHash('sha256').update(readFileSync('package-lock.json')).digest('hex');
const stamp = 'node_modules/.warden-lock-hash';
const installed = existsSync(stamp) ? readFileSync(stamp, 'utf8') : '';
if (installed !== lockHash) {
  console.error('warden: installing dependencies (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
  writeFileSync(stamp, lockHash);
}
