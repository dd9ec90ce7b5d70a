import { type ReportBlock, reportDocument } from './document';
import type { SecurityReport } from './model';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;

function block(b: ReportBlock): string[] {
  switch (b.kind) {
    case 'text':
      return [b.text];
    case 'list':
      return b.items.map((item) => `- ${item.replace(/\n/g, ' ')}`);
    case 'table':
      return [row(b.columns), `|${b.columns.map(() => '---').join('|')}|`, ...b.rows.map(row)];
    case 'charts':
      return [];
  }
}

/** The IT Security Report as Markdown: for a wiki, an e-mail, or the audit file. */
export function reportMarkdown(report: SecurityReport): string {
  const document = reportDocument(report);
  const lines = [`# ${document.title}`, '', document.subtitle, ''];
  for (const section of document.sections) {
    lines.push(`${'#'.repeat(section.level)} ${section.heading}`, '');
    for (const b of section.blocks) {
      const drawn = block(b);
      if (drawn.length) lines.push(...drawn, '');
    }
  }
  return lines.join('\n');
}
