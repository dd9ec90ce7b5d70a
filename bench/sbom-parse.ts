/**
 * What reading an SBOM costs before anything is written: a CycloneDX 1.5 BOM of N Maven components
 * checked against the official JSON schema (the CycloneDX library's validator, ajv) and read, the
 * first time (the schema compiles once per process) and after. Run: npm run bench:sbom-parse
 * (BENCH_COMPONENTS, default 5000; BENCH_RUNS, default 5).
 */
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

async function timed(): Promise<number> {
  const started = performance.now();
  const parsed = await readSbom(bom);
  if (!parsed.ok || parsed.sbom.components.length !== components) throw new Error(`unexpected: ${JSON.stringify(parsed).slice(0, 500)}`);
  return performance.now() - started;
}

const first = await timed();
const after: number[] = [];
for (let run = 0; run < runs; run += 1) after.push(await timed());
after.sort((a, b) => a - b);
console.log(`CycloneDX 1.5, ${components} components, ${(JSON.stringify(bom).length / 1024).toFixed(0)} kB`);
console.log(`first parse (schema compiled): ${first.toFixed(0)} ms`);
console.log(
  `later parses: median ${after[Math.floor(after.length / 2)]?.toFixed(0)} ms, max ${after.at(-1)?.toFixed(0)} ms (${runs} runs)`,
);
