import { expect, it } from 'vitest';
import { loadConfig } from '../../config';
import { identityPrincipalId, parseRoleMapping, rolesFromClaims } from '../../domain/identity';

const mapping = (text: string) => {
  const parsed = parseRoleMapping(text);
  if ('problem' in parsed) throw new Error(parsed.problem);
  return parsed.mapping;
};

it('maps the values of the role claim to roles, several per group, in Warden order', () => {
  const soc = mapping('soc=tester, soc=security_analyst,audit=auditor');
  expect(rolesFromClaims({ groups: ['soc', 'staff'] }, 'groups', soc)).toEqual(['security_analyst', 'tester']);
  expect(rolesFromClaims({ groups: 'audit' }, 'groups', soc)).toEqual(['auditor']);
  expect(rolesFromClaims({ groups: [42, { soc: true }] }, 'groups', soc)).toEqual([]);
  expect(rolesFromClaims({}, 'groups', soc)).toEqual([]);
  expect(rolesFromClaims({ roles: ['soc'] }, 'groups', soc)).toEqual([]);
});

it('refuses a role map with an unknown role or a malformed pair, naming it', () => {
  expect(parseRoleMapping('soc=superuser')).toEqual({ problem: '"superuser" is not a Warden role' });
  expect(parseRoleMapping('soc')).toEqual({ problem: '"soc" is not group=role' });
  expect(parseRoleMapping('=admin')).toEqual({ problem: '"=admin" is not group=role' });
  // Group names may contain "=" (LDAP-style names); the role is after the last one.
  expect(rolesFromClaims({ groups: ['cn=soc'] }, 'groups', mapping('cn=soc=security_analyst'))).toEqual(['security_analyst']);
});

it('keeps principals from the identity provider apart from token principals', () => {
  expect(identityPrincipalId('248289761001')).toBe('oidc:248289761001');
});

it('needs every single sign-on variable once one is set, and a safe issuer', () => {
  expect(() => loadConfig({ WARDEN_OIDC_ISSUER: 'https://idp.example' })).toThrow(/WARDEN_OIDC_CLIENT_ID.*needed for single sign-on/s);
  const complete = {
    WARDEN_OIDC_CLIENT_ID: 'warden',
    WARDEN_OIDC_CLIENT_SECRET: 'secret',
    WARDEN_OIDC_ROLE_MAP: 'soc=security_analyst',
  };
  expect(() => loadConfig({ ...complete, WARDEN_OIDC_ISSUER: 'http://idp.example' })).toThrow(/WARDEN_OIDC_ISSUER.*https/s);
  expect(() => loadConfig({ ...complete, WARDEN_OIDC_ISSUER: 'https://idp.example', WARDEN_OIDC_ROLE_MAP: 'soc=root' })).toThrow(
    /"root" is not a Warden role/,
  );
  expect(loadConfig({ ...complete, WARDEN_OIDC_ISSUER: 'http://127.0.0.1:9000' }).WARDEN_OIDC_ROLE_MAP?.get('soc')).toEqual([
    'security_analyst',
  ]);
});
