import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { json } from '../db/create-db';
import type { Database } from '../db/database';

/**
 * Writes `incidents` incidents on `ciId` straight into the database, a third of them closed, and an
 * open task on each of the newest `openTasks`, for the benchmarks of pages and lists that read
 * PostgreSQL only (no workflows stand behind these rows).
 */
export async function seedIncidentsWithTasks(db: Kysely<Database>, ciId: string, counts: { incidents: number; openTasks: number }) {
  const now = Date.now();
  const incidentRows = Array.from({ length: counts.incidents }, (_, i) => {
    const id = randomUUID();
    return {
      id,
      workflow_id: `incident/${id}`,
      title: `Suspicious sign-in ${i}`,
      description: 'seeded for the benchmark',
      category: 'unauthorised_access',
      severity: ['low', 'medium', 'high', 'critical'][i % 4] as string,
      security_incident: true,
      classification_reason: 'seeded',
      status: i % 3 ? 'triaged' : 'closed',
      affected_cis: [ciId],
      source: 'bench',
      drill: false,
      reported_by: 'rita',
      playbook_category: 'unauthorised_access',
      playbook_version: 1,
      links: json([]),
      acknowledge_target: '15m',
      resolve_target: '4h',
      reported_at: new Date(now - i * 60_000),
    };
  });
  for (let i = 0; i < incidentRows.length; i += 500)
    await db
      .insertInto('incidents')
      .values(incidentRows.slice(i, i + 500))
      .execute();
  const tasks = incidentRows.slice(0, counts.openTasks).map((incident, i) => ({
    id: randomUUID(),
    workflow_id: incident.workflow_id,
    kind: i % 2 ? 'incident.triage' : 'incident.acknowledge',
    subject_type: 'incident',
    subject_id: incident.id,
    title: `Task ${i} of ${incident.title}`,
    details: json(i % 2 ? { category: 'unauthorised_access', affectedCis: [ciId] } : {}),
    allowed_roles: ['security_analyst'],
    assignees: [],
    allowed_outcomes: i % 2 ? ['triaged'] : ['acknowledged'],
    requester: null,
    forbid_self_decision: false,
    approvals_required: 1,
    approve_outcome: null,
    status: 'open' as const,
    deadline_at: new Date(now + (i - 20) * 60_000),
    decisions: json([]),
  }));
  for (let i = 0; i < tasks.length; i += 500)
    await db
      .insertInto('human_tasks')
      .values(tasks.slice(i, i + 500))
      .execute();
}
