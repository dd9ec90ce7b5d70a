import { type Kysely, type Migration, Migrator } from 'kysely';
import * as foundation from './2026-11-23T0000-foundation';
import * as humanTasks from './2026-11-23T0100-human-tasks';
import * as incidents from './2026-11-23T0200-incidents';
import * as cmdb from './2026-11-23T0300-cmdb';
import * as accessManagement from './2026-11-23T0400-access-management';
import * as securityTesting from './2026-11-23T0500-security-testing';
import * as webSessions from './2026-11-23T0600-web-sessions';
import * as notificationDeliveries from './2026-11-23T0700-notification-deliveries';
import * as advisories from './2026-11-23T0800-advisories';
import * as securityAlerts from './2026-11-23T0900-security-alerts';
import * as changeGate from './2026-11-23T1000-change-gate';
import * as securityReview from './2026-11-23T1100-security-review';
import * as auditCheckpoints from './2026-12-02T0100-audit-checkpoints';
import * as failedStates from './2026-12-02T0200-failed-states';
import * as slaClocks from './2026-12-02T1100-i16-sla-clocks';
import * as observables from './2026-12-02T1200-i16-intake-observables';
import * as changeImpactRules from './2026-12-02T1300-i17-change-impact-rules';
import * as problems from './2026-12-02T1310-i17-problems';
import * as sod from './2026-12-02T1320-i17-sod';
import * as sbomFindings from './2026-12-02T1400-i18-vuln-sbom-findings';
import * as training from './2026-12-02T1500-i18-programme-training';
import * as baseline from './2026-12-02T1510-i18-programme-baseline';
import * as identitySessions from './2026-12-02T1600-i19-identity-sessions';
import * as slaClocksClosed from './2026-12-02T1700-i16-sla-clocks-closed';
import * as findingRelatedIds from './2026-12-02T1800-i18-finding-related-ids';
import * as credentialChanges from './2026-12-02T1800-i21-credential-changes';
import * as stormFingerprints from './2026-12-02T1810-i21-storm-fingerprints';
import * as auditPending from './2026-12-02T1820-i21-audit-pending';

/** Every migration, by name; names sort in the order they run. A new one is a new line here. */
export const migrations: Record<string, Migration> = {
  '2026-11-23T0000-foundation': foundation,
  '2026-11-23T0100-human-tasks': humanTasks,
  '2026-11-23T0200-incidents': incidents,
  '2026-11-23T0300-cmdb': cmdb,
  '2026-11-23T0400-access-management': accessManagement,
  '2026-11-23T0500-security-testing': securityTesting,
  '2026-11-23T0600-web-sessions': webSessions,
  '2026-11-23T0700-notification-deliveries': notificationDeliveries,
  '2026-11-23T0800-advisories': advisories,
  '2026-11-23T0900-security-alerts': securityAlerts,
  '2026-11-23T1000-change-gate': changeGate,
  '2026-11-23T1100-security-review': securityReview,
  '2026-12-02T0100-audit-checkpoints': auditCheckpoints,
  '2026-12-02T0200-failed-states': failedStates,
  '2026-12-02T1100-i16-sla-clocks': slaClocks,
  '2026-12-02T1200-i16-intake-observables': observables,
  '2026-12-02T1300-i17-change-impact-rules': changeImpactRules,
  '2026-12-02T1310-i17-problems': problems,
  '2026-12-02T1320-i17-sod': sod,
  '2026-12-02T1400-i18-vuln-sbom-findings': sbomFindings,
  '2026-12-02T1500-i18-programme-training': training,
  '2026-12-02T1510-i18-programme-baseline': baseline,
  '2026-12-02T1600-i19-identity-sessions': identitySessions,
  '2026-12-02T1700-i16-sla-clocks-closed': slaClocksClosed,
  '2026-12-02T1800-i18-finding-related-ids': findingRelatedIds,
  '2026-12-02T1800-i21-credential-changes': credentialChanges,
  '2026-12-02T1810-i21-storm-fingerprints': stormFingerprints,
  '2026-12-02T1820-i21-audit-pending': auditPending,
};

/** Applies the migrations the database lacks and names them; a failed one throws with its name. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).map((result) => result.migrationName);
}
