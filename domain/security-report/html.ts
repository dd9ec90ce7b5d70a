import { type ReportBlock, reportDocument } from './document';
import type { SecurityReport } from './model';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const reportStyle = `
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1d2430;padding:0 1rem}
h1{border-bottom:3px solid #2f5d8a;padding-bottom:.3rem}h2,h3{color:#2f5d8a;margin-top:2rem}
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

const table = (columns: string[], rows: string[][], highlight = false) =>
  `<table><thead><tr>${columns.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr${highlight ? ' class="deviation"' : ''}>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;

function block(b: ReportBlock): string {
  switch (b.kind) {
    case 'text':
      return `<p>${escapeHtml(b.text)}</p>`;
    case 'list':
      return `<ul>${b.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`;
    case 'table':
      return table(b.columns, b.rows, b.highlight);
    case 'charts':
      return `<div class="charts">${b.charts.map((c) => trendChart(c.title, c.points)).join('')}</div>`;
  }
}

/** The IT Security Report as one self-contained page: inline style, inline SVG, no script. */
export function reportHtml(report: SecurityReport): string {
  const document = reportDocument(report);
  const sections = document.sections
    .map((s) => `<h${s.level}>${escapeHtml(s.heading)}</h${s.level}>\n${s.blocks.map(block).join('\n')}`)
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(document.title)}</title><style>${reportStyle}</style></head><body>
<h1>${escapeHtml(document.title)}</h1>
<p class="muted">${escapeHtml(document.subtitle)}</p>
${sections}
</body></html>`;
}
