/**
 * ISO/IEC 27001:2022 Annex A: the 93 information security controls, by id (`A.<theme>.<n>`) and
 * title, in the standard's order. The Statement of Applicability answers for each of them.
 */
const themes = {
  '5': {
    theme: 'Organizational controls',
    titles: [
      'Policies for information security',
      'Information security roles and responsibilities',
      'Segregation of duties',
      'Management responsibilities',
      'Contact with authorities',
      'Contact with special interest groups',
      'Threat intelligence',
      'Information security in project management',
      'Inventory of information and other associated assets',
      'Acceptable use of information and other associated assets',
      'Return of assets',
      'Classification of information',
      'Labelling of information',
      'Information transfer',
      'Access control',
      'Identity management',
      'Authentication information',
      'Access rights',
      'Information security in supplier relationships',
      'Addressing information security within supplier agreements',
      'Managing information security in the ICT supply chain',
      'Monitoring, review and change management of supplier services',
      'Information security for use of cloud services',
      'Information security incident management planning and preparation',
      'Assessment and decision on information security events',
      'Response to information security incidents',
      'Learning from information security incidents',
      'Collection of evidence',
      'Information security during disruption',
      'ICT readiness for business continuity',
      'Legal, statutory, regulatory and contractual requirements',
      'Intellectual property rights',
      'Protection of records',
      'Privacy and protection of PII',
      'Independent review of information security',
      'Compliance with policies, rules and standards for information security',
      'Documented operating procedures',
    ],
  },
  '6': {
    theme: 'People controls',
    titles: [
      'Screening',
      'Terms and conditions of employment',
      'Information security awareness, education and training',
      'Disciplinary process',
      'Responsibilities after termination or change of employment',
      'Confidentiality or non-disclosure agreements',
      'Remote working',
      'Information security event reporting',
    ],
  },
  '7': {
    theme: 'Physical controls',
    titles: [
      'Physical security perimeters',
      'Physical entry',
      'Securing offices, rooms and facilities',
      'Physical security monitoring',
      'Protecting against physical and environmental threats',
      'Working in secure areas',
      'Clear desk and clear screen',
      'Equipment siting and protection',
      'Security of assets off-premises',
      'Storage media',
      'Supporting utilities',
      'Cabling security',
      'Equipment maintenance',
      'Secure disposal or re-use of equipment',
    ],
  },
  '8': {
    theme: 'Technological controls',
    titles: [
      'User endpoint devices',
      'Privileged access rights',
      'Information access restriction',
      'Access to source code',
      'Secure authentication',
      'Capacity management',
      'Protection against malware',
      'Management of technical vulnerabilities',
      'Configuration management',
      'Information deletion',
      'Data masking',
      'Data leakage prevention',
      'Information backup',
      'Redundancy of information processing facilities',
      'Logging',
      'Monitoring activities',
      'Clock synchronization',
      'Use of privileged utility programs',
      'Installation of software on operational systems',
      'Networks security',
      'Security of network services',
      'Segregation of networks',
      'Web filtering',
      'Use of cryptography',
      'Secure development life cycle',
      'Application security requirements',
      'Secure system architecture and engineering principles',
      'Secure coding',
      'Security testing in development and acceptance',
      'Outsourced development',
      'Separation of development, test and production environments',
      'Change management',
      'Test information',
      'Protection of information systems during audit testing',
    ],
  },
} as const;

export interface AnnexAControl {
  id: string;
  theme: string;
  title: string;
}

export const annexAControls: readonly AnnexAControl[] = Object.entries(themes).flatMap(([number, { theme, titles }]) =>
  titles.map((title, index) => ({ id: `A.${number}.${index + 1}`, theme, title })),
);

const annexAIds = new Set(annexAControls.map((control) => control.id));
export const isAnnexAControl = (id: string) => annexAIds.has(id);
