import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoLinks } from '../src/seed/demo.js';
import { startApp, type DemoIds, type TestApp } from './helpers/app.js';

/**
 * The contract every API endpoint keeps, checked over a catalogue of all of them:
 * - another organisation (its admin, the strongest role there) gets 403/404, learns nothing (the
 *   answer is the one a non-existent id gets) and changes nothing;
 * - bad input gets a 4xx JSON error with a stable code and changes nothing;
 * - arbitrary JSON bodies never cause a 5xx.
 * A last test fails when an endpoint is added to the OpenAPI document without a catalogue entry.
 */

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

interface Fixture {
  ids: DemoIds;
  customTypeId: string;
  rektorSessionId: string;
  /** An active lockdown at Vasaskolan, raised by Anna. */
  incidentId: string;
  /** A link Utbildningsförvaltningen proposed to a third organisation: Kulturförvaltningen's admin must not see it. */
  thirdLinkId: string;
  /** A fire at the library held at Vasaskolan (it arrived during the lockdown): Vasaskolan's leads decide on it. */
  heldCrossingId: string;
}

interface Call {
  url: string;
  body?: unknown;
  /** For bodies that are not JSON (the CSV import). */
  headers?: Record<string, string>;
}

interface Endpoint {
  method: Method;
  /** The path as the OpenAPI document spells it. */
  path: string;
  /** Who the owner side is: a demo account of Utbildningsförvaltningen. */
  as: string;
  /** A request another organisation must not be able to make count; null with a reason when the endpoint only acts on the caller's own data. */
  crossOrg: ((f: Fixture) => Call & { nonexistent: Call }) | { notApplicable: string };
  /** Requests that must be refused as bad input, with the code expected. */
  badInput: ((f: Fixture) => (Call & { code: string })[]) | { notApplicable: string };
}

const OTHER_ORG_ADMIN = 'admin@kultur.example';
/** The SMS gateway's token for its delivery reports (the one endpoint a gateway, not a person, calls). */
const SMS_REPORT_TOKEN = 'contract-sms-report-token-0123';
/** Answered without a session: signing in, and the server's public VAPID key (a service worker renewing its push subscription may have none). */
const PUBLIC_PATHS = [
  '/api/v1/auth/login', '/api/v1/push/config',
  // One-time links and sign-in with the organisation's own accounts: used before anyone is signed in.
  '/api/v1/access-links/inspect', '/api/v1/access-links/redeem', '/api/v1/auth/oidc/providers',
  '/api/v1/auth/oidc/{organisationId}/start', '/api/v1/auth/oidc/callback', '/api/v1/auth/oidc/complete',
];
const uuid = () => randomUUID();
/** A valid review record (the review's PUT): every field, nothing decided yet. */
const REVIEW_RECORD = {
  summary: 'Inrymning vid Vasaskolan.', causes: '', actions: [], safetyRepresentative: { informed: false, name: null, informedAt: null },
  policeReportNumber: null, reportable: 'undecided',
  report: {
    eventType: null, building: null, room: null, affectedStaff: 0, affectedPupils: 0, injuries: null, contactName: null, contactPhone: null,
    contactEmail: null, reportedAt: null, receiptNumber: null,
  },
};

