import { loadAssets } from './assets';
import { day, type Measure } from './measure';

const closed = ['done', 'cancelled'];

export const improvementActions: Measure = {
  id: 'improvement-actions',
  title: 'Open and overdue improvement actions',
  definition:
    'Count of improvement actions created before the end of the period and not done or cancelled (in scope: raised for a scoped service); overdue = due_at before the end of the period (or now), each overdue one listed.',
  trend: true,
  async compute(db, period, scope) {
    const assets = await loadAssets(db, scope);
    const open = (
      await db
        .selectFrom('improvement_actions')
        .selectAll()
        .where('status', 'not in', closed)
        .where('created_at', '<', period.to)
        .orderBy('created_at')
        .orderBy('id')
        .execute()
    ).filter((action) => assets.inScope(action.service_id));
    const overdue = open.filter((action) => action.due_at !== null && action.due_at < period.asOf);
    return {
      status: 'measured',
      value: open.length,
      unit: 'actions',
      breakdown: [
        { label: 'open', value: open.length },
        { label: 'overdue', value: overdue.length },
      ],
      misses: overdue.map((action) => {
        const service = action.service_id ? assets.services.get(action.service_id) : undefined;
        return {
          key: `improvement-actions:${action.id}`,
          title: `Overdue improvement action "${action.title}"`,
          detail: `due ${day(action.due_at as Date)}, owner ${action.owner}, status ${action.status}${action.progress ? `: ${action.progress}` : ''}`,
          owner: action.owner,
          serviceId: action.service_id,
          likelihood: 3,
          impact: 3,
          level: service?.level ?? 'medium',
        };
      }),
    };
  },
};
