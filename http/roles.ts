import { roles, type Role } from '../domain/roles';

/** Role sets routes admit, named for who they are, so a route's declaration reads as policy. */
export const everyone: readonly Role[] = roles;
export const administrators: readonly Role[] = ['admin'];
export const auditReaders: readonly Role[] = ['admin', 'security_manager', 'auditor'];
/** Who exports the audit chain's signed checkpoints to anchor them elsewhere. */
export const checkpointExporters: readonly Role[] = ['admin', 'auditor'];
export const securityManagement: readonly Role[] = ['admin', 'security_manager'];
export const payloadReaders: readonly Role[] = ['admin', 'security_manager', 'security_analyst', 'auditor'];
/** Everyone who may take part in a decision; auditors only read. */
export const deciders: readonly Role[] = roles.filter((role) => role !== 'auditor');
export const incidentReporters: readonly Role[] = ['admin', 'security_manager', 'security_analyst', 'reporter'];
export const incidentCommunicators: readonly Role[] = ['admin', 'security_manager', 'security_analyst'];
/** Who reads the indicators incidents and alerts saw, and marks them as IOCs (auditors only read). */
export const observableReaders: readonly Role[] = ['admin', 'security_manager', 'security_analyst', 'auditor'];
export const iocMarkers: readonly Role[] = ['admin', 'security_manager', 'security_analyst'];
/** Who merges and links incidents. */
export const incidentCurators: readonly Role[] = ['admin', 'security_manager', 'security_analyst'];
/** Who loads the organisation's ATT&CK catalogue. */
export const attackCatalogueEditors: readonly Role[] = ['admin', 'security_manager'];
/** The token an automated responder (SOAR) reports action results with; the callback is also signed. */
export const responderCallers: readonly Role[] = ['admin', 'security_manager', 'security_analyst'];
export const alertSources: readonly Role[] = ['admin', 'security_manager', 'security_analyst', 'reporter'];
/** Who may write to the CMDB; a service owner only to their own records (checked per record). */
export const cmdbEditors: readonly Role[] = ['admin', 'security_manager', 'service_owner'];
/** Who reads IT Security Reports and KPIs. */
export const reportReaders: readonly Role[] = ['admin', 'security_manager', 'auditor', 'service_owner'];
/** Who may update a risk or an improvement action they own (checked per record); auditors only read. */
export const recordOwners: readonly Role[] = deciders;
/** Access management: anyone who may take part files requests; systems' owners import and read their own. */
export const accessRequesters: readonly Role[] = deciders;
export const accessReaders: readonly Role[] = ['admin', 'security_manager', 'auditor', 'service_owner'];
export const accountImporters: readonly Role[] = ['admin', 'security_manager', 'service_owner'];
/** Write the controls catalog and its schedules; a service owner only for controls they own (checked per record). */
export const controlWriters: readonly Role[] = ['admin', 'security_manager', 'service_owner'];
/** Start a security test now. */
export const testTriggerers: readonly Role[] = ['admin', 'security_manager', 'tester'];
export const advisoryIntake: readonly Role[] = ['admin', 'security_manager', 'security_analyst'];
export const componentEditors: readonly Role[] = ['admin', 'security_manager', 'service_owner'];
export const kpiReaders: readonly Role[] = ['admin', 'security_manager', 'auditor', 'service_owner'];
/** Prometheus scrapes with a token of one of these roles (an auditor token reads, changes nothing). */
export const metricsScrapers: readonly Role[] = ['admin', 'auditor'];
/** Who may put a change through the security gate. */
export const changeRequesters: readonly Role[] = ['change_manager', 'service_owner', 'security_manager', 'admin', 'security_analyst'];
/** Changes are read by everyone taking part in the process; reporters only report. */
export const changeReaders: readonly Role[] = roles.filter((role) => role !== 'reporter');
/** Who may attach evidence: requesters and the reviewers who performed a test. */
export const evidenceProviders: readonly Role[] = [...changeRequesters, 'security_reviewer'];
/** Who runs the awareness programme: opens campaigns and records completions by API or CSV. */
export const trainingManagers: readonly Role[] = ['admin', 'security_manager'];
/** Who reads campaigns and who completed what: the programme's managers and auditors. */
export const trainingReaders: readonly Role[] = ['admin', 'security_manager', 'auditor'];
/**
 * A learning platform sends completions with a token of its own; `reporter`, the role of systems
 * that only feed Warden (as a SIEM does), is enough and admits nothing else of the programme.
 */
export const trainingCompletionSources: readonly Role[] = ['admin', 'security_manager', 'reporter'];
/** Who reads the SIEM alerts received: those who see every incident (the raw alerts name hosts and accounts). */
export const siemAlertReaders: readonly Role[] = ['admin', 'security_manager', 'security_analyst', 'auditor'];
/** Problem management: who records problems, links them and proposes workarounds and solutions. */
export const problemManagers: readonly Role[] = ['admin', 'security_manager', 'security_analyst', 'change_manager', 'service_owner'];
/** Problems are read by everyone taking part in the process; reporters only report. */
export const problemReaders: readonly Role[] = roles.filter((role) => role !== 'reporter');
