import type { MeasuredKpi, SecurityReport } from './model';

/**
 * The IT Security Report laid out once, in reading order: every section, table, column and cell.
 * Markdown and HTML only draw this layout, so the two can never place a figure differently.
 */
export interface ReportDocument {
  title: string;
  subtitle: string;
  sections: ReportSection[];
}

export interface ReportSection {
  heading: string;
  /** 2 for a chapter, 3 for a part of the one before. */
  level: 2 | 3;
  blocks: ReportBlock[];
}

export type ReportBlock =
  | { kind: 'text'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; columns: string[]; rows: string[][]; highlight?: boolean }
  /** Bar charts of the trend; drawn only where pictures can be (HTML), the trend table carries the figures. */
  | { kind: 'charts'; charts: { title: string; points: { period: string; value: number | null }[] }[] };

const missing = '–';

export function formatValue(kpi: MeasuredKpi): string {
  if (kpi.result.status === 'not_measured') return kpi.result.note ?? 'not measured';
  return kpi.result.value === null ? 'no data' : `${kpi.result.value} ${kpi.result.unit}`;
}

const formatBreakdown = (kpi: MeasuredKpi) =>
  (kpi.result.breakdown ?? []).map((b) => `${b.label}: ${b.value ?? missing}${b.count !== undefined ? ` (n=${b.count})` : ''}`).join('; ');

const orNone = (rows: string[][], table: Omit<Extract<ReportBlock, { kind: 'table' }>, 'rows' | 'kind'>, none: string): ReportBlock =>
  rows.length ? { kind: 'table', ...table, rows } : { kind: 'text', text: none };

/**
 * The trend's columns are the report's trend measures in report order, each value looked up by the
 * measure's id: the stored trend is a JSON object per quarter whose key order PostgreSQL does not keep.
 */
function trendSection(report: SecurityReport): ReportSection {
  const trended = report.measures.filter((k) => report.trend.some((t) => k.id in t.values));
  const trendValue = (values: Record<string, number | null>, id: string) => values[id] ?? null;
  return {
    heading: 'Trend over the last quarters',
    level: 3,
    blocks: [
      {
        kind: 'table',
        columns: ['Quarter', ...trended.map((k) => k.title)],
        rows: report.trend.map((t) => [t.period, ...trended.map((k) => String(trendValue(t.values, k.id) ?? missing))]),
      },
      {
        kind: 'charts',
        charts: trended.map((k) => ({
          title: `${k.title} (${k.result.unit})`,
          points: report.trend.map((t) => ({ period: t.period, value: trendValue(t.values, k.id) })),
        })),
      },
    ],
  };
}

export function reportDocument(report: SecurityReport): ReportDocument {
  const scope = report.scope ? report.scope.map((s) => s.name).join(', ') : 'all services';
  return {
    title: `IT Security Report ${report.period.label}`,
    subtitle: `Period ${report.period.from} to ${report.period.to} (end exclusive). Scope: ${scope}. Status: ${report.status}. Generated ${report.generatedAt}.`,
    sections: [
      {
        heading: 'Key performance indicators',
        level: 2,
        blocks: [
          {
            kind: 'table',
            columns: ['KPI', 'Value', 'Breakdown'],
            rows: report.measures.map((k) => [k.title, formatValue(k), formatBreakdown(k)]),
          },
        ],
      },
      {
        heading: 'How each KPI is computed',
        level: 3,
        blocks: [{ kind: 'list', items: report.measures.map((k) => `${k.title} (${k.id}): ${k.definition}`) }],
      },
      trendSection(report),
      {
        heading: `Exception report: ${report.deviations.length} deviation(s)`,
        level: 2,
        blocks: [
          orNone(
            report.deviations.map((d) => [d.measureId, d.title, d.detail, d.owner ?? 'Security Manager']),
            { columns: ['KPI', 'Deviation', 'Detail', 'Owner'], highlight: true },
            'No deviations.',
          ),
        ],
      },
      // Measures that list records for an after-the-fact check (auto-approved changes, a marked sample).
      ...report.measures
        .filter((k) => k.result.records?.length)
        .map((k) => ({
          heading: `Listed for checking: ${k.title}`,
          level: 2 as const,
          blocks: [
            {
              kind: 'table' as const,
              columns: ['Sampled', 'Record', 'Why'],
              rows: (k.result.records ?? []).map((r) => [r.sampled ? 'yes' : '', r.title, r.detail]),
            },
          ],
        })),
      {
        heading: 'Service owner review',
        level: 2,
        blocks: [
          orNone(
            report.ownerReviews.map((r) => [
              r.serviceName,
              r.owner,
              r.expired ? 'no answer in time' : r.outcome,
              r.comment ?? '',
              r.riskChanges.map((c) => `${c.title} (L${c.likelihood}×I${c.impact})`).join('; '),
            ]),
            { columns: ['Service', 'Owner', 'Answer', 'Comment', 'Proposed risk changes'] },
            'Not reviewed yet.',
          ),
        ],
      },
      {
        heading: `Improvement backlog (${report.improvementActions.length}, highest risk first)`,
        level: 2,
        blocks: [
          orNone(
            report.improvementActions.map((a) => [
              String(a.riskScore ?? missing),
              a.title,
              a.owner,
              a.dueAt?.slice(0, 10) ?? missing,
              a.status,
            ]),
            { columns: ['Risk score', 'Action', 'Owner', 'Due', 'Status'] },
            'No actions planned yet.',
          ),
        ],
      },
      {
        heading: 'Sign-off',
        level: 2,
        blocks: [
          {
            kind: 'list',
            items: [
              ...report.revisions.map((r, i) => `Round ${i + 1}: sent back by ${r.by} at ${r.at}${r.comment ? `: ${r.comment}` : ''}`),
              report.signOff
                ? `Approved by ${report.signOff.by} at ${report.signOff.at}${report.signOff.comment ? `: ${report.signOff.comment}` : ''}`
                : 'Awaiting the Security Manager.',
            ],
          },
        ],
      },
    ],
  };
}
