import { formatValue } from './markdown';
import type { KpiTrendPoint, SecurityReport } from './model';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const reportStyle = `
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1d2430;padding:0 1rem}
h1{border-bottom:3px solid #2f5d8a;padding-bottom:.3rem}h2{color:#2f5d8a;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #c9d3de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef3f8}.muted{color:#66717f}.deviation td{background:#fff4f2}.charts{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0;border:1px solid #c9d3de;padding:.5rem}figcaption{font-weight:600;font-size:13px}
.bar{fill:#2f5d8a}.axis{stroke:#66717f}.label{font-size:11px;fill:#1d2430}
`;

/** A bar chart of one KPI over the quarters, drawn as inline SVG so the page needs no script. */
export function trendChart(title: string, points: { period: string; value: number | null }[]): string {
  const width = 280;
  const height = 150;
  const base = height - 24;
  const max = Math.max(1, ...points.map((p) => p.value ?? 0));
  const slot = (width - 20) / Math.max(1, points.length);
  const bars = points
    .map((p, i) => {
      const x = 10 + i * slot + slot * 0.15;
      const h = p.value === null ? 0 : ((base - 16) * p.value) / max;
      return (
        `<rect class="bar" x="${x.toFixed(1)}" y="${(base - h).toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}"/>` +
        `<text class="label" x="${(x + slot * 0.35).toFixed(1)}" y="${(base - h - 3).toFixed(1)}" text-anchor="middle">${p.value ?? '–'}</text>` +
        `<text class="label" x="${(x + slot * 0.35).toFixed(1)}" y="${height - 8}" text-anchor="middle">${escapeHtml(p.period)}</text>`
      );
    })
    .join('');
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)} by quarter"><line class="axis" x1="5" y1="${base}" x2="${width - 5}" y2="${base}"/>${bars}</svg></figure>`;
}

function charts(report: SecurityReport, trend: KpiTrendPoint[]): string {
  return report.measures
    .filter((k) => trend.some((t) => k.id in t.values))
    .map((k) =>
      trendChart(
        `${k.title} (${k.result.unit})`,
        trend.map((t) => ({ period: t.period, value: t.values[k.id] ?? null })),
      ),
    )
    .join('');
}

const table = (head: string[], rows: string[][], rowClass = '') =>
  `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr class="${rowClass}">${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;

/** The IT Security Report as one self-contained page: inline style, inline SVG, no script. */
export function reportHtml(report: SecurityReport): string {
  const scope = report.scope ? report.scope.map((s) => s.name).join(', ') : 'all services';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>IT Security Report ${escapeHtml(report.period.label)}</title><style>${reportStyle}</style></head><body>
<h1>IT Security Report ${escapeHtml(report.period.label)}</h1>
<p class="muted">Period ${escapeHtml(report.period.from)} to ${escapeHtml(report.period.to)} (end exclusive) · scope: ${escapeHtml(scope)} · status: ${escapeHtml(report.status)} · generated ${escapeHtml(report.generatedAt)}</p>
<h2>Key performance indicators</h2>
${table(
  ['KPI', 'Value', 'Breakdown', 'How it is computed'],
  report.measures.map((k) => [
    k.title,
    formatValue(k),
    (k.result.breakdown ?? []).map((b) => `${b.label}: ${b.value ?? '–'}`).join('; '),
    k.definition,
  ]),
)}
<h2>Trend over the last quarters</h2>
<div class="charts">${charts(report, report.trend)}</div>
<h2>Exception report: ${report.deviations.length} deviation(s)</h2>
${
  report.deviations.length
    ? table(
        ['KPI', 'Deviation', 'Detail', 'Owner'],
        report.deviations.map((d) => [d.measureId, d.title, d.detail, d.owner ?? 'Security Manager']),
        'deviation',
      )
    : '<p>No deviations.</p>'
}
${report.measures
  .filter((k) => k.result.records?.length)
  .map(
    (k) =>
      `<h2>Listed for checking: ${escapeHtml(k.title)}</h2>${table(
        ['Sampled', 'Record', 'Why'],
        (k.result.records ?? []).map((r) => [r.sampled ? 'yes' : '', r.title, r.detail]),
      )}`,
  )
  .join('')}
<h2>Service owner review</h2>
${
  report.ownerReviews.length
    ? table(
        ['Service', 'Owner', 'Answer', 'Comment', 'Proposed risk changes'],
        report.ownerReviews.map((r) => [
          r.serviceName,
          r.owner,
          r.expired ? 'no answer in time' : r.outcome,
          r.comment ?? '',
          r.riskChanges.map((c) => `${c.title} (L${c.likelihood}×I${c.impact})`).join('; '),
        ]),
      )
    : '<p>Not reviewed yet.</p>'
}
<h2>Improvement backlog (highest risk first)</h2>
${
  report.improvementActions.length
    ? table(
        ['Risk score', 'Action', 'Owner', 'Due', 'Status'],
        report.improvementActions.map((a) => [String(a.riskScore ?? '–'), a.title, a.owner, a.dueAt?.slice(0, 10) ?? '–', a.status]),
      )
    : '<p>No actions planned yet.</p>'
}
<h2>Sign-off</h2>
<ul>${report.revisions.map((r, i) => `<li>Round ${i + 1}: sent back by ${escapeHtml(r.by)} at ${escapeHtml(r.at)}${r.comment ? `: ${escapeHtml(r.comment)}` : ''}</li>`).join('')}<li>${report.signOff ? `Approved by ${escapeHtml(report.signOff.by)} at ${escapeHtml(report.signOff.at)}${report.signOff.comment ? `: ${escapeHtml(report.signOff.comment)}` : ''}` : 'Awaiting the Security Manager.'}</li></ul>
</body></html>`;
}
