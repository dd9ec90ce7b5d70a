import type { MeasuredKpi, SecurityReport } from './model';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function formatValue(kpi: MeasuredKpi): string {
  if (kpi.result.status === 'not_measured') return kpi.result.note ?? 'not measured';
  return kpi.result.value === null ? 'no data' : `${kpi.result.value} ${kpi.result.unit}`;
}

/** The IT Security Report as Markdown: for a wiki, an e-mail, or the audit file. */
export function reportMarkdown(report: SecurityReport): string {
  const lines: string[] = [
    `# IT Security Report ${report.period.label}`,
    '',
    `Period ${report.period.from} to ${report.period.to} (end exclusive). Scope: ${report.scope ? report.scope.map((s) => s.name).join(', ') : 'all services'}. Status: ${report.status}.`,
    '',
    '## Key performance indicators',
    '',
    '| KPI | Value | Breakdown |',
    '|---|---|---|',
    ...report.measures.map(
      (k) =>
        `| ${cell(k.title)} | ${cell(formatValue(k))} | ${cell((k.result.breakdown ?? []).map((b) => `${b.label}: ${b.value ?? '–'}${b.count !== undefined ? ` (n=${b.count})` : ''}`).join('; '))} |`,
    ),
    '',
    '### How each KPI is computed',
    '',
    ...report.measures.map((k) => `- **${k.title}** (\`${k.id}\`): ${k.definition}`),
    '',
    '### Trend over the last quarters',
    '',
    `| Quarter | ${report.measures
      .filter((k) => report.trend.some((t) => k.id in t.values))
      .map((k) => cell(k.title))
      .join(' | ')} |`,
    `|---|${report.measures
      .filter((k) => report.trend.some((t) => k.id in t.values))
      .map(() => '---')
      .join('|')}|`,
    ...report.trend.map(
      (t) =>
        `| ${t.period} | ${Object.values(t.values)
          .map((v) => v ?? '–')
          .join(' | ')} |`,
    ),
    '',
    `## Exception report: ${report.deviations.length} deviation(s)`,
    '',
    ...(report.deviations.length
      ? [
          '| KPI | Deviation | Detail | Owner |',
          '|---|---|---|---|',
          ...report.deviations.map((d) => `| ${d.measureId} | ${cell(d.title)} | ${cell(d.detail)} | ${d.owner ?? 'Security Manager'} |`),
        ]
      : ['No deviations.']),
    '',
    ...report.measures
      .filter((k) => k.result.records?.length)
      .flatMap((k) => [
        `## Listed for checking: ${k.title}`,
        '',
        '| Sampled | Record | Why |',
        '|---|---|---|',
        ...(k.result.records ?? []).map((r) => `| ${r.sampled ? 'yes' : ''} | ${cell(r.title)} | ${cell(r.detail)} |`),
        '',
      ]),
    '## Service owner review',
    '',
    ...(report.ownerReviews.length
      ? report.ownerReviews.map(
          (r) =>
            `- ${r.serviceName} (${r.owner}): ${r.expired ? 'no answer in time' : r.outcome}${r.comment ? ` — ${r.comment}` : ''}${r.riskChanges.length ? `; proposed: ${r.riskChanges.map((c) => `${c.title} (L${c.likelihood}×I${c.impact})`).join(', ')}` : ''}`,
        )
      : ['Not reviewed yet.']),
    '',
    `## Improvement backlog (${report.improvementActions.length}, highest risk first)`,
    '',
    ...(report.improvementActions.length
      ? [
          '| Risk score | Action | Owner | Due | Status |',
          '|---|---|---|---|---|',
          ...report.improvementActions.map(
            (a) => `| ${a.riskScore ?? '–'} | ${cell(a.title)} | ${a.owner} | ${a.dueAt?.slice(0, 10) ?? '–'} | ${a.status} |`,
          ),
        ]
      : ['No actions planned yet.']),
    '',
    '## Sign-off',
    '',
    ...report.revisions.map((r, i) => `- Round ${i + 1}: sent back by ${r.by} at ${r.at}${r.comment ? `: ${r.comment}` : ''}`),
    report.signOff
      ? `- Approved by ${report.signOff.by} at ${report.signOff.at}${report.signOff.comment ? `: ${report.signOff.comment}` : ''}`
      : '- Awaiting the Security Manager.',
    '',
  ];
  return lines.join('\n');
}
