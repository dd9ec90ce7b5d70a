#!/usr/bin/env node
// Warden runs its TypeScript sources through tsx: one code path for development and production,
// no build step to forget. `npm run typecheck` is what keeps the types honest.
import { register } from 'tsx/esm/api';

register();
await import('../cli/warden.ts');
