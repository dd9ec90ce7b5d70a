import type { Severity } from './classification';
import { higherSeverity, iocSeverityFloor } from './observable';

/**
 * SIEM intake's judgement of one alert, before correlation: benign (the account doing what it is
 * documented to do), or the least severity its incident must have and why. The rules are in
 * docs/incidents.md#siem-intake.
 */
export interface AlertJudgement {
  benign: boolean;
  /** The SIEM's severity, raised to high by a known IOC or an account outside its expected activity. */
  severityFloor: Severity;
  reason: string;
}

export function judgeAlert(input: {
  alert: { source: string; rule: string; severity: Severity };
  iocs: readonly { type: string; value: string }[];
  unknownTechniques: readonly string[];
  /** Present when the alert names an account CI documenting its expected activity. */
  expectedActivity?: { check: { expected: boolean; reason: string }; burst: { burst: boolean; reason: string } };
}): AlertJudgement {
  const { alert, iocs, expectedActivity } = input;
  const reasons = [`${alert.source} alert: ${alert.rule}`];
  let severityFloor = alert.severity;
  if (iocs.length) {
    severityFloor = higherSeverity(severityFloor, iocSeverityFloor);
    reasons.push(`carries known IOC ${iocs.map((ioc) => `${ioc.type} ${ioc.value}`).join(', ')}: at least ${iocSeverityFloor}`);
  }
  if (input.unknownTechniques.length) reasons.push(`ATT&CK ids not in the catalogue, ignored: ${input.unknownTechniques.join(', ')}`);
  if (!expectedActivity) return { benign: false, severityFloor, reason: reasons.join('; ') };
  const { check, burst } = expectedActivity;
  if (check.expected && !burst.burst && iocs.length === 0)
    return { benign: true, severityFloor, reason: `${check.reason}; ${burst.reason}` };
  // The account acting outside what it is documented to do is the finding: the incident is at least high.
  severityFloor = higherSeverity(severityFloor, 'high');
  reasons.push(`escalated to at least high: ${check.expected ? burst.reason : check.reason}`);
  return { benign: false, severityFloor, reason: reasons.join('; ') };
}