const CATALOGUE: Endpoint[] = [
  {
    method: 'POST', path: '/api/v1/auth/login', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: 'public sign-in; it acts on no organisation' },
    badInput: () => [
      { url: '/api/v1/auth/login', body: { email: 'anna@vasaskolan.example' }, code: 'validation_failed' },
      { url: '/api/v1/auth/login', body: { email: 'anna@vasaskolan.example', password: 'x', admin: true }, code: 'validation_failed' },
      { url: '/api/v1/auth/login', body: { email: 'anna@vasaskolan.example', password: 'x', kind: 'server' }, code: 'validation_failed' },
    ],
  },
  {
    method: 'POST', path: '/api/v1/auth/logout', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "ends the caller's own session only" },
    badInput: () => [{ url: '/api/v1/auth/logout', body: '{not json', code: 'invalid_json' }],
  },
  {
    method: 'POST', path: '/api/v1/auth/logout-all', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "ends the caller's own sessions only" },
    badInput: () => [{ url: '/api/v1/auth/logout-all', body: '{not json', code: 'invalid_json' }],
  },
  {
    method: 'GET', path: '/api/v1/auth/sessions', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "lists the caller's own sessions (the cross-organisation check is the DELETE below)" },
    badInput: { notApplicable: 'takes no input' },
  },
  {
    method: 'DELETE', path: '/api/v1/auth/sessions/{id}', as: 'rektor@vasaskolan.example',
    crossOrg: (f) => ({ url: `/api/v1/auth/sessions/${f.rektorSessionId}`, nonexistent: { url: `/api/v1/auth/sessions/${uuid()}` } }),
    badInput: () => [{ url: '/api/v1/auth/sessions/not-a-uuid', code: 'validation_failed' }],
  },
  {
    method: 'POST', path: '/api/v1/auth/password', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "changes the caller's own password only" },
    badInput: () => [
      { url: '/api/v1/auth/password', body: { currentPassword: 'samlarm-demo', newPassword: 'short' }, code: 'validation_failed' },
      { url: '/api/v1/auth/password', body: { currentPassword: 'wrong-password', newPassword: 'long-enough-password' }, code: 'invalid_credentials' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/me', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: 'the caller themselves' },
    badInput: { notApplicable: 'takes no input' },
  },
  {
    method: 'PATCH', path: '/api/v1/me', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: 'the caller themselves' },
    badInput: () => [
      { url: '/api/v1/me', body: {}, code: 'validation_failed' },
      { url: '/api/v1/me', body: { language: 'de' }, code: 'validation_failed' },
      { url: '/api/v1/me', body: { email: 'new@x.example' }, code: 'validation_failed' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/organisations', as: 'admin@utbildning.example',
    crossOrg: { notApplicable: "lists only the caller's organisation (asserted in organisations.test.ts)" },
    badInput: { notApplicable: 'takes no input' },
  },
  {
    method: 'POST', path: '/api/v1/organisations', as: 'system@samlarm.example',
    crossOrg: { notApplicable: 'creates a new organisation; only system admins may (asserted in organisations.test.ts)' },
    badInput: () => [
      { url: '/api/v1/organisations', body: { name: 'X', kind: 'kommun' }, code: 'validation_failed' },
      { url: '/api/v1/organisations', body: { name: '   ', kind: 'bolag' }, code: 'validation_failed' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/organisations/{organisationId}', as: 'admin@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/organisations/${f.ids.org.utbildning}`, nonexistent: { url: `/api/v1/organisations/${uuid()}` } }),
    badInput: () => [{ url: '/api/v1/organisations/123', code: 'validation_failed' }],
  },
  {
    method: 'PATCH', path: '/api/v1/organisations/{organisationId}', as: 'admin@utbildning.example',
    crossOrg: (f) => ({
      url: `/api/v1/organisations/${f.ids.org.utbildning}`, body: { name: 'Stulen' },
      nonexistent: { url: `/api/v1/organisations/${uuid()}`, body: { name: 'Stulen' } },
    }),
    badInput: (f) => [
      { url: `/api/v1/organisations/${f.ids.org.utbildning}`, body: {}, code: 'validation_failed' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}`, body: { name: 'x'.repeat(201) }, code: 'validation_failed' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}`, body: { organisationNumber: '2120001234' }, code: 'validation_failed' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/organisations/{organisationId}/sites', as: 'anna@vasaskolan.example',
    crossOrg: (f) => ({ url: `/api/v1/organisations/${f.ids.org.utbildning}/sites`, nonexistent: { url: `/api/v1/organisations/${uuid()}/sites` } }),
    badInput: () => [{ url: '/api/v1/organisations/x/sites', code: 'validation_failed' }],
  },
  {
    method: 'POST', path: '/api/v1/organisations/{organisationId}/sites', as: 'admin@utbildning.example',
    crossOrg: (f) => ({
      url: `/api/v1/organisations/${f.ids.org.utbildning}/sites`, body: { name: 'Intrång', kind: 'school' },
      nonexistent: { url: `/api/v1/organisations/${uuid()}/sites`, body: { name: 'Intrång', kind: 'school' } },
    }),
    badInput: (f) => [
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/sites`, body: { name: 'Ny skola', kind: 'castle' }, code: 'validation_failed' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/sites`, body: { kind: 'school' }, code: 'validation_failed' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/sites/{siteId}', as: 'anna@vasaskolan.example',
    crossOrg: (f) => ({ url: `/api/v1/sites/${f.ids.site.vasaskolan}`, nonexistent: { url: `/api/v1/sites/${uuid()}` } }),
    badInput: () => [{ url: '/api/v1/sites/vasaskolan', code: 'validation_failed' }],
  },
  {
    method: 'PATCH', path: '/api/v1/sites/{siteId}', as: 'rektor@vasaskolan.example',
    crossOrg: (f) => ({
      url: `/api/v1/sites/${f.ids.site.vasaskolan}`, body: { name: 'Stulen' },
      nonexistent: { url: `/api/v1/sites/${uuid()}`, body: { name: 'Stulen' } },
    }),
    badInput: (f) => [
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}`, body: { organisationId: f.ids.org.kultur }, code: 'validation_failed' },
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}`, body: { address: 12 }, code: 'validation_failed' },
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}`, body: { municipality: ' ' }, code: 'validation_failed' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/organisations/{organisationId}/people', as: 'admin@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/organisations/${f.ids.org.utbildning}/people`, nonexistent: { url: `/api/v1/organisations/${uuid()}/people` } }),
    badInput: (f) => [{ url: `/api/v1/organisations/${f.ids.org.utbildning}/people?siteId=nope`, code: 'validation_failed' }],
  },
  {
    method: 'POST', path: '/api/v1/organisations/{organisationId}/people', as: 'admin@utbildning.example',
    crossOrg: (f) => {
      const body = { name: 'Inkräktare', email: 'intruder@kultur.example', siteIds: [], roles: [{ role: 'staff', siteId: null }] };
      return { url: `/api/v1/organisations/${f.ids.org.utbildning}/people`, body, nonexistent: { url: `/api/v1/organisations/${uuid()}/people`, body } };
    },
    badInput: (f) => [
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/people`, body: { name: 'X', email: 'not-an-email', siteIds: [], roles: [] }, code: 'validation_failed' },
      {
        url: `/api/v1/organisations/${f.ids.org.utbildning}/people`,
        body: { name: 'X', email: 'x@utbildning.example', siteIds: [f.ids.site.biblioteket], roles: [] },
        code: 'invalid_reference',
      },
      {
        url: `/api/v1/organisations/${f.ids.org.utbildning}/people`,
        body: { name: 'X', email: 'anna@vasaskolan.example', siteIds: [], roles: [] },
        code: 'email_taken',
      },
    ],
  },
  {
    method: 'GET', path: '/api/v1/people/{id}', as: 'admin@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/people/${f.ids.person['anna@vasaskolan.example']}`, nonexistent: { url: `/api/v1/people/${uuid()}` } }),
    badInput: () => [{ url: '/api/v1/people/anna', code: 'validation_failed' }],
  },
  {
    method: 'PATCH', path: '/api/v1/people/{id}', as: 'admin@utbildning.example',
    crossOrg: (f) => ({
      url: `/api/v1/people/${f.ids.person['anna@vasaskolan.example']}`, body: { active: false },
      nonexistent: { url: `/api/v1/people/${uuid()}`, body: { active: false } },
    }),
    badInput: (f) => [
      { url: `/api/v1/people/${f.ids.person['anna@vasaskolan.example']}`, body: { roles: [{ role: 'king', siteId: null }] }, code: 'validation_failed' },
      { url: `/api/v1/people/${f.ids.person['anna@vasaskolan.example']}`, body: { siteIds: [f.ids.site.biblioteket] }, code: 'invalid_reference' },
      { url: `/api/v1/people/${f.ids.person['anna@vasaskolan.example']}`, body: { roles: [{ role: 'staff', siteId: f.ids.site.vasaskolan }] }, code: 'validation_failed' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/organisations/{organisationId}/alarm-types', as: 'anna@vasaskolan.example',
    crossOrg: (f) => ({
      url: `/api/v1/organisations/${f.ids.org.utbildning}/alarm-types`, nonexistent: { url: `/api/v1/organisations/${uuid()}/alarm-types` },
    }),
    badInput: (f) => [{ url: `/api/v1/organisations/${f.ids.org.utbildning}/alarm-types?includeArchived=maybe`, code: 'validation_failed' }],
  },
  {
    method: 'POST', path: '/api/v1/organisations/{organisationId}/alarm-types', as: 'admin@utbildning.example',
    crossOrg: (f) => ({
      url: `/api/v1/organisations/${f.ids.org.utbildning}/alarm-types`, body: customType('intrang'),
      nonexistent: { url: `/api/v1/organisations/${uuid()}/alarm-types`, body: customType('intrang') },
    }),
    badInput: (f) => [
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/alarm-types`, body: { ...customType('x1'), colour: 'red' }, code: 'validation_failed' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/alarm-types`, body: { ...customType('Bad Key') }, code: 'validation_failed' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/alarm-types`, body: customType('brand'), code: 'conflict' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/alarm-types/{id}', as: 'anna@vasaskolan.example',
    crossOrg: (f) => ({ url: `/api/v1/alarm-types/${f.customTypeId}`, nonexistent: { url: `/api/v1/alarm-types/${uuid()}` } }),
    badInput: () => [{ url: '/api/v1/alarm-types/brand', code: 'validation_failed' }],
  },
  {
    method: 'PATCH', path: '/api/v1/alarm-types/{id}', as: 'admin@utbildning.example',
    crossOrg: (f) => ({
      url: `/api/v1/alarm-types/${f.customTypeId}`, body: { archived: true },
      nonexistent: { url: `/api/v1/alarm-types/${uuid()}`, body: { archived: true } },
    }),
    badInput: (f) => [
      { url: `/api/v1/alarm-types/${f.customTypeId}`, body: { precedence: 5000 }, code: 'validation_failed' },
      { url: `/api/v1/alarm-types/${f.ids.alarmType.brand}`, body: { sound: 'silent' }, code: 'builtin_immutable' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/sites/{siteId}/alarm-groups', as: 'rektor@vasaskolan.example',
    crossOrg: (f) => ({ url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-groups`, nonexistent: { url: `/api/v1/sites/${uuid()}/alarm-groups` } }),
    badInput: () => [{ url: '/api/v1/sites/x/alarm-groups', code: 'validation_failed' }],
  },
  {
    method: 'POST', path: '/api/v1/sites/{siteId}/alarm-groups', as: 'rektor@vasaskolan.example',
    crossOrg: (f) => ({
      url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-groups`, body: { name: 'Intrång' },
      nonexistent: { url: `/api/v1/sites/${uuid()}/alarm-groups`, body: { name: 'Intrång' } },
    }),
    badInput: (f) => [
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-groups`, body: { name: '' }, code: 'validation_failed' },
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-groups`, body: { name: 'All personal' }, code: 'conflict' },
      {
        url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-groups`,
        body: { name: 'Med främling', memberIds: [f.ids.person['lisa@biblioteket.example']] },
        code: 'invalid_reference',
      },
    ],
  },
  ...groupEndpoint('GET', '/api/v1/alarm-groups/{id}', '', undefined, () => [
    { url: '/api/v1/alarm-groups/not-a-group', code: 'validation_failed' },
  ]),
  ...groupEndpoint('PATCH', '/api/v1/alarm-groups/{id}', '', { name: 'Stulen' }, (f) => [
    { url: `/api/v1/alarm-groups/${f.ids.group.vasaAll}`, body: { siteId: f.ids.site.solrosen }, code: 'validation_failed' },
    { url: `/api/v1/alarm-groups/${f.ids.group.vasaAll}`, body: { name: 'Krisgrupp' }, code: 'conflict' },
  ]),
  ...groupEndpoint('DELETE', '/api/v1/alarm-groups/{id}', '', undefined, () => [
    { url: '/api/v1/alarm-groups/00000000', code: 'validation_failed' },
  ]),
  ...groupEndpoint('PUT', '/api/v1/alarm-groups/{id}/members', '/members', { personIds: [] }, (f) => [
    { url: `/api/v1/alarm-groups/${f.ids.group.vasaAll}/members`, body: { personIds: ['x'] }, code: 'validation_failed' },
    { url: `/api/v1/alarm-groups/${f.ids.group.vasaAll}/members`, body: { personIds: [f.ids.person['lisa@biblioteket.example']] }, code: 'invalid_reference' },
  ]),
  ...groupEndpoint('PUT', '/api/v1/alarm-groups/{id}/alarm-types', '/alarm-types', { alarmTypes: [] }, (f) => [
    { url: `/api/v1/alarm-groups/${f.ids.group.vasaAll}/alarm-types`, body: { alarmTypes: [{ alarmTypeId: f.ids.alarmType.brand, receives: 'yes', mayRaise: true }] }, code: 'validation_failed' },
    { url: `/api/v1/alarm-groups/${f.ids.group.vasaAll}/alarm-types`, body: { alarmTypes: [{ alarmTypeId: uuid(), receives: true, mayRaise: true }] }, code: 'invalid_reference' },
  ]),
  ...groupEndpoint('PUT', '/api/v1/alarm-groups/{id}/escalation-contacts', '/escalation-contacts', { contacts: [] }, (f) => [
    { url: `/api/v1/alarm-groups/${f.ids.group.vasaAll}/escalation-contacts`, body: { contacts: [{ name: 'Utan nummer' }] }, code: 'validation_failed' },
    { url: `/api/v1/alarm-groups/${f.ids.group.vasaAll}/escalation-contacts`, body: { contacts: [{ personId: f.ids.person['lisa@biblioteket.example'] }] }, code: 'invalid_reference' },
  ]),
  {
    method: 'POST', path: '/api/v1/alarms', as: 'anna@vasaskolan.example',
    crossOrg: (f) => {
      const body = { pressId: uuid(), siteId: f.ids.site.vasaskolan, alarmTypeId: f.ids.alarmType.brand, confirmContradiction: true };
      return { url: '/api/v1/alarms', body, nonexistent: { url: '/api/v1/alarms', body: { ...body, pressId: uuid(), siteId: uuid() } } };
    },
    badInput: (f) => [
      { url: '/api/v1/alarms', body: { siteId: f.ids.site.vasaskolan, alarmTypeId: f.ids.alarmType.brand }, code: 'validation_failed' },
      { url: '/api/v1/alarms', body: { pressId: 'press-1', siteId: f.ids.site.vasaskolan, alarmTypeId: f.ids.alarmType.brand }, code: 'validation_failed' },
      { url: '/api/v1/alarms', body: { pressId: uuid(), siteId: f.ids.site.vasaskolan, alarmTypeId: uuid() }, code: 'invalid_reference' },
      { url: '/api/v1/alarms', body: { pressId: uuid(), siteId: f.ids.site.vasaskolan, alarmTypeId: f.ids.alarmType.brand }, code: 'contradicts_instruction' },
      { url: '/api/v1/alarms', body: { pressId: uuid(), siteId: f.ids.site.vasaskolan, alarmTypeId: f.ids.alarmType.inrymning, drill: true }, code: 'forbidden' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/incidents', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "lists only the caller's own organisation's incidents (asserted in alarms.test.ts)" },
    badInput: () => [
      { url: '/api/v1/incidents?state=gone', code: 'validation_failed' },
      { url: '/api/v1/incidents?limit=1000', code: 'validation_failed' },
    ],
  },
  ...incidentEndpoint('GET', '', undefined, () => [{ url: '/api/v1/incidents/123', code: 'validation_failed' }]),
  ...incidentEndpoint('GET', '/timeline', undefined, (f) => [
    { url: '/api/v1/incidents/abc/timeline', code: 'validation_failed' },
    { url: `/api/v1/incidents/${f.incidentId}/timeline?types=raised,nonsense`, code: 'validation_failed' },
    { url: `/api/v1/incidents/${f.incidentId}/timeline?types=`, code: 'validation_failed' },
  ]),
  ...incidentEndpoint('GET', '/rollcall', undefined, (f) => [{ url: `/api/v1/incidents/${f.incidentId}/rollcall?x=1`, code: 'forbidden' }], 'anna@vasaskolan.example'),
  ...incidentEndpoint('POST', '/responses', { status: 'safe' }, (f) => [
    { url: `/api/v1/incidents/${f.incidentId}/responses`, body: { status: 'fine' }, code: 'validation_failed' },
    { url: `/api/v1/incidents/${f.incidentId}/responses`, body: { status: 'safe', extra: 1 }, code: 'validation_failed' },
  ], 'anna@vasaskolan.example'),
  ...incidentEndpoint('POST', '/messages', { kind: 'instruction', body: 'Lämna byggnaden' }, (f) => [
    { url: `/api/v1/incidents/${f.incidentId}/messages`, body: { kind: 'instruction', body: '' }, code: 'validation_failed' },
    { url: `/api/v1/incidents/${f.incidentId}/messages`, body: { kind: 'shout', body: 'Hej' }, code: 'validation_failed' },
  ]),
  ...incidentEndpoint('POST', '/resolve', {}, (f) => [
    { url: `/api/v1/incidents/${f.incidentId}/resolve`, body: { note: 5 }, code: 'validation_failed' },
  ]),
  ...incidentEndpoint('POST', '/cancel', { reason: 'Falsklarm' }, (f) => [
    { url: `/api/v1/incidents/${f.incidentId}/cancel`, body: {}, code: 'validation_failed' },
    { url: `/api/v1/incidents/${f.incidentId}/cancel`, body: { reason: '   ' }, code: 'validation_failed' },
  ]),
  ...incidentEndpoint('POST', '/receipts', { kind: 'delivered', deviceId: 'contract-device-1' }, (f) => [
    { url: `/api/v1/incidents/${f.incidentId}/receipts`, body: { kind: 'seen', deviceId: 'contract-device-1' }, code: 'validation_failed' },
    { url: `/api/v1/incidents/${f.incidentId}/receipts`, body: { kind: 'delivered', deviceId: 'x' }, code: 'validation_failed' },
  ], 'anna@vasaskolan.example'),
  {
    method: 'GET', path: '/api/v1/push/config', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "the server's public VAPID key; no organisation's data" },
    badInput: { notApplicable: 'takes no input' },
  },
  {
    method: 'PUT', path: '/api/v1/me/device/push-subscription', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "registers the caller's own device only" },
    badInput: () => {
      const keys = { p256dh: `B${'A'.repeat(86)}`, auth: 'A'.repeat(22) };
      const url = '/api/v1/me/device/push-subscription';
      return [
        { url, body: { endpoint: 'http://169.254.169.254/latest/meta-data/', keys }, code: 'push_endpoint_not_allowed' },
        { url, body: { endpoint: 'https://169.254.169.254/push', keys }, code: 'push_endpoint_not_allowed' },
        { url, body: { endpoint: 'https://push.example.org/send/1', keys }, code: 'push_endpoint_not_allowed' },
        { url, body: { endpoint: 'https://fcm.googleapis.com/fcm/send/1' }, code: 'validation_failed' },
        { url, body: { endpoint: 'https://fcm.googleapis.com/fcm/send/1', keys: { p256dh: 'AAAA', auth: keys.auth } }, code: 'validation_failed' },
      ];
    },
  },
  {
    method: 'DELETE', path: '/api/v1/me/device/push-subscription', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "removes the caller's own device's subscription only" },
    badInput: { notApplicable: 'takes no input' },
  },
  {
    method: 'GET', path: '/api/v1/me/device', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "the caller's own device only" },
    badInput: { notApplicable: 'takes no input' },
  },
  {
    method: 'PUT', path: '/api/v1/me/device/status', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "the caller's own device only" },
    badInput: () => [
      { url: '/api/v1/me/device/status', body: { pushPermission: 'maybe', standalone: true, platform: 'iOS' }, code: 'validation_failed' },
      { url: '/api/v1/me/device/status', body: { pushPermission: 'granted', platform: 'iOS' }, code: 'validation_failed' },
    ],
  },
  {
    method: 'POST', path: '/api/v1/me/device/test-push', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "pushes to the caller's own device only" },
    badInput: () => [{ url: '/api/v1/me/device/test-push', code: 'no_push_subscription' }],
  },
  {
    method: 'GET', path: '/api/v1/sites/{siteId}/device-health', as: 'rektor@vasaskolan.example',
    crossOrg: (f) => ({ url: `/api/v1/sites/${f.ids.site.vasaskolan}/device-health`, nonexistent: { url: `/api/v1/sites/${uuid()}/device-health` } }),
    badInput: () => [{ url: '/api/v1/sites/vasaskolan/device-health', code: 'validation_failed' }],
  },
  {
    method: 'GET', path: '/api/v1/sites/{siteId}/alarm-types', as: 'anna@vasaskolan.example',
    crossOrg: (f) => ({ url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-types`, nonexistent: { url: `/api/v1/sites/${uuid()}/alarm-types` } }),
    badInput: () => [{ url: '/api/v1/sites/skolan/alarm-types', code: 'validation_failed' }],
  },
  {
    method: 'GET', path: '/api/v1/sites/{siteId}/instruction', as: 'anna@vasaskolan.example',
    crossOrg: (f) => ({ url: `/api/v1/sites/${f.ids.site.vasaskolan}/instruction`, nonexistent: { url: `/api/v1/sites/${uuid()}/instruction` } }),
    badInput: () => [{ url: '/api/v1/sites/skolan/instruction', code: 'validation_failed' }],
  },
  // Links between organisations (docs/linking.md). The other organisation here is the demo link's partner:
  // it may see the demo link, never a link of Utbildningsförvaltningen's with a third organisation.
  {
    method: 'GET', path: '/api/v1/organisations/{organisationId}/links', as: 'admin@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/organisations/${f.ids.org.utbildning}/links`, nonexistent: { url: `/api/v1/organisations/${uuid()}/links` } }),
    badInput: () => [{ url: '/api/v1/organisations/utbildning/links', code: 'validation_failed' }],
  },
  {
    method: 'POST', path: '/api/v1/organisations/{organisationId}/links', as: 'admin@utbildning.example',
    crossOrg: (f) => {
      const body = linkProposal(f, f.ids.site.vasaskolan);
      return { url: `/api/v1/organisations/${f.ids.org.utbildning}/links`, body, nonexistent: { url: `/api/v1/organisations/${uuid()}/links`, body } };
    },
    badInput: (f) => [
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/links`, body: { ...linkProposal(f, f.ids.site.vasaskolan), pairs: [] }, code: 'validation_failed' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/links`, body: linkProposal(f, f.ids.site.biblioteket), code: 'invalid_reference' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/links`, body: { ...linkProposal(f, f.ids.site.vasaskolan), outgoingAlarmTypeIds: [] }, code: 'validation_failed' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/link-partners', as: 'admin@utbildning.example',
    crossOrg: { notApplicable: "names and sites of the other organisations one could link to, for the caller's own admins (asserted in links.test.ts)" },
    badInput: { notApplicable: 'takes no input' },
  },
  ...linkEndpoint('GET', '', undefined, () => [{ url: '/api/v1/links/demo', code: 'validation_failed' }]),
  ...linkEndpoint('POST', '/accept', { receivingGroups: [] }, (f) => [
    { url: `/api/v1/links/${f.thirdLinkId}/accept`, body: { receivingGroups: 'all' }, code: 'validation_failed' },
    { url: `/api/v1/links/${f.thirdLinkId}/accept`, body: { receivingGroups: [] }, code: 'forbidden' },
  ]),
  ...['/decline', '/suspend', '/resume', '/revoke'].flatMap((suffix) => linkEndpoint('POST', suffix, {}, (f) => [
    { url: `/api/v1/links/${f.thirdLinkId}${suffix}`, body: { reason: 5 }, code: 'validation_failed' },
  ])),
  ...linkEndpoint('POST', '/test', {}, (f) => [
    { url: `/api/v1/links/${f.thirdLinkId}/test`, body: { alarmTypeId: 'brand' }, code: 'validation_failed' },
    { url: `/api/v1/links/${f.thirdLinkId}/test`, body: {}, code: 'link_status_conflict' },
  ]),
  {
    method: 'GET', path: '/api/v1/sites/{siteId}/link-reach', as: 'anna@vasaskolan.example',
    crossOrg: (f) => ({ url: `/api/v1/sites/${f.ids.site.vasaskolan}/link-reach`, nonexistent: { url: `/api/v1/sites/${uuid()}/link-reach` } }),
    badInput: () => [{ url: '/api/v1/sites/skolan/link-reach', code: 'validation_failed' }],
  },
  {
    method: 'GET', path: '/api/v1/sites/{siteId}/held-link-alarms', as: 'kris@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/sites/${f.ids.site.vasaskolan}/held-link-alarms`, nonexistent: { url: `/api/v1/sites/${uuid()}/held-link-alarms` } }),
    badInput: () => [{ url: '/api/v1/sites/skolan/held-link-alarms', code: 'validation_failed' }],
  },
  {
    method: 'POST', path: '/api/v1/link-crossings/{id}/confirm', as: 'kris@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/link-crossings/${f.heldCrossingId}/confirm`, nonexistent: { url: `/api/v1/link-crossings/${uuid()}/confirm` } }),
    badInput: () => [{ url: '/api/v1/link-crossings/held/confirm', code: 'validation_failed' }],
  },
  {
    method: 'POST', path: '/api/v1/link-crossings/{id}/dismiss', as: 'kris@utbildning.example',
    crossOrg: (f) => ({
      url: `/api/v1/link-crossings/${f.heldCrossingId}/dismiss`, body: {}, nonexistent: { url: `/api/v1/link-crossings/${uuid()}/dismiss`, body: {} },
    }),
    badInput: (f) => [{ url: `/api/v1/link-crossings/${f.heldCrossingId}/dismiss`, body: { reason: ['x'] }, code: 'validation_failed' }],
  },
  {
    method: 'GET', path: '/api/v1/organisations/{organisationId}/audit-log', as: 'admin@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/organisations/${f.ids.org.utbildning}/audit-log`, nonexistent: { url: `/api/v1/organisations/${uuid()}/audit-log` } }),
    badInput: (f) => [
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/audit-log?limit=0`, code: 'validation_failed' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/audit-log?before=abc`, code: 'validation_failed' },
    ],
  },
  // Post-incident review (src/modules/review).
  ...incidentEndpoint('GET', '/review', undefined, (f) => [
    { url: '/api/v1/incidents/not-a-uuid/review', code: 'validation_failed' },
    { url: `/api/v1/incidents/${f.incidentId}/review?lang=de`, code: 'validation_failed' },
  ]),
  ...incidentEndpoint('GET', '/review/record', undefined, () => [{ url: '/api/v1/incidents/x/review/record', code: 'validation_failed' }]),
  ...incidentEndpoint('PUT', '/review/record', { baseRevision: 0, status: 'open', record: REVIEW_RECORD }, (f) => [
    { url: `/api/v1/incidents/${f.incidentId}/review/record`, body: { baseRevision: 0, status: 'open' }, code: 'validation_failed' },
    { url: `/api/v1/incidents/${f.incidentId}/review/record`, body: { baseRevision: 0, status: 'done', record: REVIEW_RECORD }, code: 'validation_failed' },
    { url: `/api/v1/incidents/${f.incidentId}/review/record`, body: { baseRevision: 0, status: 'open', record: { ...REVIEW_RECORD, extra: 1 } }, code: 'validation_failed' },
    { url: `/api/v1/incidents/${f.incidentId}/review/record`, body: { baseRevision: 7, status: 'open', record: REVIEW_RECORD }, code: 'review_stale' },
    { url: `/api/v1/incidents/${f.incidentId}/review/record`, body: { baseRevision: 0, status: 'closed', record: REVIEW_RECORD }, code: 'validation_failed' },
  ]),
  {
    method: 'GET', path: '/api/v1/incidents/{id}/export/{format}', as: 'kris@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/incidents/${f.incidentId}/export/json`, nonexistent: { url: `/api/v1/incidents/${uuid()}/export/json` } }),
    badInput: (f) => [
      { url: `/api/v1/incidents/${f.incidentId}/export/xlsx`, code: 'validation_failed' },
      { url: `/api/v1/incidents/${f.incidentId}/export/csv?table=people`, code: 'validation_failed' },
      { url: `/api/v1/incidents/${f.incidentId}/export/csv?separator=pipe`, code: 'validation_failed' },
      { url: `/api/v1/incidents/${f.incidentId}/export/cap?message=0`, code: 'validation_failed' },
      { url: `/api/v1/incidents/${f.incidentId}/export/cap?message=99`, code: 'validation_failed' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/organisations/{organisationId}/statistics', as: 'admin@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/organisations/${f.ids.org.utbildning}/statistics`, nonexistent: { url: `/api/v1/organisations/${uuid()}/statistics` } }),
    badInput: (f) => [
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/statistics?from=yesterday`, code: 'validation_failed' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/statistics?siteId=skolan`, code: 'validation_failed' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/statistics?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z`, code: 'validation_failed' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/statistics?siteId=${f.ids.site.biblioteket}`, code: 'invalid_reference' },
    ],
  },
  // Personal data and retention (docs/PRIVACY.md).
  {
    method: 'GET', path: '/api/v1/me/export', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "the caller's own data only (asserted across organisations in privacy-export.test.ts)" },
    badInput: { notApplicable: 'takes no input' },
  },
  {
    method: 'GET', path: '/api/v1/people/{id}/export', as: 'admin@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/people/${f.ids.person['anna@vasaskolan.example']}/export`, nonexistent: { url: `/api/v1/people/${uuid()}/export` } }),
    badInput: () => [{ url: '/api/v1/people/anna/export', code: 'validation_failed' }],
  },
  {
    method: 'POST', path: '/api/v1/people/{id}/erase', as: 'admin@utbildning.example',
    // Anna: in the fixture's active lockdown, so even a fuzzed body that happens to be valid erases no one (409).
    crossOrg: (f) => ({
      url: `/api/v1/people/${f.ids.person['anna@vasaskolan.example']}/erase`, body: { reason: 'Intrång' },
      nonexistent: { url: `/api/v1/people/${uuid()}/erase`, body: { reason: 'Intrång' } },
    }),
    badInput: (f) => [
      { url: `/api/v1/people/${f.ids.person['bertil@vasaskolan.example']}/erase`, body: {}, code: 'validation_failed' },
      { url: `/api/v1/people/${f.ids.person['bertil@vasaskolan.example']}/erase`, body: { reason: ' ' }, code: 'validation_failed' },
      { url: '/api/v1/people/bertil/erase', body: { reason: 'Begäran' }, code: 'validation_failed' },
      // Anna raised the fixture's lockdown, which is still active.
      { url: `/api/v1/people/${f.ids.person['anna@vasaskolan.example']}/erase`, body: { reason: 'Begäran' }, code: 'conflict' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/organisations/{organisationId}/retention', as: 'admin@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/organisations/${f.ids.org.utbildning}/retention`, nonexistent: { url: `/api/v1/organisations/${uuid()}/retention` } }),
    badInput: () => [{ url: '/api/v1/organisations/utbildning/retention', code: 'validation_failed' }],
  },
  {
    method: 'PUT', path: '/api/v1/organisations/{organisationId}/retention', as: 'admin@utbildning.example',
    crossOrg: (f) => ({
      url: `/api/v1/organisations/${f.ids.org.utbildning}/retention`, body: { incidents: { keep: 'years', years: 1 } },
      nonexistent: { url: `/api/v1/organisations/${uuid()}/retention`, body: { incidents: { keep: 'years', years: 1 } } },
    }),
    badInput: (f) => [
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/retention`, body: { incidents: { keep: 'years' } }, code: 'validation_failed' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/retention`, body: { incidents: { keep: 'never' } }, code: 'validation_failed' },
      { url: `/api/v1/organisations/${f.ids.org.utbildning}/retention`, body: { incidents: { keep: 'years', years: 101 } }, code: 'validation_failed' },
    ],
  },
  // Administration (issue 12).
  {
    method: 'GET', path: '/api/v1/auth/sign-in-failures', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: "failed sign-ins with the caller's own address only" },
    badInput: { notApplicable: 'takes no input' },
  },
  {
    method: 'POST', path: '/api/v1/organisations/{organisationId}/people/import', as: 'admin@utbildning.example',
    crossOrg: (f) => {
      const csv = { body: 'email,name\nintrang@kultur.example,Intrång\n', headers: { 'content-type': 'text/csv' } };
      return {
        url: `/api/v1/organisations/${f.ids.org.utbildning}/people/import?dryRun=false`, ...csv,
        nonexistent: { url: `/api/v1/organisations/${uuid()}/people/import?dryRun=false`, ...csv },
      };
    },
    badInput: (f) => {
      const url = `/api/v1/organisations/${f.ids.org.utbildning}/people/import?dryRun=false`;
      const csv = { 'content-type': 'text/csv' };
      return [
        { url, body: 'namn\nAnna\n', headers: csv, code: 'csv_invalid' },
        { url, body: '', headers: csv, code: 'csv_invalid' },
        { url: `/api/v1/organisations/${f.ids.org.utbildning}/people/import?dryRun=maybe`, body: 'email,name\n', headers: csv, code: 'validation_failed' },
        { url, body: '{"email":"x@x.example"}', code: 'validation_failed' },
      ];
    },
  },
  {
    method: 'POST', path: '/api/v1/people/{id}/access-link', as: 'admin@utbildning.example',
    crossOrg: (f) => ({
      url: `/api/v1/people/${f.ids.person['anna@vasaskolan.example']}/access-link`, body: { purpose: 'reset' },
      nonexistent: { url: `/api/v1/people/${uuid()}/access-link`, body: { purpose: 'reset' } },
    }),
    badInput: (f) => [
      { url: `/api/v1/people/${f.ids.person['anna@vasaskolan.example']}/access-link`, body: { purpose: 'password' }, code: 'validation_failed' },
      { url: `/api/v1/people/${f.ids.person['anna@vasaskolan.example']}/access-link`, body: {}, code: 'validation_failed' },
      { url: `/api/v1/people/${f.ids.person['lisa@biblioteket.example']}/access-link`, body: { purpose: 'invite' }, code: 'not_found' },
    ],
  },
  {
    method: 'POST', path: '/api/v1/access-links/inspect', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: 'public; the link itself says whose it is, and an unknown or used one says nothing' },
    badInput: () => [
      { url: '/api/v1/access-links/inspect', body: { token: 'al_unknown-token-that-is-long-enough-to-look-real-xxx' }, code: 'link_invalid' },
      { url: '/api/v1/access-links/inspect', body: { token: 'no spaces allowed' }, code: 'validation_failed' },
    ],
  },
  {
    method: 'POST', path: '/api/v1/access-links/redeem', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: 'public; acts only on the person the link was made for' },
    badInput: () => [
      { url: '/api/v1/access-links/redeem', body: { token: 'al_unknown-token-that-is-long-enough-to-look-real-xxx', password: 'ett-langt-losenord' }, code: 'link_invalid' },
      { url: '/api/v1/access-links/redeem', body: { token: 'al_x', password: 'kort' }, code: 'validation_failed' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/sites/{siteId}/alarm-instructions', as: 'anna@vasaskolan.example',
    crossOrg: (f) => ({ url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-instructions`, nonexistent: { url: `/api/v1/sites/${uuid()}/alarm-instructions` } }),
    badInput: () => [{ url: '/api/v1/sites/skolan/alarm-instructions', code: 'validation_failed' }],
  },
  {
    method: 'PUT', path: '/api/v1/sites/{siteId}/alarm-instructions/{alarmTypeId}', as: 'rektor@vasaskolan.example',
    crossOrg: (f) => {
      const body = { sv: 'Stulen', en: 'Stolen' };
      return {
        url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-instructions/${f.ids.alarmType.brand}`, body,
        nonexistent: { url: `/api/v1/sites/${uuid()}/alarm-instructions/${f.ids.alarmType.brand}`, body },
      };
    },
    badInput: (f) => [
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-instructions/${f.ids.alarmType.brand}`, body: { sv: 'Bara svenska' }, code: 'validation_failed' },
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-instructions/${uuid()}`, body: { sv: 'x', en: 'x' }, code: 'invalid_reference' },
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-instructions/${f.customTypeId}`, body: { sv: '   ', en: 'x' }, code: 'validation_failed' },
    ],
  },
  {
    method: 'DELETE', path: '/api/v1/sites/{siteId}/alarm-instructions/{alarmTypeId}', as: 'rektor@vasaskolan.example',
    crossOrg: (f) => ({
      url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-instructions/${f.ids.alarmType.brand}`,
      nonexistent: { url: `/api/v1/sites/${uuid()}/alarm-instructions/${f.ids.alarmType.brand}` },
    }),
    badInput: (f) => [
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-instructions/brand`, code: 'validation_failed' },
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}/alarm-instructions/${uuid()}`, code: 'invalid_reference' },
    ],
  },
  {
    method: 'DELETE', path: '/api/v1/sites/{siteId}/devices/{sessionId}', as: 'rektor@vasaskolan.example',
    crossOrg: (f) => ({
      url: `/api/v1/sites/${f.ids.site.vasaskolan}/devices/${f.rektorSessionId}`,
      nonexistent: { url: `/api/v1/sites/${uuid()}/devices/${f.rektorSessionId}` },
    }),
    badInput: (f) => [
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}/devices/not-a-session`, code: 'validation_failed' },
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}/devices/${uuid()}`, code: 'not_found' },
    ],
  },
  {
    method: 'POST', path: '/api/v1/sites/{siteId}/device-reminders', as: 'rektor@vasaskolan.example',
    crossOrg: (f) => {
      const body = { personIds: [f.ids.person['anna@vasaskolan.example']] };
      return { url: `/api/v1/sites/${f.ids.site.vasaskolan}/device-reminders`, body, nonexistent: { url: `/api/v1/sites/${uuid()}/device-reminders`, body } };
    },
    badInput: (f) => [
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}/device-reminders`, body: { personIds: [] }, code: 'validation_failed' },
      { url: `/api/v1/sites/${f.ids.site.vasaskolan}/device-reminders`, body: { personIds: [f.ids.person['lisa@biblioteket.example']] }, code: 'invalid_reference' },
    ],
  },
  {
    method: 'POST', path: '/api/v1/sms/reports', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: 'the SMS gateway\'s, authenticated by SMS_REPORT_TOKEN: no person of any organisation can call it (401, test/sms-when-no-push.test.ts)' },
    badInput: () => {
      const headers = { authorization: `Bearer ${SMS_REPORT_TOKEN}` };
      return [
        { url: '/api/v1/sms/reports', headers, body: { reference: '1', status: 'read' }, code: 'validation_failed' },
        { url: '/api/v1/sms/reports', headers, body: { reference: '-1', status: 'delivered' }, code: 'validation_failed' },
        { url: '/api/v1/sms/reports', headers, body: { reference: '1', status: 'delivered', extra: true }, code: 'validation_failed' },
        { url: '/api/v1/sms/reports', headers, body: { reference: '987654321', status: 'delivered' }, code: 'not_found' },
        { url: '/api/v1/sms/reports', body: { reference: '1', status: 'delivered' }, code: 'unauthenticated' },
      ];
    },
  },
  {
    method: 'GET', path: '/api/v1/auth/oidc/providers', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: 'public: the sign-in page\'s buttons, the names of organisations with their own sign-in' },
    badInput: { notApplicable: 'takes no input' },
  },
  {
    method: 'GET', path: '/api/v1/auth/oidc/{organisationId}/start', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: 'public: a redirect to the organisation\'s own provider (test/e2e/oidc.test.ts)' },
    badInput: (f) => [
      { url: '/api/v1/auth/oidc/utbildning/start', code: 'validation_failed' },
      { url: `/api/v1/auth/oidc/${f.ids.org.utbildning}/start?kind=tablet`, code: 'validation_failed' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/auth/oidc/callback', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: 'public: the provider\'s answer to a sign-in this service started (test/e2e/oidc.test.ts)' },
    badInput: () => [{ url: `/api/v1/auth/oidc/callback?state=${'x'.repeat(600)}`, code: 'validation_failed' }],
  },
  {
    method: 'POST', path: '/api/v1/auth/oidc/complete', as: 'anna@vasaskolan.example',
    crossOrg: { notApplicable: 'public: exchanges a one-time handoff for a session' },
    badInput: () => [
      { url: '/api/v1/auth/oidc/complete', body: {}, code: 'validation_failed' },
      { url: '/api/v1/auth/oidc/complete', body: { handoff: 'unknown-handoff' }, code: 'oidc_state_invalid' },
    ],
  },
  {
    method: 'GET', path: '/api/v1/organisations/{organisationId}/sign-in', as: 'admin@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/organisations/${f.ids.org.utbildning}/sign-in`, nonexistent: { url: `/api/v1/organisations/${uuid()}/sign-in` } }),
    badInput: () => [{ url: '/api/v1/organisations/utbildning/sign-in', code: 'validation_failed' }],
  },
  {
    method: 'PUT', path: '/api/v1/organisations/{organisationId}/sign-in', as: 'admin@utbildning.example',
    crossOrg: (f) => {
      const body = { passwordSignIn: true, oidc: { enabled: false, issuer: null, clientId: null, createAccounts: false } };
      return { url: `/api/v1/organisations/${f.ids.org.utbildning}/sign-in`, body, nonexistent: { url: `/api/v1/organisations/${uuid()}/sign-in`, body } };
    },
    badInput: (f) => {
      const url = `/api/v1/organisations/${f.ids.org.utbildning}/sign-in`;
      const oidc = { enabled: true, issuer: 'https://login.kommun.example', clientId: 'samlarm', clientSecret: 'hemligt', createAccounts: false };
      return [
        { url, body: { passwordSignIn: true, oidc: { ...oidc, issuer: 'http://login.kommun.example' } }, code: 'validation_failed' },
        { url, body: { passwordSignIn: true, oidc: { ...oidc, clientSecret: undefined } }, code: 'validation_failed' },
        { url, body: { passwordSignIn: false, oidc: { ...oidc, enabled: false } }, code: 'validation_failed' },
        { url, body: { passwordSignIn: true }, code: 'validation_failed' },
      ];
    },
  },
];

