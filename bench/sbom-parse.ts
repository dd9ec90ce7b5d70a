/**
 * What reading an SBOM costs before anything is written: a CycloneDX 1.5 BOM of N Maven components
 * checked against the official JSON schema (ajv, on the official schema thread) and read, the first
 * time (the thread starts and compiles the schema once per process) and after; beside each, the
 * longest the event loop was blocked meanwhile, which is what other requests wait. Run:
 * npm run bench:sbom-parse (BENCH_COMPONENTS, default 5000; BENCH_RUNS, default 5).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readSbom } from '../schemas/sbom';

const components = Number(process.env.BENCH_COMPONENTS ?? 5000);
const runs = Number(process.env.BENCH_RUNS ?? 5);

const bom = {
  $schema: 'http://cyclonedx.org/schema/bom-1.5.schema.json',
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
  version: 1,
  components: Array.from({ length: components }, (_, i) => ({
    type: 'library',
    'bom-ref': `pkg:maven/com.example.bench/library-${i}@1.${i % 50}.${i % 7}?type=jar`,
    group: 'com.example.bench',
    name: `library-${i}`,
    version: `1.${i % 50}.${i % 7}`,
    purl: `pkg:maven/com.example.bench/library-${i}@1.${i % 50}.${i % 7}?type=jar`,
    hashes: [{ alg: 'SHA-256', content: 'a'.repeat(64) }],
  })),
};

async function timed(): Promise<{ took: number; blocked: number }> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const started = performance.now();
  const parsed = await readSbom(bom);
  const took = performance.now() - started;
  loop.disable();
  if (!parsed.ok || parsed.sbom.components.length !== components) throw new Error(`unexpected: ${JSON.stringify(parsed).slice(0, 500)}`);
  return { took, blocked: loop.max / 1e6 };
}

const first = await timed();
const after: { took: number; blocked: number }[] = [];
for (let run = 0; run < runs; run += 1) after.push(await timed());
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
console.log(`CycloneDX 1.5, ${components} components, ${(JSON.stringify(bom).length / 1024).toFixed(0)} kB`);
console.log(
  `first parse (thread started, schema compiled): ${first.took.toFixed(0)} ms, event loop blocked at most ${first.blocked.toFixed(0)} ms`,
);
console.log(
  `later parses: median ${median(after.map((a) => a.took)).toFixed(0)} ms, max ${Math.max(...after.map((a) => a.took)).toFixed(0)} ms; ` +
    `event loop blocked at most ${Math.max(...after.map((a) => a.blocked)).toFixed(0)} ms (${runs} runs)`,
);
