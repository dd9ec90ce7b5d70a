import { roles, type Role } from '../domain/roles';

/** Role sets routes admit, named for who they are, so a route's declaration reads as policy. */
export const everyone: readonly Role[] = roles;
export const administrators: readonly Role[] = ['admin'];
export const auditReaders: readonly Role[] = ['admin', 'security_manager', 'auditor'];
export const securityManagement: readonly Role[] = ['admin', 'security_manager'];
export const payloadReaders: readonly Role[] = ['admin', 'security_manager', 'security_analyst', 'auditor'];
/** Everyone who may take part in a decision; auditors only read. */
export const deciders: readonly Role[] = roles.filter((role) => role !== 'auditor');
export const incidentReporters: readonly Role[] = ['admin', 'security_manager', 'security_analyst', 'reporter'];
export const incidentCommunicators: readonly Role[] = ['admin', 'security_manager', 'security_analyst'];
export const alertSources: readonly Role[] = ['admin', 'security_manager', 'security_analyst', 'reporter'];
export const advisoryIntake: readonly Role[] = ['admin', 'security_manager', 'security_analyst'];
export const componentEditors: readonly Role[] = ['admin', 'security_manager', 'service_owner'];
export const kpiReaders: readonly Role[] = ['admin', 'security_manager', 'auditor', 'service_owner'];
/** Prometheus scrapes with a token of one of these roles (an auditor token reads, changes nothing). */
export const metricsScrapers: readonly Role[] = ['admin', 'auditor'];
