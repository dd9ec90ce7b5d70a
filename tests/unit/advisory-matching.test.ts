import { describe, expect, it } from 'vitest';
import { formatDuration, remediationDeadline } from '../../domain/advisory';
import { affectedComponents, affectedRange, versionInRange } from '../../activities/advisory-matching';
import { cvssBaseScore } from '../../schemas/cvss';
import { completeSla, defaultSla } from '../../domain/sla';
import { osvRanges, parseAdvisory, versRanges } from '../../schemas/advisories';

describe('versionInRange', () => {
  it.each([
    ['1.2.3', '>=1.0.0 <1.4.0', true],
    ['1.4.0', '>=1.0.0 <1.4.0', false],
    ['0.9.9', '>=1.0.0 <1.4.0', false],
    ['1.4.0', '<=1.4.0', true],
    ['9.9.9', '>=2.0.0', true, 'open-ended above'],
    ['0.0.1', '<2.0.0', true, 'open-ended below'],
    ['5.0.0', '*', true],
    ['1.3.0-beta.1', '>=1.0.0 <1.4.0', true, 'a pre-release of an affected line is affected'],
    ['2.5.1', '1.x || 2.5.x', true, 'alternatives inside one range'],
    ['3.0.0', '1.x || 2.5.x', false],
    ['v1.2.3', '1.2.3', true, 'a leading v is semver'],
    ['2019-R2', '2019-r2', true, 'non-semver: exact, case-insensitive'],
    ['2019-R3', '2019-R2', false],
    ['10.0.19041.1', '>=10.0.0', true, 'a fourth number is kept, not ordered by'],
    ['10.0.19041.1', '<10.0.19041', false, 'a fourth number never sorts below its release'],
    ['10.0.19041.1', '10.0.19041.1', true],
    ['1.2', '>=1.0.0', true, 'ecosystems drop trailing zeros: 1.2 is 1.2.0'],
    ['2.14.1', '>=2.0.0-beta9 <2.15.0', true, 'Maven 2.0-beta9 as osvRanges writes it'],
    ['2.14.1.Final', '<2.14.1', false, 'a release word is the release itself'],
    ['2.15.0-rc1', '<2.15.0', true, 'a release candidate comes before its release'],
  ])('%s in %s → %s', (version: string, range: string, expected: boolean, _why?: string) => {
    expect(versionInRange(version, range)).toBe(expected);
  });

  it('treats several ranges as alternatives and names the one that matched', () => {
    const ranges = ['>=1.0.0 <1.2.5', '>=2.0.0 <2.1.4', '3.0.0-legacy'];
    expect(affectedRange('2.1.0', ranges)).toBe('>=2.0.0 <2.1.4');
    expect(affectedRange('1.2.5', ranges)).toBeUndefined();
    expect(affectedRange('3.0.0-LEGACY', ranges)).toBe('3.0.0-legacy');
  });

  it('matches products case-insensitively and only affected versions', () => {
    const affected = [{ product: 'OpenSSL', ranges: ['>=3.0.0 <3.0.7'], fixed: ['3.0.7'] }];
    expect(
      affectedComponents(affected, [
        { product: 'openssl', version: '3.0.2' },
        { product: 'nginx', version: '3.0.2' },
      ]),
    ).toEqual([{ product: 'openssl', version: '3.0.2', range: '>=3.0.0 <3.0.7', fixed: ['3.0.7'] }]);
    expect(affectedComponents(affected, [{ product: 'OPENSSL', version: '3.0.7' }])).toEqual([]);
  });
});

describe('remediation deadline', () => {
  it('takes the SLA deadline of the level and halves it for critical or exploited advisories', () => {
    expect(remediationDeadline(defaultSla.patchDeadlines, 'high', { cvssScore: 7.5, exploited: false })).toBe('7d');
    expect(remediationDeadline(defaultSla.patchDeadlines, 'high', { cvssScore: 9.8, exploited: false })).toBe('84h');
    expect(remediationDeadline(defaultSla.patchDeadlines, 'low', { cvssScore: null, exploited: true })).toBe('45d');
    // Stored before durations were bounded: read as ten years at most (completeSla), halved from there.
    const { patchDeadlines } = completeSla({ patchDeadlines: { ...defaultSla.patchDeadlines, low: '99999999w' } });
    expect(remediationDeadline(patchDeadlines, 'low', { cvssScore: 5, exploited: false })).toBe('3653d');
    expect(remediationDeadline(patchDeadlines, 'low', { cvssScore: 9.1, exploited: false })).toBe('43836h');
    expect(remediationDeadline({ ...defaultSla.patchDeadlines, very_high: '3s' }, 'very_high', { cvssScore: 10, exploited: false })).toBe(
      '1500ms',
    );
    expect(formatDuration(60_000)).toBe('1m');
  });
});

describe('CVSS base scores (v2, v3.x, v4.0)', () => {
  it.each([
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10],
    ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N', 6.5],
    ['CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N', 1.8],
    ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N', 0],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 9.3],
    ['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N', 6.9],
    ['AV:N/AC:L/Au:N/C:P/I:P/A:P', 7.5],
    ['AV:N/AC:L/Au:N/C:C/I:C/A:C', 10],
    ['CVSS:3.1/AV:N/AC:L', null],
    ['CVSS:4.0/AV:N/AC:L', null],
    ['CVSS:9.9/AV:N', null],
    ['not a vector', null],
  ])('%s → %s', (vector, score) => {
    expect(cvssBaseScore(vector)).toBe(score);
  });
});

