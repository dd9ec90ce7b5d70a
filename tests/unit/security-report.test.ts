import { describe, expect, it } from 'vitest';
import { reportHtml } from '../../domain/security-report/html';
import { reportMarkdown } from '../../domain/security-report/markdown';
import type { MeasuredKpi, SecurityReport } from '../../domain/security-report/model';
import { htmlTables, markdownTables } from '../setup/report-tables';

const kpi = (id: string, title: string, value: number | null, unit = 'minutes'): MeasuredKpi => ({
  id,
  title,
  definition: `how ${id} is computed`,
  result: { status: 'measured', value, unit, breakdown: [{ label: 'critical', value, count: 1 }] },
});

// The trend's keys in the order PostgreSQL's jsonb returns them (shorter keys first), not report order.
const report: SecurityReport = {
  id: '2026-Q3',
  period: { label: '2026-Q3', from: '2026-07-01T00:00:00.000Z', to: '2026-10-01T00:00:00.000Z' },
  scope: null,
  status: 'sign_off',
  requestedBy: 'max',
  generatedAt: '2026-10-01T06:00:00.000Z',
  measures: [kpi('mttd', 'MTTD', 60), kpi('mtta', 'MTTA | ack', 36.67), kpi('incidents-per-category', 'Incidents', 3, 'incidents')],
  trend: [
    { period: '2026-Q2', values: { mtta: 10, mttd: 20, 'incidents-per-category': 1 } },
    { period: '2026-Q3', values: { mtta: 36.67, mttd: 60, 'incidents-per-category': 3 } },
  ],
  deviations: [],
  ownerReviews: [],
  improvementActions: [],
  revisions: [],
  signOff: null,
};

describe('the IT Security Report', () => {
  it('puts every trend value under its own KPI in Markdown and HTML, whatever the stored key order', () => {
    const expected = [
      ['Quarter', 'MTTD', 'MTTA | ack', 'Incidents'],
      ['2026-Q2', '20', '10', '1'],
      ['2026-Q3', '60', '36.67', '3'],
    ];
    expect(markdownTables(reportMarkdown(report)).get('Trend over the last quarters')).toEqual(expected);
    expect(htmlTables(reportHtml(report)).get('Trend over the last quarters')).toEqual(expected);
  });

  it('draws the same tables in both formats', () => {
    const markdown = markdownTables(reportMarkdown(report));
    expect([...markdown.keys()]).toEqual(['Key performance indicators', 'Trend over the last quarters']);
    expect(htmlTables(reportHtml(report))).toEqual(markdown);
    expect(markdown.get('Key performance indicators')?.[2]).toEqual(['MTTA | ack', '36.67 minutes', 'critical: 36.67 (n=1)']);
  });
});
