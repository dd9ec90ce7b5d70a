/**
 * The configuration management database as Warden needs it: services with their SLA security
 * section, the configuration items (CIs) that make them up, and who may change which record.
 */
import { combinedBaseline, type BaselineMeasure, type Classification } from './classification';
import type { Actor, Role } from './roles';
import type { AdditionalRequirement, ServiceSla, SlaChanges } from './sla';

export const configurationItemTypes = [
  'server',
  'application',
  'database',
  'network_device',
  'service_account',
  'user_account',
  'endpoint',
  'cloud_resource',
  'other',
] as const;
export type ConfigurationItemType = (typeof configurationItemTypes)[number];

/** A retired CI is kept, read-only, so incidents and reviews that name it still resolve. */
export const configurationItemStatuses = ['active', 'retired'] as const;
export type ConfigurationItemStatus = (typeof configurationItemStatuses)[number];

export interface ServiceFields {
  name: string;
  description: string;
  /** Principal id of the person accountable for the service. */
  owner: string;
  sla: ServiceSla;
}

export interface Service extends ServiceFields {
  id: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A service as a create request gives it: SLA fields left out take their defaults. */
export type ServiceDraft = Omit<ServiceFields, 'sla'> & { sla: SlaChanges };
export type ServiceChanges = Partial<Omit<ServiceFields, 'sla'>> & { sla?: SlaChanges };

export interface ConfigurationItemFields {
  name: string;
  type: ConfigurationItemType;
  description: string;
  serviceId: string | null;
  owner: string;
  classification: Classification;
  attributes: Record<string, unknown>;
}

export interface ConfigurationItem extends ConfigurationItemFields {
  id: string;
  status: ConfigurationItemStatus;
  createdAt: Date;
  updatedAt: Date;
}

export type ConfigurationItemChanges = Partial<Omit<ConfigurationItemFields, 'classification'>> & {
  classification?: Partial<Classification>;
};

export type RequiredMeasure = (BaselineMeasure & { source: 'baseline' }) | (AdditionalRequirement & { source: 'sla' });

/** What a service must have in place: the baseline its CIs' classifications require, then what its SLA adds. */
export function requiredMeasures(
  classifications: readonly Classification[],
  sla: ServiceSla,
  baseline: readonly BaselineMeasure[],
): RequiredMeasure[] {
  return [
    ...combinedBaseline(classifications, baseline).map((measure) => ({ ...measure, source: 'baseline' as const })),
    ...sla.additionalRequirements.map((requirement) => ({ ...requirement, source: 'sla' as const })),
  ];
}

/** Roles that keep the whole CMDB; a service owner, admitted to the same writes, changes only their own records. */
const cmdbCurators: readonly Role[] = ['admin', 'security_manager'];

/**
 * Whether `actor` may change a record owned by `owners` (a CI's owner and its service's owner).
 * Callers ask for the record as it is and as it will be, so nobody takes over or gives away a
 * record they could not otherwise change.
 */
export function mayChangeRecord(actor: Actor, owners: readonly (string | null)[]): boolean {
  return actor.roles.some((role) => cmdbCurators.includes(role)) || owners.includes(actor.principalId);
}
