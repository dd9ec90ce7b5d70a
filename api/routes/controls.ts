import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { outboundAllowlist } from '../../config';
import { auditedTransaction } from '../../db/audit';
import { findConfigurationItem } from '../../db/cis';
import { mayChangeRecord } from '../../domain/cmdb';
import type { Actor } from '../../domain/roles';
import {
  allActiveControls,
  ciOwners,
  findControl,
  importControls,
  insertControl,
  listControls,
  referenceProblems,
  retireControl,
  updateControl,
  type ControlFields,
  type FieldProblem,
} from '../../db/controls';
import type { Control } from '../../db/database';
import { pageOf } from '../../db/pagination';
import { controlsToCsv, csvToRows, validateControlRows } from '../../schemas/control-file';
import { controlInput, controlListQuery, controlPage, controlPatch, controlView, exportQuery, importResult } from '../../schemas/controls';
import { responses, uuidParam } from '../../schemas/common';
import type { CheckType } from '../../domain/security-checks';
import { addressRefusal, checkTargetRefusal, checkTargets, parseIp, recordedTargets } from '../../domain/outbound';
import { deleteTestSchedule } from '../../temporal/security-test-schedule';
import { assertMayWriteControl } from '../control-access';
import { pageRequest } from '../../http/paging';
import { conflict, invalid, notFound } from '../../http/problem';
import { controlWriters, everyone, securityManagement } from '../../http/roles';

/** The control as a catalog file holds it: the POST /controls body, no ids or schedule. */
function toPortableControl(control: Control) {
  const { procedure } = control;
  return {
    name: control.name,
    description: control.description,
    owner: control.owner,
    kind: control.kind,
    process: control.process,
    ciIds: control.ci_ids,
    references: { iso27001: control.iso27001, mitreAttack: control.mitre_attack },
    baselineMeasures: control.baseline_measures,
    slaRequirements: control.sla_requirements,
    incidentCategory: control.incident_category,
    procedure: procedure.type === 'automated' ? { ...procedure, check: procedure.check as CheckType } : procedure,
  };
}

function toControlView(control: Control) {
  return {
    id: control.id,
    ...toPortableControl(control),
    procedure: control.procedure,
    schedule: control.schedule
      ? {
          ...control.schedule,
          paused: control.schedule_paused,
          cadenceMs: control.cadence_ms,
          scheduledSince: control.scheduled_since?.toISOString() ?? null,
        }
      : null,
    status: control.status,
    createdAt: control.created_at.toISOString(),
    updatedAt: control.updated_at.toISOString(),
  };
}

const uniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

/** The database's unique name index is the final word when two writers race for a name. */
async function uniqueName<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (uniqueViolation(error)) {
      throw conflict(
        name
          ? `an active control named ${JSON.stringify(name)} exists already`
          : 'a name in the file was taken by a control created meanwhile; import again',
      );
    }
    throw error;
  }
}

const importBody = z
  .union([z.array(z.unknown()), z.string()])
  .describe(
    'application/json: an array of controls (the POST /controls body, as GET /controls/export?format=json writes it); text/csv: the columns of GET /controls/export?format=csv',
  );

