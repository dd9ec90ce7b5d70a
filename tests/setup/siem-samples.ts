// Realistic alerts from each SIEM Warden reads, trimmed to what their products send: the seed
// scenario's service account failing logons at 02:00 on Saturday 21 November 2026.

/** Splunk's webhook alert action: the saved search and its first result row (all values text). */
export function splunkKerberosFailures(account: string, host: string, ip = '10.20.30.40') {
  return {
    sid: 'scheduler__admin__search__RMD5e2c1f0a3b4d5e6f7_at_1795226400_412',
    search_name: 'Kerberos pre-authentication failures by service account',
    app: 'search',
    owner: 'admin',
    results_link: 'https://splunk.example.org:8000/app/search/search?q=%7Cloadjob%20scheduler__admin__search',
    result: {
      _time: '1795226400',
      host,
      user: account,
      src_ip: ip,
      EventCode: '4771',
      count: '37',
      severity: 'medium',
      annotations: { mitre_attack: ['T1110.003'] },
    },
  };
}

/** An Elastic Security detection alert as the webhook connector's {{context.alerts}} gives it (dotted Kibana fields). */
export function elasticFailedLogons(account: string, host: string, ip = '10.20.30.41') {
  return {
    '@timestamp': '2026-11-21T02:00:05.000Z',
    'kibana.alert.rule.name': 'Multiple Logon Failure from the same Source Address',
    'kibana.alert.rule.uuid': '48b6edfc-079d-11ed-a108-f661ea17fbcd',
    'kibana.alert.severity': 'high',
    'kibana.alert.risk_score': 73,
    'kibana.alert.reason': `authentication event with source ${ip} by ${account} on ${host} created high alert`,
    event: { kind: 'signal', category: ['authentication'], outcome: 'failure' },
    host: { name: host },
    user: { name: account },
    source: { ip },
    threat: [
      {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0006', name: 'Credential Access' },
        technique: [{ id: 'T1110', name: 'Brute Force', subtechnique: [{ id: 'T1110.001', name: 'Password Guessing' }] }],
      },
    ],
  };
}

/** A Microsoft Sentinel incident as an automation rule's Logic App receives it. */
export function sentinelIncidentSample(account: string, host: string, ip = '198.51.100.23', name = '73e01a99-5cd7-4139-a149-9f2736ff2ab5') {
  return {
    id: '/subscriptions/3f1c…/resourceGroups/soc/providers/Microsoft.OperationalInsights/workspaces/soc/providers/Microsoft.SecurityInsights/Incidents/73e01a99-5cd7-4139-a149-9f2736ff2ab5',
    name,
    type: 'Microsoft.SecurityInsights/Incidents',
    properties: {
      title: 'Password spray attack against service account',
      description: 'Multiple failed sign-ins from one address across accounts.',
      severity: 'High',
      status: 'New',
      incidentNumber: 4711,
      createdTimeUtc: '2026-11-21T02:03:00Z',
      firstActivityTimeUtc: '2026-11-21T02:00:00Z',
      additionalData: { alertsCount: 1, alertProductNames: ['Azure Sentinel'], tactics: ['CredentialAccess'], techniques: ['T1110'] },
      relatedEntities: [
        { kind: 'Account', properties: { accountName: account, upnSuffix: 'corp.example.org' } },
        { kind: 'Host', properties: { hostName: host, osFamily: 'Windows' } },
        { kind: 'Ip', properties: { address: ip } },
        { kind: 'Url', properties: { url: 'https://login.example.org/adfs/ls' } },
      ],
    },
  };
}

/** A Wazuh alert (alerts.json) for sshd brute force, tagged by Wazuh with ATT&CK T1110. */
export function wazuhSshBruteForce(host: string, account = 'root', ip = '203.0.113.9') {
  return {
    timestamp: '2026-11-22T09:00:00.000+0000',
    rule: {
      level: 10,
      description: 'sshd: brute force trying to get access to the system. Authentication failed.',
      id: '5763',
      mitre: { id: ['T1110'], tactic: ['Credential Access'], technique: ['Brute Force'] },
      frequency: 8,
      groups: ['syslog', 'sshd', 'authentication_failures'],
    },
    agent: { id: '007', name: host, ip: '10.1.0.20' },
    manager: { name: 'wazuh-manager' },
    id: '1763802000.1234567',
    full_log: `Nov 22 09:00:00 ${host} sshd[4242]: Failed password for ${account} from ${ip} port 52144 ssh2`,
    decoder: { parent: 'sshd', name: 'sshd' },
    data: { srcip: ip, srcport: '52144', dstuser: account },
    location: '/var/log/auth.log',
  };
}
