import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kysely } from 'kysely';
import { linkPendingAudit } from '../../db/audit-linker';
import { json } from '../../db/create-db';
import type { Database } from '../../db/database';
import type { ClassificationLevel } from '../../domain/classification';
import type { ConfigurationItemType } from '../../domain/cmdb';
import { defaultSla, type ServiceSla } from '../../domain/sla';
import { eventually, type Stack } from './stack';

let sequence = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;

/** A service and one CI in it, written straight to the CMDB tables. */
export async function seedCi(
  db: Kysely<Database>,
  options: {
    level?: ClassificationLevel;
    sla?: Partial<ServiceSla>;
    owner?: string;
    type?: ConfigurationItemType;
    name?: string;
    attributes?: Record<string, unknown>;
  } = {},
) {
  const service = await db
    .insertInto('services')
    .values({ name: unique('service'), owner: options.owner ?? 'owner', sla: json({ ...defaultSla, ...options.sla }) })
    .returning('id')
    .executeTakeFirstOrThrow();
  const level = options.level ?? 'high';
  const ci = await db
    .insertInto('configuration_items')
    .values({
      name: options.name ?? unique('ci'),
      type: options.type ?? 'server',
      service_id: service.id,
      owner: options.owner ?? 'owner',
      confidentiality: level,
      integrity: level,
      availability: level,
      attributes: json(options.attributes ?? {}),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { serviceId: service.id, ciId: ci.id };
}

/** Waits until the incident, as `token` reads it, satisfies `until`, then returns it. */
export function incidentWhen(stack: Stack, token: string, id: string, until: (incident: any) => boolean, what: string) {
  return eventually(
    async () => {
      const found = (await stack.request('GET', `/incidents/${id}`, { token })).body;
      return found.id && until(found) && found;
    },
    20_000,
    what,
  );
}

/** Waits until one CI's remediation of an advisory, as `token` reads it on the advisory, satisfies `settled`, then returns it. */
export function remediationWhen(
  stack: Stack,
  token: string,
  key: { advisoryId: string; ciId: string },
  settled: (remediation: Record<string, any>) => boolean,
  what: string,
) {
  return eventually(
    async () => {
      const detail = (await stack.request('GET', `/advisories/${key.advisoryId}`, { token })).body;
      const remediation = detail.remediationDetails?.find((r: { ciId: string }) => r.ciId === key.ciId);
      return remediation && settled(remediation) && remediation;
    },
    20_000,
    what,
  );
}

/** The audit trail of one advisory's remediation on one CI, in order. */
export async function remediationAudit(stack: Stack, key: { advisoryId: string; ciId: string }) {
  // The remediation row the caller polled commits before its event is linked onto the chain.
  await linkPendingAudit(stack.db);
  const events = await stack.db
    .selectFrom('audit_events')
    .select(['action', 'details'])
    .where('subject_id', '=', key.advisoryId)
    .where('action', 'like', 'advisory.remediation_%')
    .orderBy('id')
    .execute();
  return events.filter((event) => (event.details as { ciId?: string }).ciId === key.ciId);
}

/** Waits for the open task of `kind` on a subject, then returns it. */
export function openTask(stack: Stack, token: string, subjectId: string, kind: string) {
  return eventually(
    async () => {
      const response = await stack.request('GET', `/tasks?status=open&subjectId=${subjectId}`, { token });
      return response.body.items?.find((task: { kind: string }) => task.kind === kind);
    },
    45_000,
    `an open ${kind} task on ${subjectId}`,
  );
}

export async function decide(
  stack: Stack,
  token: string,
  taskId: string,
  outcome: string,
  extra: { comment?: string; data?: Record<string, unknown> } = {},
) {
  return stack.request('POST', `/tasks/${taskId}/decision`, { token, body: { outcome, ...extra } });
}

/**
 * Marks an incident's playbook steps done, in order: each waits for the open step task whose title
 * starts with the given words, and must be accepted.
 */
export async function completeIncidentSteps(stack: Stack, token: string, incidentId: string, stepTitles: string[]) {
  for (const stepTitle of stepTitles) {
    const step = await eventually(
      async () => {
        const open = (await stack.request('GET', `/tasks?status=open&subjectId=${incidentId}`, { token })).body.items;
        return open.find((task: { kind: string; title: string }) => task.kind === 'incident.step' && task.title.startsWith(stepTitle));
      },
      20_000,
      `step ${stepTitle}`,
    );
    const decision = await decide(stack, token, step.id, 'done');
    if (decision.status !== 200) throw new Error(`step ${stepTitle}: decision answered ${decision.status}`);
  }
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered with. */
  status?: number;
}

/**
 * A loopback HTTP receiver (responder, webhook, callback target) that records what arrives. `status`
 * may be a function of the request's index (0 for the first), to fail chosen attempts.
 */
export async function startReceiver(status: number | ((index: number, request: ReceivedRequest) => number) = 200) {
  const received: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const entry = { path: request.url ?? '', headers: request.headers, body };
      const code = typeof status === 'number' ? status : status(received.length, entry);
      received.push({ ...entry, status: code });
      response.writeHead(code, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
