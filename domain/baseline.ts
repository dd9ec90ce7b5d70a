// The contract of the tailorable baseline: versions of the measure set, their approval by a second
// Security Manager, and the Statement of Applicability drawn from the version in force.
import type { BaselineMeasure } from './classification';
import { annexAControls } from './iso27001';

export const baselineApprovalWorkflowType = 'baselineApproval';
export const makeBaselineApprovalWorkflowId = (version: number) => `baseline/v${version}`;

export interface BaselineApprovalInput {
  version: number;
  proposedBy: string;
  reason: string;
}

export interface BaselineApprovalResult {
  approved: boolean;
}

/** The Security Manager's own word on an Annex A control, overriding what the measures imply. */
export interface ApplicabilityStatement {
  control: string;
  applicable: boolean;
  justification: string;
}

export interface BaselineVersion {
  version: number;
  measures: BaselineMeasure[];
  statements: ApplicabilityStatement[];
}

/** A Warden control as the Statement of Applicability names it, with its latest test. */
export interface ImplementingControl {
  controlId: string;
  name: string;
  iso27001: string[];
  baselineMeasures: string[];
  lastResult: string | null;
  lastTestedAt: string | null;
}

export interface ApplicabilityEntry {
  control: string;
  theme: string;
  title: string;
  applicable: boolean;
  justification: string;
  /** The baseline measures of the version in force that implement the control. */
  measures: string[];
  controls: { controlId: string; name: string; lastResult: string | null; lastTestedAt: string | null }[];
}

export interface StatementOfApplicability {
  standard: 'ISO/IEC 27001:2022 Annex A';
  baselineVersion: number;
  generatedAt: string;
  entries: ApplicabilityEntry[];
}

/**
 * Each of the 93 Annex A controls: applicable when a statement says so, else when a measure of the
 * baseline in force implements it or a Warden control references it; with the justification, the
 * Warden controls implementing it (referencing it, or implementing one of its measures) and their
 * latest test result.
 */
export function statementOfApplicability(
  baseline: BaselineVersion,
  controls: readonly ImplementingControl[],
  generatedAt: string,
): StatementOfApplicability {
  const entries = annexAControls.map((annex): ApplicabilityEntry => {
    const measures = baseline.measures.filter((m) => m.annexA.includes(annex.id)).map((m) => m.id);
    const implementing = controls.filter((c) => c.iso27001.includes(annex.id) || c.baselineMeasures.some((id) => measures.includes(id)));
    const statement = baseline.statements.find((s) => s.control === annex.id);
    const implied = measures.length > 0 || implementing.length > 0;
    const justification =
      statement?.justification ??
      (measures.length
        ? `required by baseline version ${baseline.version}: ${measures.join(', ')}`
        : implementing.length
          ? `implemented by Warden controls: ${implementing.map((c) => c.name).join(', ')}`
          : `no measure of baseline version ${baseline.version} requires it, no Warden control implements it, and no statement was recorded`);
    return {
      control: annex.id,
      theme: annex.theme,
      title: annex.title,
      applicable: statement?.applicable ?? implied,
      justification,
      measures,
      controls: implementing.map((c) => ({ controlId: c.controlId, name: c.name, lastResult: c.lastResult, lastTestedAt: c.lastTestedAt })),
    };
  });
  return { standard: 'ISO/IEC 27001:2022 Annex A', baselineVersion: baseline.version, generatedAt, entries };
}

export const soaColumns = ['Control', 'Title', 'Applicable', 'Justification', 'Baseline measures', 'Warden controls (last test)'];

/** One row per Annex A control, as the CSV and HTML forms print it. */
export function soaRows(soa: StatementOfApplicability): string[][] {
  return soa.entries.map((e) => [
    e.control,
    e.title,
    e.applicable ? 'yes' : 'no',
    e.justification,
    e.measures.join('; '),
    e.controls.map((c) => `${c.name} (${c.lastResult ?? 'never tested'}${c.lastTestedAt ? ` ${c.lastTestedAt}` : ''})`).join('; '),
  ]);
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The Statement of Applicability as one self-contained page: inline style, no script. */
export function soaHtml(soa: StatementOfApplicability): string {
  const applicable = soa.entries.filter((e) => e.applicable).length;
  const rows = soaRows(soa)
    .map(
      (row, i) =>
        `<tr class="${soa.entries[i]?.applicable ? 'yes' : 'no'}">${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Statement of Applicability</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:75rem;color:#1d2430;padding:0 1rem}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #c9d3de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef3f8}tr.no td{color:#66717f}.muted{color:#66717f}
</style></head><body>
<h1>Statement of Applicability</h1>
<p class="muted">${escapeHtml(soa.standard)} · baseline version ${soa.baselineVersion} · ${applicable} of ${soa.entries.length} controls applicable · generated ${escapeHtml(soa.generatedAt)}</p>
<table><thead><tr>${soaColumns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>
${rows}
</tbody></table>
</body></html>`;
}
