import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCi } from '../setup/fixtures';
import { startStack, type Stack } from '../setup/stack';
import { cycloneDxWithLog4j } from '../setup/vulnerability-samples';

let stack: Stack;
let olga: string;

beforeAll(async () => {
  // The largest BOM Warden accepts (maxSbomComponents) fits the import limit, not the default body limit.
  stack = await startStack({ worker: false });
  olga = await stack.token(['service_owner'], 'olga');
});
afterAll(async () => {
  await stack?.close();
});

/** A CycloneDX 1.5 BOM of `count` Maven libraries, as cdxgen lists a large application's. */
const bomOf = (count: number) => ({
  ...cycloneDxWithLog4j(),
  components: Array.from({ length: count }, (_, i) => ({
    type: 'library',
    'bom-ref': `pkg:maven/com.example/library-${i}@1.${i % 50}.0`,
    group: 'com.example',
    name: `library-${i}`,
    version: `1.${i % 50}.0`,
    purl: `pkg:maven/com.example/library-${i}@1.${i % 50}.0`,
  })),
});

describe('the official schema thread', () => {
  it('answers a health check sent while a 20,000-component SBOM is being imported, before the import', async () => {
    const ci = await seedCi(stack.db, { owner: 'olga' });
    const order: string[] = [];
    const imported = stack.request('PUT', `/cis/${ci.ciId}/sbom`, { token: olga, body: bomOf(20_000) }).then((response) => {
      order.push('sbom');
      return response;
    });
    const health = await stack.request('GET', '/healthz');
    order.push('health');
    expect(health.status).toBe(200);
    const response = await imported;
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ format: 'cyclonedx', components: 20_000 });
    expect(order).toEqual(['health', 'sbom']);
  });

  it('refuses a large BOM that breaks the schema only at its last component, naming it', async () => {
    const ci = await seedCi(stack.db, { owner: 'olga' });
    const bom = bomOf(20_000);
    (bom.components[19_999] as { type: string }).type = 'gadget';
    const refused = await stack.request('PUT', `/cis/${ci.ciId}/sbom`, { token: olga, body: bom });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(refused.body.errors).toEqual([{ path: 'body.components.19999.type', message: 'must be equal to one of the allowed values' }]);
  });
});