describe('advisory formats', () => {
  it('reads OSV events into ranges, open-ended when nothing closes them', () => {
    expect(
      osvRanges([{ introduced: '0' }, { fixed: '1.2.5' }, { introduced: '2.0.0' }, { last_affected: '2.1.3' }, { introduced: '3.0.0' }]),
    ).toEqual({
      ranges: ['>=0.0.0-0 <1.2.5', '>=2.0.0 <=2.1.3', '>=3.0.0'],
      fixed: ['1.2.5'],
      intervals: [
        { range: '>=0.0.0-0 <1.2.5', type: 'ECOSYSTEM', fixed: '1.2.5' },
        { range: '>=2.0.0 <=2.1.3', type: 'ECOSYSTEM', introduced: '2.0.0', lastAffected: '2.1.3' },
        { range: '>=3.0.0', type: 'ECOSYSTEM', introduced: '3.0.0' },
      ],
    });
    expect(versRanges('vers:semver/>=1.0.0|<1.2.3|2.0.0|>=3.0.0')).toEqual(['>=1.0.0 <1.2.3', '2.0.0', '>=3.0.0']);
  });

  it('maps an OSV document', () => {
    const parsed = parseAdvisory({
      schema_version: '1.6.0',
      id: 'GHSA-aaaa-bbbb-cccc',
      modified: '2026-11-01T00:00:00Z',
      published: '2026-10-30T00:00:00Z',
      aliases: ['CVE-2026-1111'],
      summary: 'Prototype pollution in widget',
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      affected: [
        {
          package: { ecosystem: 'npm', name: 'widget' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { fixed: '1.4.2' }] }],
          versions: ['0.9.0-rc'],
        },
      ],
    });
    expect(parsed).toMatchObject({
      ok: true,
      format: 'osv',
      content: {
        id: 'GHSA-aaaa-bbbb-cccc',
        aliases: ['CVE-2026-1111'],
        title: 'Prototype pollution in widget',
        cvssScore: 9.8,
        affected: [{ product: 'widget', ranges: ['>=1.0.0 <1.4.2', '0.9.0-rc'], fixed: ['1.4.2'] }],
      },
    });
  });

  it('maps a CSAF 2.0 document', () => {
    const parsed = parseAdvisory({
      document: {
        category: 'csaf_security_advisory',
        csaf_version: '2.0',
        title: 'Acme Gateway: remote code execution',
        publisher: { name: 'Acme PSIRT', category: 'vendor', namespace: 'https://acme.example' },
        tracking: {
          id: 'ACME-SA-2026-007',
          initial_release_date: '2026-11-01T00:00:00Z',
          current_release_date: '2026-11-02T00:00:00Z',
          version: '1',
          status: 'final',
          revision_history: [],
        },
      },
      product_tree: {
        branches: [
          {
            category: 'vendor',
            name: 'Acme',
            branches: [
              {
                category: 'product_name',
                name: 'Acme Gateway',
                branches: [
                  {
                    category: 'product_version_range',
                    name: 'vers:generic/>=4.0.0|<4.2.1',
                    product: { product_id: 'GW-4', name: 'Acme Gateway 4.x before 4.2.1' },
                  },
                  { category: 'product_version', name: '4.2.1', product: { product_id: 'GW-421', name: 'Acme Gateway 4.2.1' } },
                  { category: 'product_version', name: '2019-R2', product: { product_id: 'GW-2019', name: 'Acme Gateway 2019-R2' } },
                ],
              },
            ],
          },
        ],
      },
      vulnerabilities: [
        {
          cve: 'CVE-2026-2222',
          product_status: { known_affected: ['GW-4', 'GW-2019'], fixed: ['GW-421'] },
          scores: [
            {
              products: ['GW-4'],
              cvss_v3: {
                version: '3.1',
                baseScore: 9.1,
                vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N',
                baseSeverity: 'CRITICAL',
              },
            },
          ],
          remediations: [{ category: 'workaround', details: 'Block port 8443 at the edge', product_ids: ['GW-4'] }],
          threats: [{ category: 'exploit_status', details: 'Exploited in the wild' }],
        },
      ],
    });
    expect(parsed).toMatchObject({
      ok: true,
      format: 'csaf',
      content: {
        id: 'ACME-SA-2026-007',
        supplier: 'Acme PSIRT',
        aliases: ['CVE-2026-2222'],
        cvssScore: 9.1,
        exploited: true,
        preventiveMeasures: 'Block port 8443 at the edge',
        affected: [{ product: 'Acme Gateway', ranges: ['>=4.0.0 <4.2.1', '2019-R2'], fixed: ['4.2.1'] }],
      },
    });
  });

  it('rejects a malformed document whole, naming the field', () => {
    const osv = parseAdvisory({ id: 'GHSA-x', modified: '2026-11-01T00:00:00Z', affected: [{ package: {}, ranges: [] }] });
    expect(osv).toMatchObject({ ok: false, format: 'osv', errors: [{ path: 'body.affected.0.package.name' }] });
    const csaf = parseAdvisory({ document: { csaf_version: '2.0', category: 'x', title: 't', publisher: { name: 'p' }, tracking: {} } });
    expect(csaf.ok).toBe(false);
    expect(csaf.ok ? [] : csaf.errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(['body.document.tracking.id', 'body.product_tree', 'body.vulnerabilities']),
    );
    const generic = parseAdvisory({ id: 'ADV-1', title: 'x', affected: [{ product: 'p', versions: [] }], surprise: 1 });
    expect(generic.ok ? [] : generic.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['body.affected.0.versions', 'body']));
  });
});