function customType(key: string) {
  return {
    key,
    label: { sv: 'Medicinskt larm', en: 'Medical emergency' },
    instruction: { sv: 'Ring 112 och hämta hjärtstartaren.', en: 'Call 112 and fetch the defibrillator.' },
    colour: '#1565c0', icon: 'heart', sound: 'loud', precedence: 50,
    cap: { category: 'Health', event: 'Medicinskt larm', responseType: 'Execute', severity: 'Severe', urgency: 'Immediate' },
  };
}

function incidentEndpoint(
  method: Method, suffix: string, body: unknown, badInput: Endpoint['badInput'], as = 'kris@utbildning.example',
): Endpoint[] {
  return [{
    method, path: `/api/v1/incidents/{id}${suffix}`, as,
    crossOrg: (f) => ({
      url: `/api/v1/incidents/${f.incidentId}${suffix}`, body,
      nonexistent: { url: `/api/v1/incidents/${uuid()}${suffix}`, body },
    }),
    badInput,
  }];
}

/** A proposal from Utbildningsförvaltningen (at one of its sites, or another to forge) to Kulturförvaltningen. */
function linkProposal(f: Fixture, ownSiteId: string) {
  return {
    partnerOrganisationId: f.ids.org.kultur, pairs: [{ siteId: ownSiteId, partnerSiteId: f.ids.site.biblioteket }],
    outgoingAlarmTypeIds: [f.ids.alarmType.hot], incomingAlarmTypeIds: [],
  };
}

