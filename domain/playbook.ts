import { type DurationText, withinLongest } from './duration';
import type { Role } from './roles';

/** The phases of the ITIL incident procedure a playbook step belongs to. */
export const playbookPhases = ['containment', 'eradication', 'recovery'] as const;
export type PlaybookPhase = (typeof playbookPhases)[number];

/** Automated responders a playbook may name; each runs through the `runContainmentAction` activity. */
export const containmentActions = [
  'isolate-account',
  'disable-account',
  'revoke-sessions',
  'isolate-host',
  'block-ip',
  'quarantine-file',
] as const;
export type ContainmentAction = (typeof containmentActions)[number];

export type PlaybookAction =
  | { kind: 'notify'; roles: Role[]; message: string }
  | { kind: 'webhook'; url: string }
  | { kind: 'containment'; name: ContainmentAction; params?: Record<string, string> };

interface StepBase {
  id: string;
  title: string;
  phase: PlaybookPhase;
  instructions?: string;
}

/** A step people decide: those holding one of its roles, and with `ownersTakePart` the affected CIs' owners. */
interface DecidedStep {
  roles: Role[];
  /** The owners of the incident's affected CIs (after triage) are assignees of the step's task. */
  ownersTakePart?: boolean;
  deadline?: DurationText;
}

export type PlaybookStep =
  | (StepBase & DecidedStep & { type: 'task' })
  | (StepBase & DecidedStep & { type: 'approval'; action?: PlaybookAction })
  | (StepBase & { type: 'action'; action: PlaybookAction })
  | (StepBase & { type: 'timer'; duration: DurationText });

export interface Playbook {
  category: string;
  version: number;
  title: string;
  description?: string;
  steps: PlaybookStep[];
}

/**
 * A stored playbook as incidents follow it: every task deadline and timer ten years at most
 * (`withinLongest`). One published before durations were bounded may hold `99999999w`, from which
 * the incident's workflow could set no deadline, and its task would fail on every retry.
 */
export function boundedPlaybook(playbook: Playbook): Playbook {
  return {
    ...playbook,
    steps: playbook.steps.map((step) => {
      if (step.type === 'timer') return { ...step, duration: withinLongest(step.duration) };
      if ((step.type === 'task' || step.type === 'approval') && step.deadline !== undefined)
        return { ...step, deadline: withinLongest(step.deadline) };
      return step;
    }),
  };
}

/** The step after which a phase is over: the last step of that phase in the playbook's order. */
export function phaseEnds(steps: readonly PlaybookStep[]): Map<string, PlaybookPhase> {
  const ends = new Map<string, PlaybookPhase>();
  for (const phase of playbookPhases) {
    const last = steps.filter((step) => step.phase === phase).at(-1);
    if (last) ends.set(last.id, phase);
  }
  return ends;
}
