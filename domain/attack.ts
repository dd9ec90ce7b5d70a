import type { IncidentCategory } from './classification';

/**
 * MITRE ATT&CK on incidents: the techniques an alert names or triage sets, validated against the
 * catalogue the organisation loads (a STIX 2.1 enterprise ATT&CK bundle), with a small built-in
 * fallback for an organisation that has loaded none.
 */
export interface AttackTechnique {
  /** T1110, or T1110.001 for a sub-technique. */
  id: string;
  name: string;
  /** Kill-chain phase names, as ATT&CK spells them: credential-access, impact, … */
  tactics: string[];
}

export const techniqueIdPattern = /^T\d{4}(\.\d{3})?$/;

/** Technique ids found in free text such as "T1110.001 - Password Guessing" or "T1110". */
export function techniqueIdsIn(values: readonly unknown[]): string[] {
  const ids = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string') continue;
    for (const match of value.toUpperCase().matchAll(/\bT\d{4}(?:\.\d{3})?\b/g)) ids.add(match[0]);
  }
  return [...ids];
}

/** The techniques security teams meet most, so a fresh installation validates and infers something. */
export const builtInAttackCatalogue: readonly AttackTechnique[] = [
  { id: 'T1003', name: 'OS Credential Dumping', tactics: ['credential-access'] },
  { id: 'T1021', name: 'Remote Services', tactics: ['lateral-movement'] },
  { id: 'T1041', name: 'Exfiltration Over C2 Channel', tactics: ['exfiltration'] },
  { id: 'T1048', name: 'Exfiltration Over Alternative Protocol', tactics: ['exfiltration'] },
  { id: 'T1059', name: 'Command and Scripting Interpreter', tactics: ['execution'] },
  { id: 'T1068', name: 'Exploitation for Privilege Escalation', tactics: ['privilege-escalation'] },
  { id: 'T1071', name: 'Application Layer Protocol', tactics: ['command-and-control'] },
  { id: 'T1078', name: 'Valid Accounts', tactics: ['defense-evasion', 'persistence', 'privilege-escalation', 'initial-access'] },
  { id: 'T1105', name: 'Ingress Tool Transfer', tactics: ['command-and-control'] },
  { id: 'T1110', name: 'Brute Force', tactics: ['credential-access'] },
  { id: 'T1110.001', name: 'Password Guessing', tactics: ['credential-access'] },
  { id: 'T1110.002', name: 'Password Cracking', tactics: ['credential-access'] },
  { id: 'T1110.003', name: 'Password Spraying', tactics: ['credential-access'] },
  { id: 'T1110.004', name: 'Credential Stuffing', tactics: ['credential-access'] },
  { id: 'T1133', name: 'External Remote Services', tactics: ['persistence', 'initial-access'] },
  { id: 'T1190', name: 'Exploit Public-Facing Application', tactics: ['initial-access'] },
  { id: 'T1204', name: 'User Execution', tactics: ['execution'] },
  { id: 'T1486', name: 'Data Encrypted for Impact', tactics: ['impact'] },
  { id: 'T1498', name: 'Network Denial of Service', tactics: ['impact'] },
  { id: 'T1499', name: 'Endpoint Denial of Service', tactics: ['impact'] },
  { id: 'T1530', name: 'Data from Cloud Storage', tactics: ['collection'] },
  { id: 'T1558', name: 'Steal or Forge Kerberos Tickets', tactics: ['credential-access'] },
  { id: 'T1558.003', name: 'Kerberoasting', tactics: ['credential-access'] },
  { id: 'T1566', name: 'Phishing', tactics: ['initial-access'] },
  { id: 'T1567', name: 'Exfiltration Over Web Service', tactics: ['exfiltration'] },
];

/** Techniques whose category is plain from the technique itself, before its tactic is asked. */
const categoryOfTechnique: Record<string, IncidentCategory> = {
  T1486: 'malware',
  T1498: 'denial_of_service',
  T1499: 'denial_of_service',
  T1190: 'vulnerability_exploitation',
  T1203: 'vulnerability_exploitation',
  T1210: 'vulnerability_exploitation',
  T1068: 'vulnerability_exploitation',
  T1204: 'malware',
  T1566: 'malware',
};

/** Tactics in the order they decide: what the attacker achieved outranks how they got in. */
const categoryOfTactic: [string, IncidentCategory][] = [
  ['exfiltration', 'data_leak'],
  ['collection', 'data_leak'],
  ['credential-access', 'unauthorised_access'],
  ['initial-access', 'unauthorised_access'],
  ['lateral-movement', 'unauthorised_access'],
  ['privilege-escalation', 'unauthorised_access'],
  ['execution', 'malware'],
  ['command-and-control', 'malware'],
  ['persistence', 'malware'],
];

/**
 * The incident category ATT&CK techniques imply, for an alert that gives none: a technique whose
 * category is plain decides first, then the tactics of all of them in the order above.
 */
export function categoryFromTechniques(techniques: readonly AttackTechnique[]): IncidentCategory | undefined {
  for (const technique of techniques) {
    const category = categoryOfTechnique[technique.id.split('.')[0] as string];
    if (category) return category;
  }
  const tactics = new Set(techniques.flatMap((technique) => technique.tactics));
  return categoryOfTactic.find(([tactic]) => tactics.has(tactic))?.[1];
}