function linkEndpoint(method: Method, suffix: string, body: unknown, badInput: Endpoint['badInput']): Endpoint[] {
  return [{
    method, path: `/api/v1/links/{id}${suffix}`, as: 'admin@utbildning.example',
    crossOrg: (f) => ({ url: `/api/v1/links/${f.thirdLinkId}${suffix}`, body, nonexistent: { url: `/api/v1/links/${uuid()}${suffix}`, body } }),
    badInput,
  }];
}

function groupEndpoint(
  method: Method, path: string, suffix: string, body: unknown, badInput: Endpoint['badInput'],
): Endpoint[] {
  return [{
    method, path, as: 'rektor@vasaskolan.example',
    crossOrg: (f) => ({
      url: `/api/v1/alarm-groups/${f.ids.group.vasaAll}${suffix}`, body,
      nonexistent: { url: `/api/v1/alarm-groups/${uuid()}${suffix}`, body },
    }),
    badInput,
  }];
}

describe('API contract over every endpoint', () => {
  let t: TestApp;
  let f: Fixture;
  const tokens = new Map<string, string>();
  const tokenOf = async (email: string) => {
    const existing = tokens.get(email);
    if (existing) return existing;
    const token = await t.login(email);
    tokens.set(email, token);
    return token;
  };

  beforeAll(async () => {
    t = await startApp({ SMS_REPORT_TOKEN });
    await seedDemoLinks(t.db);
    const admin = await tokenOf('admin@utbildning.example');
    const created = await t.request({
      method: 'POST', url: `/api/v1/organisations/${t.ids.org.utbildning}/alarm-types`, token: admin, body: customType('medicinskt'),
    });
    expect(created.status).toBe(201);
    await tokenOf('rektor@vasaskolan.example');
    const rektorSession = (await t.db.query<{ id: string }>(
      'SELECT s.id FROM sessions s JOIN people p ON p.id = s.person_id WHERE p.email = $1', ['rektor@vasaskolan.example'],
    )).rows[0];
    if (!rektorSession) throw new Error('the rektor has no session');
    const lockdown = await t.request({
      method: 'POST', url: '/api/v1/alarms', token: await tokenOf('anna@vasaskolan.example'),
      body: { pressId: uuid(), siteId: t.ids.site.vasaskolan, alarmTypeId: t.ids.alarmType.inrymning },
    });
    expect(lockdown.status).toBe(201);
    // A third organisation with a site, to which Utbildningsförvaltningen proposes a link.
    const system = await tokenOf('system@samlarm.example');
    const thirdOrg = await t.request({ method: 'POST', url: '/api/v1/organisations', token: system, body: { name: 'Vasahem AB', kind: 'bolag' } });
    const thirdSite = await t.request({
      method: 'POST', url: `/api/v1/organisations/${thirdOrg.body.id}/sites`, token: system, body: { name: 'Vasahems kontor', kind: 'office' },
    });
    const thirdLink = await t.request({
      method: 'POST', url: `/api/v1/organisations/${t.ids.org.utbildning}/links`, token: admin, body: {
        partnerOrganisationId: thirdOrg.body.id, pairs: [{ siteId: t.ids.site.vasaskolan, partnerSiteId: thirdSite.body.id }],
        outgoingAlarmTypeIds: [t.ids.alarmType.brand], incomingAlarmTypeIds: [],
      },
    });
    expect(thirdLink.status, JSON.stringify(thirdLink.body)).toBe(201);
    // A fire at the library during Vasaskolan's lockdown crosses the demo link and is held at Vasaskolan.
    const fire = await t.request({
      method: 'POST', url: '/api/v1/alarms', token: await tokenOf('lisa@biblioteket.example'),
      body: { pressId: uuid(), siteId: t.ids.site.biblioteket, alarmTypeId: t.ids.alarmType.brand, confirmContradiction: true },
    });
    expect(fire.status, JSON.stringify(fire.body)).toBe(201);
    const held = (await t.db.query<{ id: string }>("SELECT id FROM link_crossings WHERE source_incident_id = $1 AND state = 'held'", [fire.body.incident.id])).rows[0];
    if (!held) throw new Error('the fire at the library was not held at Vasaskolan');
    f = {
      ids: t.ids, customTypeId: created.body.id, rektorSessionId: rektorSession.id, incidentId: lockdown.body.incident.id,
      thirdLinkId: thirdLink.body.id, heldCrossingId: held.id,
    };
    for (const e of [OTHER_ORG_ADMIN, ...new Set(CATALOGUE.map((c) => c.as))]) await tokenOf(e);
  });
  afterAll(() => t.close());

  const isolated = CATALOGUE.filter((e) => typeof e.crossOrg === 'function');

  it.each(isolated.map((e) => [`${e.method} ${e.path}`, e] as const))(
    '%s: another organisation\'s admin is refused, learns nothing and changes nothing',
    async (_name, endpoint) => {
      const make = endpoint.crossOrg as (f: Fixture) => Call & { nonexistent: Call };
      const call = make(f);
      const token = await tokenOf(OTHER_ORG_ADMIN);
      const before = await t.snapshot();
      const res = await t.request({ method: endpoint.method, url: call.url, token, body: call.body, ...(call.headers ? { headers: call.headers } : {}) });
      const missing = await t.request({
        method: endpoint.method, url: call.nonexistent.url, token, body: call.nonexistent.body,
        ...(call.nonexistent.headers ? { headers: call.nonexistent.headers } : {}),
      });
      expect(await t.snapshot()).toBe(before);
      expect([403, 404]).toContain(res.status);
      expect(res.body).toEqual(missing.body);
      expect(res.status).toBe(missing.status);
    },
  );

  const withBadInput = CATALOGUE.filter((e) => typeof e.badInput === 'function');

  it.each(withBadInput.map((e) => [`${e.method} ${e.path}`, e] as const))(
    '%s: bad input gets a 4xx with a stable code and changes nothing',
    async (_name, endpoint) => {
      const token = await tokenOf(endpoint.as);
      const calls = (endpoint.badInput as (f: Fixture) => (Call & { code: string })[])(f);
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) {
        const before = await t.snapshot();
        const raw = typeof call.body === 'string';
        const res = await t.request({
          method: endpoint.method, url: call.url, token,
          body: call.body, headers: call.headers ?? (raw ? { 'content-type': 'application/json' } : {}),
        });
        expect(await t.snapshot(), `${call.url} changed nothing`).toBe(before);
        expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.body.code).toBe(call.code);
        expect(typeof res.body.message).toBe('string');
      }
    },
  );

  const withBody = CATALOGUE.filter((e) => ['POST', 'PATCH', 'PUT'].includes(e.method) && typeof e.crossOrg === 'function');

  it.each(withBody.map((e) => [`${e.method} ${e.path}`, e] as const))(
    '%s: arbitrary JSON bodies never cause a 5xx, and refused ones change nothing',
    async (_name, endpoint) => {
      const token = await tokenOf(endpoint.as);
      const url = (endpoint.crossOrg as (f: Fixture) => Call)(f).url;
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), async (body) => {
          const before = await t.snapshot();
          const res = await t.request({ method: endpoint.method, url, token, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) {
            expect(typeof res.body.code).toBe('string');
            expect(await t.snapshot()).toBe(before);
          }
        }),
        { numRuns: 15 },
      );
    },
  );

  it('every endpoint in the OpenAPI document is in this catalogue', async () => {
    const doc = await t.request({ method: 'GET', url: '/docs/json' });
    const documented = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(CATALOGUE.map((e) => `${e.method} ${e.path}`).sort()).toEqual(documented);
  });

  it('no answer needs a validator to be written, a raise\'s least of all: every value that may be null carries null in its own type, with no branches to choose', async () => {
    const doc = await t.request({ method: 'GET', url: '/docs/json' });
    const branches: string[] = [];
    const walk = (schema: unknown, at: string): void => {
      if (!schema || typeof schema !== 'object') return;
      for (const [key, value] of Object.entries(schema)) {
        if (key === 'anyOf' || key === 'oneOf' || key === 'if') branches.push(`${at}/${key}`);
        walk(value, `${at}/${key}`);
      }
    };
    const paths = doc.body.paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    expect(Object.keys(paths['/api/v1/alarms']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['200', '201']));
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) walk(response, `${method.toUpperCase()} ${path} ${status}`);
      }
    }
    expect(branches).toEqual([]);
  });

  it('the push key is served without a session, and it is the key pushes are signed with', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/push/config' });
    expect(res.status).toBe(200);
    expect(res.body.vapidPublicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(res.body.vapidPublicKey).toBe(t.app.push.sender().publicKey);
  });

  // Hardening (issue 14): 10,000 nested arrays in 20 KB overflowed the stack of a recursive check: a 500 on every route.
  const DEEP_BODY = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
  const readsBody = (method: Method) => method !== 'GET';

  it.each(CATALOGUE.map((e) => [`${e.method} ${e.path}`, e] as const))(
    '%s: a deeply nested JSON body is refused with 400 json_too_deep and changes nothing',
    async (_name, endpoint) => {
      const token = PUBLIC_PATHS.includes(endpoint.path) ? undefined : await tokenOf(endpoint.as);
      const url = typeof endpoint.crossOrg === 'function' ? endpoint.crossOrg(f).url : endpoint.path;
      const before = await t.snapshot();
      const res = await t.request({ method: endpoint.method, url, token, body: DEEP_BODY, headers: { 'content-type': 'application/json' } });
      if (readsBody(endpoint.method)) {
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.body.code).toBe('json_too_deep');
        expect(await t.snapshot()).toBe(before);
      } else {
        // Fastify never reads a GET's body: the nesting cannot reach anything, and the request is served as
        // without it (an export it serves is audited, as every export is).
        expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
        if (res.status >= 400) expect(await t.snapshot()).toBe(before);
      }
    },
  );

  it('nesting up to the limit is still read as JSON; one level more is refused', async () => {
    const token = await tokenOf('anna@vasaskolan.example');
    const nested = (depth: number) => JSON.stringify({ name: JSON.parse(`${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}`) });
    const atLimit = await t.request({ method: 'PATCH', url: '/api/v1/me', token, body: nested(32), headers: { 'content-type': 'application/json' } });
    expect(atLimit.body.code).toBe('validation_failed');
    const deeper = await t.request({ method: 'PATCH', url: '/api/v1/me', token, body: nested(33), headers: { 'content-type': 'application/json' } });
    expect(deeper.body.code).toBe('json_too_deep');
    const bracketsInText = await t.request({ method: 'PATCH', url: '/api/v1/me', token, body: { name: `Anna ${'[{'.repeat(40)}` } });
    expect(bracketsInText.status).toBe(200);
    await t.request({ method: 'PATCH', url: '/api/v1/me', token, body: { name: 'Anna Andersson' } });
  });

  it('text with a lone UTF-16 surrogate is refused as bad input, not stored as U+FFFD', async () => {
    const token = await tokenOf('anna@vasaskolan.example');
    for (const body of [{ name: 'Anna \ud800' }, { name: 'Anna \udfff x' }, { name: '\ud83d Anna' }]) {
      const before = await t.snapshot();
      // JSON.stringify writes a lone surrogate as a \u escape, as a client would send it.
      const res = await t.request({ method: 'PATCH', url: '/api/v1/me', token, body });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(await t.snapshot()).toBe(before);
    }
    // A surrogate pair is one character (an emoji) and is fine.
    const pair = await t.request({ method: 'PATCH', url: '/api/v1/me', token, body: '{"name":"Anna \\ud83d\\ude00"}', headers: { 'content-type': 'application/json' } });
    expect(pair.status).toBe(200);
    expect(pair.body.name).toBe('Anna \u{1F600}');
    await t.request({ method: 'PATCH', url: '/api/v1/me', token, body: { name: 'Anna Andersson' } });
  });

  it('numbers in query strings are plain decimals: 0x10, 1e1, a blank or padded value is refused, not read as a number', async () => {
    const anna = await tokenOf('anna@vasaskolan.example');
    const admin = await tokenOf('admin@utbildning.example');
    const audit = `/api/v1/organisations/${f.ids.org.utbildning}/audit-log`;
    for (const [url, token] of [
      ['/api/v1/incidents?limit=0x10', anna], ['/api/v1/incidents?limit=1e1', anna], ['/api/v1/incidents?limit=%2016', anna],
      ['/api/v1/incidents?limit=', anna], ['/api/v1/incidents?limit=016', anna], ['/api/v1/incidents?limit=0x10&limit=0x10', anna],
      [`${audit}?limit=0b11`, admin], [`${audit}?limit=10.0`, admin],
    ] as const) {
      const res = await t.request({ method: 'GET', url, token });
      expect(res.status, url).toBe(400);
      expect(res.body.code, url).toBe('validation_failed');
    }
    expect((await t.request({ method: 'GET', url: '/api/v1/incidents?limit=16', token: anna })).status).toBe(200);
    expect((await t.request({ method: 'GET', url: `${audit}?limit=3`, token: admin })).body.entries).toHaveLength(3);
  });

  it('a malformed or over-long URL gets an error of the catalogue that does not echo the URL', async () => {
    const token = await tokenOf('anna@vasaskolan.example');
    const marker = 'echo-me-not';
    // GET paths fall through to the web app's deep links, which answer a parameter too long for any route with 404.
    const cases = [
      { method: 'GET', url: `/api/v1/incidents/${marker}%E0%A4%A`, status: 400, code: 'bad_url' },
      { method: 'POST', url: `/api/v1/incidents/${marker}%/responses`, status: 400, code: 'bad_url' },
      { method: 'POST', url: `/api/v1/incidents/${marker}${'x'.repeat(200)}/responses`, status: 414, code: 'url_too_long' },
      { method: 'DELETE', url: `/api/v1/alarm-groups/${marker}${'x'.repeat(200)}`, status: 414, code: 'url_too_long' },
      { method: 'GET', url: `/api/v1/incidents/${marker}${'x'.repeat(200)}`, status: 404, code: 'not_found' },
    ] as const;
    for (const c of cases) {
      const res = await t.app.inject({ method: c.method, url: c.url, headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode, c.url).toBe(c.status);
      expect(res.json().code, c.url).toBe(c.code);
      expect(typeof res.json().message).toBe('string');
      expect(res.body).not.toContain(marker);
    }
  });

  it('every endpoint but sign-in and the push key refuses a request without a session', async () => {
    for (const endpoint of CATALOGUE.filter((e) => !PUBLIC_PATHS.includes(e.path))) {
      const url = typeof endpoint.crossOrg === 'function' ? endpoint.crossOrg(f).url : endpoint.path;
      const res = await t.request({ method: endpoint.method, url });
      expect(res.status, `${endpoint.method} ${endpoint.path}`).toBe(401);
      expect(res.body.code).toBe('unauthenticated');
    }
  });
});