export async function controlRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  // CSV arrives as text; its rows are validated one by one so every bad row can be named.
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const readControl = async (id: string) => {
    const control = await findControl(app.db, id);
    if (!control) throw notFound('control', id);
    return control;
  };
  const allowlist = outboundAllowlist(app.config);
  /**
   * A check aims only at hosts and addresses its control's CIs record, or that WARDEN_OUTBOUND_ALLOW
   * admits; loopback, link-local and metadata addresses need the allowlist. The worker checks again
   * when the check runs, and once more on the address it connects to.
   */
  const targetProblems = async (procedure: ControlFields['procedure'], ciIds: string[], path: string): Promise<FieldProblem[]> => {
    if (procedure.type !== 'automated') return [];
    const cis = await Promise.all(ciIds.map((id) => findConfigurationItem(app.db, id)));
    const recorded = recordedTargets(
      cis.filter((ci) => ci !== undefined && ci.status === 'active') as { name: string; attributes: Record<string, unknown> }[],
    );
    return checkTargets(procedure.check, procedure.params).flatMap(({ field, host, recorded: mustBeRecorded }) => {
      const address = parseIp(host);
      const refusal = mustBeRecorded
        ? checkTargetRefusal(host, recorded, allowlist)
        : address && addressRefusal(address, host, allowlist, 'check');
      return refusal ? [{ path: `${path}.params.${field}`, message: refusal }] : [];
    });
  };
  /**
   * A control's CIs are whose checks it runs against and whose hosts it may reach: a service owner
   * links only CIs of their own (as for any CMDB record), so nobody aims a check at another's hosts.
   */
  const linkProblems = async (actor: Actor, ciIds: readonly string[] | undefined, prefix: string): Promise<FieldProblem[]> => {
    if (!ciIds?.length) return [];
    const owners = await ciOwners(app.db, [...ciIds]);
    return ciIds.flatMap((id, index) => {
      const ciOwnersOf = owners.get(id);
      return ciOwnersOf && !mayChangeRecord(actor, ciOwnersOf)
        ? [{ path: `${prefix}ciIds.${index}`, message: 'a service owner may link only configuration items of their own' }]
        : [];
    });
  };
  const checkReferences = async (actor: Actor, fields: Partial<ControlFields>, current?: Control) => {
    const problems = [...(await referenceProblems(app.db, fields, 'body.')), ...(await linkProblems(actor, fields.ciIds, 'body.'))];
    if (problems.length) throw invalid(problems);
    // Only a change of target or CIs is judged, so a control written before these rules can still be renamed.
    if (!fields.procedure && !fields.ciIds) return;
    const procedure = fields.procedure ?? current?.procedure;
    if (!procedure) return;
    const targets = await targetProblems(procedure, fields.ciIds ?? current?.ci_ids ?? [], 'body.procedure');
    // A change of CIs alone can orphan the stored target: name the field that changed.
    if (targets.length) throw invalid(fields.procedure ? targets : targets.map((problem) => ({ ...problem, path: 'body.ciIds' })));
  };

  routes.post('/controls', {
    config: { roles: controlWriters },
    schema: {
      tags: ['controls'],
      operationId: 'createControl',
      summary: 'Add a security control',
      description: 'Add a security control to the catalog',
      body: controlInput,
      response: responses({ 201: controlView }),
    },
    handler: async (request, reply) => {
      assertMayWriteControl(request.actor, request.body.owner);
      await checkReferences(request.actor, request.body);
      const control = await uniqueName(request.body.name, () =>
        auditedTransaction(app.db, (trx) => insertControl(trx, request.body, request.actor.principalId)),
      );
      return reply.code(201).send(toControlView(control));
    },
  });

  routes.get('/controls', {
    config: { roles: everyone },
    schema: {
      tags: ['controls'],
      operationId: 'listControls',
      summary: 'List the controls catalog',
      description: 'The controls catalog',
      querystring: controlListQuery,
      response: responses({ 200: controlPage }),
    },
    handler: async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const { items, nextCursor } = pageOf(await listControls(app.db, filter, pageRequest({ limit, cursor })), limit);
      return { items: items.map(toControlView), nextCursor };
    },
  });

  routes.get('/controls/export', {
    config: { roles: everyone },
    schema: {
      tags: ['controls'],
      operationId: 'exportControls',
      summary: 'Export the controls catalog',
      description: 'Export the active catalog as JSON (an array POST /controls/import takes back) or CSV',
      querystring: exportQuery,
      response: responses({
        200: {
          description: 'The catalog: a JSON array (format=json), or CSV with formula-like cells escaped (format=csv)',
          content: { 'application/json': { schema: z.array(z.record(z.string(), z.unknown())) }, 'text/csv': { schema: z.string() } },
        },
      }),
    },
    handler: async (request, reply) => {
      const controls = (await allActiveControls(app.db)).map(toPortableControl);
      if (request.query.format === 'json') return controls;
      return reply
        .header('content-disposition', 'attachment; filename="controls.csv"')
        .type('text/csv; charset=utf-8')
        .send(controlsToCsv(controls));
    },
  });

  routes.post('/controls/import', {
    config: { roles: securityManagement },
    schema: {
      tags: ['controls'],
      operationId: 'importControls',
      summary: 'Import a controls catalog',
      description:
        'Import a catalog file, all or nothing: a row named like an active control replaces it, others are added; one bad row rejects the file, naming every bad row',
      body: importBody,
      response: responses({ 200: importResult }),
    },
    handler: async (request) => {
      const source = typeof request.body === 'string' ? csvToRows(request.body) : { ok: true as const, rows: request.body, problems: [] };
      if (!source.ok) throw invalid(source.problems);
      const parsed = validateControlRows(source.rows, source.problems);
      if (!parsed.ok) throw invalid(parsed.problems);
      const problems = (
        await Promise.all(
          parsed.controls.map(async (fields, index) => [
            ...(await referenceProblems(app.db, fields, `rows.${index + 1}.`)),
            ...(await linkProblems(request.actor, fields.ciIds, `rows.${index + 1}.`)),
            ...(await targetProblems(fields.procedure, fields.ciIds ?? [], `rows.${index + 1}.procedure`)),
          ]),
        )
      ).flat();
      if (problems.length) throw invalid(problems);
      const imported = await uniqueName(undefined, () => importControls(app.db, parsed.controls, request.actor.principalId));
      return { created: imported.filter((c) => c.created).length, updated: imported.filter((c) => !c.created).length, controls: imported };
    },
  });

  routes.get('/controls/:id', {
    config: { roles: everyone },
    schema: {
      tags: ['controls'],
      operationId: 'getControl',
      summary: 'Read a control',
      description: 'One control',
      params: uuidParam,
      response: responses({ 200: controlView }),
    },
    handler: async (request) => toControlView(await readControl(request.params.id)),
  });

  routes.patch('/controls/:id', {
    config: { roles: controlWriters },
    schema: {
      tags: ['controls'],
      operationId: 'updateControl',
      summary: 'Change a control',
      description: 'Change a control',
      params: uuidParam,
      body: controlPatch,
      response: responses({ 200: controlView }),
    },
    handler: async (request) => {
      const existing = await readControl(request.params.id);
      assertMayWriteControl(request.actor, existing.owner, request.body.owner);
      await checkReferences(request.actor, request.body, existing);
      const control = await uniqueName(request.body.name, () =>
        auditedTransaction(app.db, (trx) => updateControl(trx, existing.id, request.body, request.actor.principalId)),
      );
      if (!control) throw conflict('the control is retired');
      return toControlView(control);
    },
  });

  routes.delete('/controls/:id', {
    config: { roles: controlWriters },
    schema: {
      tags: ['controls'],
      operationId: 'retireControl',
      summary: 'Retire a control',
      description: 'Retire a control: its Schedule is deleted, its test reports stay',
      params: uuidParam,
      response: responses({ 204: z.null() }),
    },
    handler: async (request, reply) => {
      const existing = await readControl(request.params.id);
      assertMayWriteControl(request.actor, existing.owner);
      if (existing.status === 'retired') throw conflict('the control is retired already');
      await deleteTestSchedule(app.temporal.client, existing.id);
      await retireControl(app.db, existing.id, request.actor.principalId);
      return reply.code(204).send(null);
    },
  });
}
