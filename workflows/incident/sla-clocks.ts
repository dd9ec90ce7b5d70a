import { condition, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { IncidentActivities } from '../../activities/incidents';
import type { NotificationActivities } from '../../activities/notifications';
import type { IncidentSlaClock } from '../../domain/incident';
import type { SlaTarget } from '../../domain/sla';
import { publishSearchFields } from '../search-attributes';

/** Marks histories whose incidents time their SLA targets, so incidents recorded before replay as they ran. */
export const slaClocksPatch = 'incident-sla-clocks';
/** Marks histories whose WardenSlaDueAt follows the earliest open clock instead of the acknowledge target alone. */
export const slaDueSearchAttributePatch = 'warden-sla-due-from-clocks';

// Clock rows are small PostgreSQL writes: retried until the database is back, like the incident's
// own records (a permanent refusal fails at once: activities/permanent-failures.ts).
const incidents = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});
// The notifier bounds its own deliveries; its row is retried until the database is back.
const { notify } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/**
 * The incident's SLA clocks inside its workflow: one durable timer per open target, due at the
 * instant an activity computed in the services' support hours. A target is met by the step that
 * answers it; one that passes its due time unmet is recorded as breached, with who was responsible
 * then, and escalated to the Security Manager. Re-timing (a new severity at triage) moves the timer
 * of every target still open.
 */
export class SlaClocks {
  private readonly clocks = new Map<SlaTarget, IncidentSlaClock>();
  /** Targets whose breach is being recorded: meeting one waits, so the row never loses the breach. */
  private readonly breaching = new Set<SlaTarget>();
  private writing = 0;
  /** Who answers for the open targets: the responders until someone takes the incident on. */
  private responsible: string;
  /** What WardenSlaDueAt shows now, so an unchanged due time is not upserted again. */
  private publishedDueAt: string | null | undefined;

  /** `publishesDueAt`: WardenSlaDueAt follows the earliest due time of the clocks still open. */
  constructor(
    private readonly incident: { incidentId: string; title: string; severity: string; drill: boolean },
    responders: readonly string[],
    private readonly publishesDueAt = false,
  ) {
    this.responsible = `roles: ${responders.join(', ')}`;
  }

  /** Starts the clocks, or in a continued run resumes them as recorded; watches every open one. */
  async start(): Promise<void> {
    this.writing += 1;
    const clocks = await incidents.startSlaClocks({ incidentId: this.incident.incidentId });
    this.writing -= 1;
    for (const clock of clocks) {
      this.clocks.set(clock.target, clock);
      // A watcher runs in the incident's scope: a merge cancels that scope and with it the watcher's
      // timer. The rejection is the watcher's end, not an error; left unhandled it would fail every
      // workflow task and leave the merge Update unanswered.
      if (isOpen(clock)) void this.watch(clock.target).catch(rethrowUnlessCancelled);
    }
    this.publishDueAt();
  }

  /** From now on `principalId` answers for the targets still open (who acknowledged, who triaged). */
  assign(principalId: string): void {
    this.responsible = principalId;
  }

  /** Stops a target's clock: on time, or late when it was breached already. */
  async meet(target: SlaTarget, actor: string): Promise<void> {
    const clock = this.clocks.get(target);
    if (!clock || clock.metAt !== null) return;
    clock.metAt = new Date().toISOString();
    this.publishDueAt();
    this.writing += 1;
    await condition(() => !this.breaching.has(target));
    await incidents.meetSlaClock({ incidentId: this.incident.incidentId, target, actor });
    this.writing -= 1;
  }

  /** Moves the open targets to the due times of the severity triage settled on, or an alert or merge raised (`cause`). */
  async retime(actor: string, severity: string, cause?: string): Promise<void> {
    this.incident.severity = severity;
    this.writing += 1;
    const clocks = await incidents.retimeSlaClocks({ incidentId: this.incident.incidentId, actor, ...(cause ? { cause } : {}) });
    this.writing -= 1;
    for (const recorded of clocks) {
      const clock = this.clocks.get(recorded.target);
      if (clock && isOpen(clock)) Object.assign(clock, { dueAt: recorded.dueAt, duration: recorded.duration });
    }
    this.publishDueAt();
  }

  /**
   * WardenSlaDueAt is the earliest due time of the targets not met yet, breached ones included (so
   * operators find overdue incidents with `WardenSlaDueAt < now`), as the API's `sla.nextDueAt`;
   * null once every target is met.
   */
  private publishDueAt(): void {
    if (!this.publishesDueAt) return;
    const dueAt =
      [...this.clocks.values()]
        .filter((clock) => clock.metAt === null)
        .map((clock) => clock.dueAt)
        .sort()[0] ?? null;
    if (dueAt === this.publishedDueAt) return;
    this.publishedDueAt = dueAt;
    publishSearchFields({ slaDueAt: dueAt });
  }

  /** What the incident's Query shows: every target, earliest due first. */
  state(): IncidentSlaClock[] {
    return [...this.clocks.values()].map((clock) => ({ ...clock })).sort((a, b) => a.dueAt.localeCompare(b.dueAt));
  }

  /** No clock write in flight: the run may continue as new (the next run resumes from the rows). */
  quiescent(): boolean {
    return this.writing === 0;
  }

  private async watch(target: SlaTarget): Promise<void> {
    for (;;) {
      const clock = this.clocks.get(target);
      if (!clock || !isOpen(clock)) return;
      const dueAt = clock.dueAt;
      const remaining = Date.parse(dueAt) - Date.now();
      // Woken early by the target being met or re-timed; a timeout means the due time passed.
      const settled = remaining > 0 && (await condition(() => clock.metAt !== null || clock.dueAt !== dueAt, remaining));
      if (!settled) return this.breach(clock);
    }
  }

  private async breach(clock: IncidentSlaClock): Promise<void> {
    const { incidentId, title, severity, drill } = this.incident;
    const responsible = this.responsible;
    clock.breachedAt = new Date().toISOString();
    this.breaching.add(clock.target);
    this.writing += 1;
    await incidents.recordSlaBreach({ incidentId, target: clock.target, responsible });
    this.breaching.delete(clock.target);
    await notify({
      dedupKey: `incident:${incidentId}:sla-breach:${clock.target}`,
      recipientRoles: ['security_manager'],
      recipients: [],
      subject: { type: 'incident', id: incidentId },
      title: `${drill ? '[DRILL] ' : ''}SLA breached: ${clock.target} of ${severity} incident "${title}"`,
      body: `The ${clock.target} target (${clock.duration}) was due at ${clock.dueAt} and is not met. Responsible: ${responsible}.`,
      drill,
    });
    this.writing -= 1;
  }
}

const isOpen = (clock: IncidentSlaClock) => clock.metAt === null && clock.breachedAt === null;

/** For work started with `void`: a merge cancelling the incident ends it quietly; anything else still fails the task. */
export function rethrowUnlessCancelled(error: unknown): void {
  if (!isCancellation(error)) throw error;
}
