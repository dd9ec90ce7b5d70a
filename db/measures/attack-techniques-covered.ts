import { incidentSelection, incidentsInPeriod } from './incidents-in-period';
import type { Measure } from './measure';

/** A control listing a technique covers it and its sub-techniques (a control on T1110 covers T1110.003). */
const covers = (listed: readonly string[], technique: string) => listed.some((id) => id === technique || id === technique.split('.')[0]);

export const attackTechniquesCovered: Measure = {
  id: 'attack-techniques-without-control',
  title: 'ATT&CK techniques seen without a covering control',
  definition:
    `The ATT&CK techniques recorded on ${incidentSelection} (from their alerts or set at triage), each against the active controls whose MITRE ATT&CK references list it or its parent technique. ` +
    'The value counts techniques no control covers; the breakdown lists each technique with the number of incidents that saw it and the controls covering it.',
  trend: true,
  async compute(db, period, scope) {
    const { incidents } = await incidentsInPeriod(db, period, scope);
    const seen = new Map<string, number>();
    for (const { incident } of incidents)
      for (const technique of incident.attack_techniques) seen.set(technique, (seen.get(technique) ?? 0) + 1);
    const controls = await db.selectFrom('controls').select(['name', 'mitre_attack']).where('status', '=', 'active').execute();
    const breakdown = [...seen.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([technique, count]) => {
        const covering = controls.filter((control) => covers(control.mitre_attack, technique)).map((control) => control.name);
        return {
          label: `${technique}: ${covering.length ? `covered by ${covering.join(', ')}` : 'no covering control'}`,
          value: count,
          covered: covering.length > 0,
        };
      });
    return {
      status: 'measured',
      value: breakdown.filter((entry) => !entry.covered).length,
      unit: 'techniques',
      breakdown: breakdown.map(({ label, value }) => ({ label, value, count: value })),
    };
  },
};
