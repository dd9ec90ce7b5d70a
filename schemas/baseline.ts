import { z } from 'zod';
import { classificationLevels, securityAspects } from '../domain/classification';
import { baselineMeasureId, iso27001Id } from './controls';

export const baselineMeasure = z.strictObject({
  id: baselineMeasureId,
  title: z.string().trim().min(1).max(200),
  aspect: z.enum(securityAspects),
  from: z.enum(classificationLevels).describe('the lowest level of the aspect at which the measure is required'),
  annexA: z.array(iso27001Id).max(20).default([]).describe('the ISO/IEC 27001:2022 Annex A controls it implements'),
});

const applicabilityStatement = z.strictObject({
  control: iso27001Id,
  applicable: z.boolean(),
  justification: z.string().trim().min(1).max(2000),
});

/** Each id once: a measure or a statement given twice would make the version ambiguous. */
function uniqueBy<T>(items: T[], key: (item: T) => string, context: z.RefinementCtx, field: string) {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const value = key(item);
    if (seen.has(value)) context.addIssue({ code: 'custom', path: [field, index], message: `${value} is listed twice` });
    seen.add(value);
  });
}

export const baselineProposal = z
  .strictObject({
    measures: z.array(baselineMeasure).min(1).max(500).describe('the whole measure set of the new version'),
    statements: z
      .array(applicabilityStatement)
      .max(93)
      .default([])
      .describe('Annex A controls declared applicable or not regardless of the measures, with the justification'),
    reason: z.string().trim().min(1).max(2000),
  })
  .superRefine((body, context) => {
    uniqueBy(body.measures, (m) => m.id, context, 'measures');
    uniqueBy(body.statements, (s) => s.control, context, 'statements');
  })
  .meta({
    examples: [
      {
        reason: 'Phishing-resistant MFA for high-confidentiality systems',
        measures: [
          { id: 'BL-C1', title: 'Authenticated access only', aspect: 'confidentiality', from: 'low', annexA: ['A.5.15', 'A.8.5'] },
          { id: 'BL-C6', title: 'Phishing-resistant MFA', aspect: 'confidentiality', from: 'high', annexA: ['A.8.5'] },
        ],
        statements: [{ control: 'A.7.4', applicable: false, justification: 'no premises of our own: hosted in a certified data centre' }],
      },
    ],
  });

export const baselineVersionView = z
  .object({
    version: z.number(),
    status: z
      .enum(['pending_approval', 'approved', 'rejected', 'failed'])
      .describe('failed: the approval met a permanent failure; propose again'),
    measures: z.array(baselineMeasure),
    statements: z.array(applicabilityStatement),
    reason: z.string(),
    workflowId: z.string().nullable(),
    proposedBy: z.string(),
    proposedAt: z.string(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    comment: z.string().nullable(),
  })
  .meta({ id: 'BaselineVersion' });

export const baselineProposed = z.object({ version: z.number(), workflowId: z.string(), status: z.literal('pending_approval') });
export const baselineVersionParams = z.strictObject({ version: z.coerce.number().int().min(1).max(1_000_000) });

export const soaQuery = z.strictObject({
  format: z.enum(['json', 'csv', 'html']).optional().describe('else chosen by Accept: text/csv, text/html, or JSON'),
});

export const statementOfApplicability = z
  .object({
    standard: z.string(),
    baselineVersion: z.number(),
    generatedAt: z.string(),
    entries: z.array(
      z.object({
        control: z.string(),
        theme: z.string(),
        title: z.string(),
        applicable: z.boolean(),
        justification: z.string(),
        measures: z.array(z.string()),
        controls: z.array(
          z.object({ controlId: z.string(), name: z.string(), lastResult: z.string().nullable(), lastTestedAt: z.string().nullable() }),
        ),
      }),
    ),
  })
  .meta({ id: 'StatementOfApplicability' });
