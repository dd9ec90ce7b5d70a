import { incidentSelection, incidentsInPeriod } from './incidents-in-period';
import { percent, type Measure } from './measure';

/** Every (label, false positive?) pair grouped into a rate per label, largest groups first. */
function ratesBy(entries: { label: string; falsePositive: boolean }[]) {
  const groups = new Map<string, { all: number; falsePositives: number }>();
  for (const { label, falsePositive } of entries) {
    const group = groups.get(label) ?? { all: 0, falsePositives: 0 };
    group.all += 1;
    if (falsePositive) group.falsePositives += 1;
    groups.set(label, group);
  }
  return [...groups.entries()]
    .sort(([a, x], [b, y]) => y.all - x.all || a.localeCompare(b))
    .map(([label, group]) => ({ label, value: percent(group.falsePositives, group.all), count: group.all }));
}

export const falsePositiveRate: Measure = {
  id: 'false-positive-rate',
  title: 'False-positive rate per detection rule and source',
  definition:
    `Share of ${incidentSelection} that triage closed as a false positive, overall and per detection rule (the SIEM rules ` +
    'of the alerts the incident carries; "reported" for incidents no alert opened) and per source.',
  trend: true,
  async compute(db, period, scope) {
    const { incidents } = await incidentsInPeriod(db, period, scope);
    const ids = incidents.map(({ incident }) => incident.id);
    const alerts = ids.length
      ? await db.selectFrom('security_alerts_received').select(['incident_id', 'rule']).distinct().where('incident_id', 'in', ids).execute()
      : [];
    const rulesOf = new Map<string, string[]>();
    for (const alert of alerts)
      if (alert.incident_id) rulesOf.set(alert.incident_id, [...(rulesOf.get(alert.incident_id) ?? []), alert.rule]);
    const falsePositive = (status: string) => status === 'closed_false_positive';
    const byRule = incidents.flatMap(({ incident }) =>
      (rulesOf.get(incident.id) ?? ['reported']).map((rule) => ({ label: `rule ${rule}`, falsePositive: falsePositive(incident.status) })),
    );
    const bySource = incidents.map(({ incident }) => ({
      label: `source ${incident.source}`,
      falsePositive: falsePositive(incident.status),
    }));
    return {
      status: 'measured',
      value: percent(incidents.filter(({ incident }) => falsePositive(incident.status)).length, incidents.length),
      unit: '%',
      breakdown: [...ratesBy(byRule), ...ratesBy(bySource)],
    };
  },
};
