import { containmentConfirmationKind } from '../domain/incident';
import type { Role } from '../domain/roles';

/**
 * Moving incidents forward as people would, for the runs that drive whole playbooks (npm run chaos,
 * the playbook and decision benchmarks): who may decide, which outcome moves a task on, and the data
 * a task kind needs for it.
 */
export const drivingPrincipals: readonly { id: string; roles: Role[] }[] = [
  { id: 'driver-reporter', roles: ['reporter'] },
  { id: 'driver-ana', roles: ['security_analyst'] },
  { id: 'driver-bob', roles: ['security_analyst'] },
  { id: 'driver-max', roles: ['security_manager'] },
  // Recovery steps fall to the owner of the affected CI.
  { id: 'driver-owner', roles: ['service_owner'] },
];
/** The principal who reports the driven incidents. */
export const drivingReporter = 'driver-reporter';
/** A security analyst: acknowledges incidents. */
export const drivingAnalyst = 'driver-ana';
/** The principal who owns the CI the driven incidents affect. */
export const drivingOwner = 'driver-owner';
/** A principal who may read every incident and task. */
export const drivingManager = 'driver-max';

// The outcome that moves an incident forward, for each task kind's choices.
const forward = ['acknowledged', 'triaged', 'approved', 'completed', 'done', 'resolved', 'accepted', 'confirmed'];
// The data a task kind declares it needs to move forward (domain/task-forms.ts); other kinds need none.
// A containment no responder carried out is confirmed by a person with evidence.
const forwardData: Record<string, Record<string, unknown>> = {
  [containmentConfirmationKind]: { evidence: 'carried out by hand and verified in the access log', links: [] },
};

export interface OpenTask {
  id: string;
  kind: string;
  allowedRoles: string[];
  allowedOutcomes: string[];
  requester: string | null;
  decisions: { principalId: string }[];
}

/** One API call as `principalId`; answers its status and parsed body. */
export type CallAs = (
  method: string,
  route: string,
  principalId: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{ status: number; body: any }>;

/**
 * Decides `task` with the outcome that moves it forward, as each principal allowed to in turn until
 * it is decided (four eyes need two). An answer other than accepted, refused (403: the next one) or
 * gone (404, 409: someone else decided) goes to `unexpected`. Answers how many decisions were accepted.
 */
export async function decideForward(
  task: OpenTask,
  call: CallAs,
  options: { comment: string; unexpected: (problem: string) => void },
): Promise<number> {
  const outcome = forward.find((o) => task.allowedOutcomes.includes(o)) ?? task.allowedOutcomes[0];
  const candidates = drivingPrincipals.filter(
    (p) =>
      p.roles.some((role) => task.allowedRoles.includes(role)) &&
      p.id !== task.requester &&
      !task.decisions.some((d) => d.principalId === p.id),
  );
  let accepted = 0;
  for (const candidate of candidates) {
    const decided = await call('POST', `/tasks/${task.id}/decision`, candidate.id, {
      outcome,
      comment: options.comment,
      ...(Object.hasOwn(forwardData, task.kind) ? { data: forwardData[task.kind] } : {}),
    });
    if (decided.status === 200) {
      accepted += 1;
      if (decided.body?.status === 'decided') return accepted;
    } else if (decided.status === 409 || decided.status === 404) return accepted;
    else if (decided.status !== 403)
      options.unexpected(`deciding ${task.id} as ${candidate.id}: ${decided.status} ${JSON.stringify(decided.body)}`);
    // 403 (this person may not, e.g. four eyes): the next candidate.
  }
  return accepted;
}

/** Reports a malware incident on `ciId` as the driving reporter; answers its id. */
export async function reportIncident(call: CallAs, ciId: string, title: string): Promise<string> {
  const created = await call('POST', '/incidents', drivingReporter, {
    title,
    description: 'raised by a benchmark',
    category: 'malware',
    affectedCis: [ciId],
    source: 'bench',
  });
  if (created.status !== 202) throw new Error(`POST /incidents answered ${created.status}: ${JSON.stringify(created.body)}`);
  return created.body.id as string;
}

/**
 * Decides the incident's open tasks forward until it is closed, or until `stopped()` (then answers
 * false). The incident's status is read only when no task is open, and between looks it waits a
 * beat for the workflow to open the next task: polling for state, with as few requests as that
 * takes, since the driver's requests load the same process as the playbooks it measures. `think`
 * is the person's time over each task before they decide it (none: decided as soon as it is seen).
 */
export async function driveToClosed(
  call: CallAs,
  incidentId: string,
  stopped: () => boolean = () => false,
  think: () => Promise<void> = async () => {},
): Promise<boolean> {
  const fail = (problem: string) => {
    throw new Error(problem);
  };
  while (!stopped()) {
    const tasks = await call('GET', `/tasks?status=open&subjectId=${incidentId}`, drivingManager);
    const open: OpenTask[] = tasks.body?.items ?? [];
    for (const task of open) {
      await think();
      if (stopped()) return false;
      await decideForward(task, call, { comment: 'bench', unexpected: fail });
    }
    if (open.length > 0) continue;
    const incident = await call('GET', `/incidents/${incidentId}`, drivingManager);
    if (incident.status === 200 && String(incident.body.status).startsWith('closed')) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
