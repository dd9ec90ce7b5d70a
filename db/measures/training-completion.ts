import { trainingCompletionKpi } from '../training';
import { percent, type Measure } from './measure';

/** The exception report names this many overdue people per campaign, then counts the rest. */
const namedPerCampaign = 50;

export const trainingCompletion: Measure = {
  id: 'training-completion',
  title: 'Security training completion rate',
  definition:
    'Of the people assigned a training campaign whose due date falls in the period (and has passed), the share who completed it by the end of the period, however it was recorded (API, CSV import or LMS); a completion after the due date counts as completed, one after the period does not. Each campaign with people still outstanding is a deviation naming them (the overdue list), owned by the Security Manager. Computed by trainingCompletionKpi in db/training.ts. Not scoped to services.',
  trend: true,
  async compute(db, period) {
    const kpi = await trainingCompletionKpi(db, period);
    const byCampaign = new Map<string, { title: string; people: string[] }>();
    for (const row of kpi.overdue) {
      const campaign = byCampaign.get(row.campaign_id) ?? { title: row.title, people: [] };
      const escalatedTo = row.escalated_to ?? row.manager;
      campaign.people.push(escalatedTo ? `${row.principal_id} (escalated to ${escalatedTo})` : row.principal_id);
      byCampaign.set(row.campaign_id, campaign);
    }
    return {
      status: 'measured',
      value: percent(kpi.completed, kpi.assigned),
      unit: '%',
      breakdown: [
        { label: 'assigned', value: kpi.assigned },
        { label: 'completed', value: kpi.completed },
        { label: 'overdue', value: kpi.overdue.length },
      ],
      misses: [...byCampaign].map(([campaignId, campaign]) => ({
        key: `training-completion:${campaignId}`,
        title: `Training "${campaign.title}" not completed by ${campaign.people.length} person(s)`,
        detail: `overdue: ${campaign.people.slice(0, namedPerCampaign).join(', ')}${campaign.people.length > namedPerCampaign ? ` and ${campaign.people.length - namedPerCampaign} more` : ''}`,
        owner: null,
        serviceId: null,
        likelihood: 3,
        impact: 2,
        level: 'medium' as const,
      })),
    };
  },
};
