import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../src/seed/demo.js';
import { startApp, type Response, type TestApp } from './helpers/app.js';

const ME = '/api/v1/me';
const LOGIN = '/api/v1/auth/login';
const peopleOf = (organisationId: string) => `/api/v1/organisations/${organisationId}/people`;
const personUrl = (id: string) => `/api/v1/people/${id}`;

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

interface Grant {
  role: string;
  siteId: string | null;
}

interface NewPerson {
  name: string;
  email: string;
  siteIds: string[];
  roles: Grant[];
  phone?: string | null;
  language?: 'sv' | 'en';
  password?: string;
}

interface AuditRow {
  action: string;
  actor_person_id: string;
  organisation_id: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

const STAFF: Grant = { role: 'staff', siteId: null };

let t: TestApp;
let admin: string;
let rektor: string;
let anna: string;
let kris: string;
let kulturAdmin: string;
let systemAdmin: string;
let vasa: string;
let solrosen: string;
let biblioteket: string;

beforeAll(async () => {
  t = await startApp();
  admin = await t.login('admin@utbildning.example');
  rektor = await t.login('rektor@vasaskolan.example');
  anna = await t.login('anna@vasaskolan.example');
  kris = await t.login('kris@utbildning.example');
  kulturAdmin = await t.login('admin@kultur.example');
  systemAdmin = await t.login('system@samlarm.example');
  ({ vasaskolan: vasa, solrosen, biblioteket } = t.ids.site);
});
afterAll(() => t.close());

const person = (email: string): string => {
  const id = t.ids.person[email];
  if (!id) throw new Error(`no demo person ${email}`);
  return id;
};

let counter = 0;
/** A new person's details with an address no one else uses. */
function newPerson(overrides: Partial<NewPerson> = {}): NewPerson {
  counter += 1;
  return { name: `Test Testsson ${counter}`, email: `test.${counter}@vasaskolan.example`, siteIds: [vasa], roles: [STAFF], ...overrides };
}

const newPersonWithout = (field: keyof NewPerson): Record<string, unknown> =>
  Object.fromEntries(Object.entries(newPerson()).filter(([key]) => key !== field));

/** Adds a person as the organisation admin of Utbildningsförvaltningen and returns them as the API shows them. */
async function addPerson(overrides: Partial<NewPerson> = {}) {
  const res = await t.request({ method: 'POST', url: peopleOf(t.ids.org.utbildning), token: admin, body: newPerson(overrides) });
  if (res.status !== 201) throw new Error(`adding a person failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; email: string; name: string; siteIds: string[]; roles: Grant[] };
}

const signIn = (email: string, password: string): Promise<Response> =>
  t.request({ method: 'POST', url: LOGIN, body: { email, password } });

async function auditFor(entityId: string, action: string): Promise<AuditRow[]> {
  return (await t.db.query<AuditRow>(
    'SELECT action, actor_person_id, organisation_id, before, after FROM audit_log WHERE entity_id = $1 AND action = $2 ORDER BY id',
    [entityId, action],
  )).rows;
}

/** Sends the request and asserts it is refused with this status and code, and that no table changed. */
async function expectRefusedWithoutChange(
  options: Parameters<TestApp['request']>[0], status: number, code: string,
): Promise<void> {
  const before = await t.snapshot();
  const res = await t.request(options);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.code).toBe(code);
  expect(typeof res.body.message).toBe('string');
  expect(await t.snapshot()).toBe(before);
}

const emailsOf = (res: Response): string[] => (res.body.people as { email: string }[]).map((p) => p.email);

describe('the signed-in person (/me)', () => {
  it('returns the person with their organisation, sites and roles', async () => {
    const res = await t.request({ method: 'GET', url: ME, token: anna });
    expect(res.status).toBe(200);
    expect(res.body.person).toMatchObject({
      id: person('anna@vasaskolan.example'),
      organisationId: t.ids.org.utbildning,
      email: 'anna@vasaskolan.example',
      name: 'Anna Andersson',
      active: true,
      siteIds: [vasa],
      roles: [STAFF],
    });
    expect(res.body.organisation).toEqual({ id: t.ids.org.utbildning, name: 'Utbildningsförvaltningen', kind: 'forvaltning' });
    expect(res.body.sites).toEqual([{ id: vasa, organisationId: t.ids.org.utbildning, name: 'Vasaskolan', kind: 'school' }]);
    expect(JSON.stringify(res.body)).not.toMatch(/password/i);
  });

  it('needs a session', async () => {
    const res = await t.request({ method: 'GET', url: ME });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthenticated');
  });

  it('a person changes their own name, phone and language, and the change is audited with before and after', async () => {
    const token = await t.login('cecilia@vasaskolan.example');
    const id = person('cecilia@vasaskolan.example');
    const res = await t.request({
      method: 'PATCH', url: ME, token, body: { name: 'Cecilia Carlsson-Berg', phone: '+46 70 123 45 67', language: 'sv' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, name: 'Cecilia Carlsson-Berg', phone: '+46 70 123 45 67', language: 'sv', email: 'cecilia@vasaskolan.example' });
    expect((await t.request({ method: 'GET', url: ME, token })).body.person.name).toBe('Cecilia Carlsson-Berg');

    const audit = await auditFor(id, 'person.profile_updated');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_person_id: id,
      organisation_id: t.ids.org.utbildning,
      before: { name: 'Cecilia Carlsson', phone: '+46700000006', language: 'en' },
      after: { name: 'Cecilia Carlsson-Berg', phone: '+46 70 123 45 67', language: 'sv' },
    });
  });

  it('a person can clear their own phone number', async () => {
    const token = await t.login('bertil@vasaskolan.example');
    const res = await t.request({ method: 'PATCH', url: ME, token, body: { phone: null } });
    expect(res.status).toBe(200);
    expect(res.body.phone).toBeNull();
    expect(res.body.name).toBe('Bertil Berg');
  });

  it.each([
    ['e-mail address', { email: 'anna.ny@vasaskolan.example' }],
    ['roles', { roles: [{ role: 'org_admin', siteId: null }] }],
    ['sites', { siteIds: [] }],
    ['active flag', { active: false }],
    ['organisation', { organisationId: UNKNOWN_ID }],
    ['password', { password: 'ett-helt-nytt-losenord' }],
  ])('a person cannot change their own %s through /me', async (_name, body) => {
    await expectRefusedWithoutChange({ method: 'PATCH', url: ME, token: anna, body }, 400, 'validation_failed');
  });

  it.each([
    ['an empty body', {}],
    ['an empty name', { name: '' }],
    ['a name of spaces only', { name: '   ' }],
    ['a numeric name', { name: 42 }],
    ['a too long name', { name: 'x'.repeat(201) }],
    ['a NUL character in the name', { name: 'Anna\u0000Andersson' }],
    ['a phone number with letters', { phone: 'ring mig' }],
    ['an unsupported language', { language: 'de' }],
  ])('a profile change with %s gets 400 validation_failed and changes nothing', async (_name, body) => {
    await expectRefusedWithoutChange({ method: 'PATCH', url: ME, token: anna, body }, 400, 'validation_failed');
  });
});

describe('listing people', () => {
  it('an organisation admin lists everyone in the organisation and no one else', async () => {
    const res = await t.request({ method: 'GET', url: peopleOf(t.ids.org.utbildning), token: admin });
    expect(res.status).toBe(200);
    expect(emailsOf(res)).toEqual(expect.arrayContaining([
      'admin@utbildning.example', 'rektor@vasaskolan.example', 'kris@utbildning.example', 'anna@vasaskolan.example',
      'bertil@vasaskolan.example', 'cecilia@vasaskolan.example', 'rektor@solrosen.example', 'frida@solrosen.example',
    ]));
    for (const p of res.body.people as { organisationId: string }[]) expect(p.organisationId).toBe(t.ids.org.utbildning);
  });

  it('a rektor lists only the people who work at their school', async () => {
    const res = await t.request({ method: 'GET', url: peopleOf(t.ids.org.utbildning), token: rektor });
    expect(res.status).toBe(200);
    expect(emailsOf(res)).toEqual(expect.arrayContaining([
      'rektor@vasaskolan.example', 'kris@utbildning.example', 'anna@vasaskolan.example', 'bertil@vasaskolan.example', 'cecilia@vasaskolan.example',
    ]));
    expect(emailsOf(res)).not.toContain('frida@solrosen.example');
    expect(emailsOf(res)).not.toContain('rektor@solrosen.example');
    expect(emailsOf(res)).not.toContain('admin@utbildning.example');
    for (const p of res.body.people as { siteIds: string[] }[]) expect(p.siteIds).toContain(vasa);
  });

  it('the list can be narrowed to one site', async () => {
    const res = await t.request({ method: 'GET', url: `${peopleOf(t.ids.org.utbildning)}?siteId=${solrosen}`, token: admin });
    expect(res.status).toBe(200);
    for (const p of res.body.people as { siteIds: string[] }[]) expect(p.siteIds).toContain(solrosen);
    expect(emailsOf(res)).toEqual(expect.arrayContaining(['rektor@solrosen.example', 'frida@solrosen.example']));
    expect(emailsOf(res)).not.toContain('anna@vasaskolan.example');
  });

  it('a rektor narrowing the list to another school sees no one', async () => {
    const res = await t.request({ method: 'GET', url: `${peopleOf(t.ids.org.utbildning)}?siteId=${solrosen}`, token: rektor });
    expect(res.status).toBe(200);
    expect(res.body.people).toEqual([]);
  });

  it.each([
    ['staff', () => anna],
    ['a crisis lead', () => kris],
  ])('%s cannot list people', async (_name, token) => {
    await expectRefusedWithoutChange({ method: 'GET', url: peopleOf(t.ids.org.utbildning), token: token() }, 403, 'forbidden');
  });

  it('an admin of another organisation gets 404 for the list, as for an organisation that does not exist', async () => {
    await expectRefusedWithoutChange({ method: 'GET', url: peopleOf(t.ids.org.utbildning), token: kulturAdmin }, 404, 'not_found');
    await expectRefusedWithoutChange(
      { method: 'GET', url: `${peopleOf(t.ids.org.utbildning)}?siteId=${vasa}`, token: kulturAdmin }, 404, 'not_found',
    );
    const other = await t.request({ method: 'GET', url: peopleOf(t.ids.org.utbildning), token: kulturAdmin });
    const unknown = await t.request({ method: 'GET', url: peopleOf(UNKNOWN_ID), token: kulturAdmin });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(other.body);
  });

  it('the system administrator lists the people of any organisation', async () => {
    const res = await t.request({ method: 'GET', url: peopleOf(t.ids.org.kultur), token: systemAdmin });
    expect(res.status).toBe(200);
    expect(emailsOf(res)).toEqual(expect.arrayContaining(['admin@kultur.example', 'chef@biblioteket.example', 'lisa@biblioteket.example']));
  });
});

describe('adding people', () => {
  it('an organisation admin adds a person who can then sign in, and the addition is audited', async () => {
    const password = 'ett-eget-losenord';
    const res = await t.request({
      method: 'POST', url: peopleOf(t.ids.org.utbildning), token: admin,
      body: {
        name: 'Nina Nyanställd', email: 'Nina.Ny@Vasaskolan.example', phone: '+46701112233', language: 'en', password,
        siteIds: [vasa, solrosen], roles: [STAFF, { role: 'crisis_lead', siteId: solrosen }],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      organisationId: t.ids.org.utbildning, name: 'Nina Nyanställd', email: 'nina.ny@vasaskolan.example',
      phone: '+46701112233', language: 'en', active: true,
    });
    expect([...res.body.siteIds].sort()).toEqual([vasa, solrosen].sort());
    expect(res.body.roles).toEqual(expect.arrayContaining([STAFF, { role: 'crisis_lead', siteId: solrosen }]));
    expect(res.body.roles).toHaveLength(2);
    expect(JSON.stringify(res.body)).not.toContain(password);

    const signedIn = await signIn('nina.ny@vasaskolan.example', password);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.personId).toBe(res.body.id);

    const audit = await auditFor(res.body.id, 'person.created');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_person_id: person('admin@utbildning.example'), organisation_id: t.ids.org.utbildning,
      before: null, after: { id: res.body.id, email: 'nina.ny@vasaskolan.example', name: 'Nina Nyanställd' },
    });
    expect(JSON.stringify(audit[0])).not.toContain(password);
    expect(JSON.stringify(audit[0])).not.toMatch(/argon2/);
  });

  it('a person added without a password cannot sign in', async () => {
    const added = await addPerson();
    const res = await signIn(added.email, DEMO_PASSWORD);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('invalid_credentials');
  });

  it('a rektor adds staff at their own school and may make them crisis lead there', async () => {
    const body = newPerson({ siteIds: [vasa], roles: [STAFF, { role: 'crisis_lead', siteId: vasa }] });
    const res = await t.request({ method: 'POST', url: peopleOf(t.ids.org.utbildning), token: rektor, body });
    expect(res.status).toBe(201);
    expect(res.body.siteIds).toEqual([vasa]);
    expect(res.body.roles).toEqual(expect.arrayContaining([STAFF, { role: 'crisis_lead', siteId: vasa }]));
    const audit = await auditFor(res.body.id, 'person.created');
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actor_person_id).toBe(person('rektor@vasaskolan.example'));
  });

  it('a rektor cannot add people to another school', async () => {
    await expectRefusedWithoutChange(
      { method: 'POST', url: peopleOf(t.ids.org.utbildning), token: rektor, body: newPerson({ siteIds: [solrosen] }) },
      403, 'forbidden',
    );
    await expectRefusedWithoutChange(
      { method: 'POST', url: peopleOf(t.ids.org.utbildning), token: rektor, body: newPerson({ siteIds: [vasa, solrosen] }) },
      403, 'forbidden',
    );
  });

  it('a rektor cannot add a person who works at none of their schools', async () => {
    await expectRefusedWithoutChange(
      { method: 'POST', url: peopleOf(t.ids.org.utbildning), token: rektor, body: newPerson({ siteIds: [] }) },
      403, 'forbidden',
    );
  });

  it.each([
    ['org_admin', () => ({ role: 'org_admin', siteId: null })],
    ['system_admin', () => ({ role: 'system_admin', siteId: null })],
    ['site_admin at their own school', () => ({ role: 'site_admin', siteId: vasa })],
    ['site_admin for the whole organisation', () => ({ role: 'site_admin', siteId: null })],
    ['crisis_lead for the whole organisation', () => ({ role: 'crisis_lead', siteId: null })],
    ['crisis_lead at another school', () => ({ role: 'crisis_lead', siteId: solrosen })],
  ])('a rektor cannot grant %s to a new person (403 role_not_grantable)', async (_name, grant) => {
    await expectRefusedWithoutChange(
      { method: 'POST', url: peopleOf(t.ids.org.utbildning), token: rektor, body: newPerson({ roles: [STAFF, grant()] }) },
      403, 'role_not_grantable',
    );
  });

  it.each([
    ['staff', () => anna],
    ['a crisis lead', () => kris],
  ])('%s cannot add people', async (_name, token) => {
    await expectRefusedWithoutChange(
      { method: 'POST', url: peopleOf(t.ids.org.utbildning), token: token(), body: newPerson() }, 403, 'forbidden',
    );
  });

  it('an organisation admin may make someone an organisation admin but not a system admin', async () => {
    const res = await t.request({
      method: 'POST', url: peopleOf(t.ids.org.utbildning), token: admin, body: newPerson({ siteIds: [], roles: [{ role: 'org_admin', siteId: null }] }),
    });
    expect(res.status).toBe(201);
    expect(res.body.roles).toEqual([{ role: 'org_admin', siteId: null }]);
    await expectRefusedWithoutChange(
      { method: 'POST', url: peopleOf(t.ids.org.utbildning), token: admin, body: newPerson({ roles: [{ role: 'system_admin', siteId: null }] }) },
      403, 'role_not_grantable',
    );
  });

  it('an admin of another organisation cannot add people to it: 404 and nothing changes', async () => {
    await expectRefusedWithoutChange(
      { method: 'POST', url: peopleOf(t.ids.org.utbildning), token: kulturAdmin, body: newPerson({ siteIds: [vasa] }) },
      404, 'not_found',
    );
    await expectRefusedWithoutChange(
      { method: 'POST', url: peopleOf(t.ids.org.utbildning), token: kulturAdmin, body: newPerson({ siteIds: [biblioteket] }) },
      404, 'not_found',
    );
  });

  it.each([
    ['the same address', 'anna@vasaskolan.example'],
    ['the same address in other case', 'ANNA@Vasaskolan.Example'],
  ])('an e-mail address already in use in the organisation (%s) is refused with 409 email_taken', async (_name, email) => {
    await expectRefusedWithoutChange(
      { method: 'POST', url: peopleOf(t.ids.org.utbildning), token: admin, body: newPerson({ email }) }, 409, 'email_taken',
    );
  });

  it.each([
    ['a site of another organisation', () => newPerson({ siteIds: [biblioteket] })],
    ['a site that does not exist', () => newPerson({ siteIds: [UNKNOWN_ID] })],
    ['a role at a site of another organisation', () => newPerson({ roles: [STAFF, { role: 'crisis_lead', siteId: biblioteket }] })],
  ])('%s is refused with 400 invalid_reference and nothing changes', async (_name, body) => {
    await expectRefusedWithoutChange(
      { method: 'POST', url: peopleOf(t.ids.org.utbildning), token: admin, body: body() }, 400, 'invalid_reference',
    );
  });

  it('an organisation-wide role tied to a site is refused with 400 validation_failed', async () => {
    await expectRefusedWithoutChange(
      { method: 'POST', url: peopleOf(t.ids.org.utbildning), token: admin, body: newPerson({ roles: [{ role: 'staff', siteId: vasa }] }) },
      400, 'validation_failed',
    );
  });

  it.each([
    ['no name', () => newPersonWithout('name')],
    ['no e-mail address', () => newPersonWithout('email')],
    ['no sites', () => newPersonWithout('siteIds')],
    ['no roles', () => newPersonWithout('roles')],
    ['an invalid e-mail address', () => newPerson({ email: 'inte-en-adress' })],
    ['a NUL character in the name', () => newPerson({ name: 'Test\u0000Testsson' })],
    ['a too short password', () => newPerson({ password: 'kort12345' })],
    ['an unknown role', () => newPerson({ roles: [{ role: 'king', siteId: null }] })],
    ['a site id that is not a uuid', () => newPerson({ siteIds: ['vasaskolan'] })],
    ['the same site twice', () => newPerson({ siteIds: [vasa, vasa] })],
    ['a role with an extra field', () => ({ ...newPerson(), roles: [{ ...STAFF, expires: 'never' }] })],
    ['an extra field', () => ({ ...newPerson(), organisationId: t.ids.org.kultur })],
    ['a numeric name', () => ({ ...newPerson(), name: 7 })],
    ['roles that are not a list', () => ({ ...newPerson(), roles: 'staff' })],
  ])('a new person with %s gets 400 validation_failed and nothing changes', async (_name, body) => {
    await expectRefusedWithoutChange(
      { method: 'POST', url: peopleOf(t.ids.org.utbildning), token: admin, body: body() }, 400, 'validation_failed',
    );
  });
});

describe('reading one person', () => {
  it('anyone may read themselves', async () => {
    const res = await t.request({ method: 'GET', url: personUrl(person('anna@vasaskolan.example')), token: anna });
    expect(res.status).toBe(200);
    expect(res.body.email).toBe('anna@vasaskolan.example');
  });

  it('staff cannot read a colleague', async () => {
    await expectRefusedWithoutChange({ method: 'GET', url: personUrl(person('bertil@vasaskolan.example')), token: anna }, 403, 'forbidden');
  });

  it('a rektor reads the staff of their school but not people who only work at another school', async () => {
    const own = await t.request({ method: 'GET', url: personUrl(person('bertil@vasaskolan.example')), token: rektor });
    expect(own.status).toBe(200);
    expect(own.body.email).toBe('bertil@vasaskolan.example');
    await expectRefusedWithoutChange({ method: 'GET', url: personUrl(person('frida@solrosen.example')), token: rektor }, 403, 'forbidden');
  });

  it('a rektor cannot read an organisation admin, even one who works at their school', async () => {
    const orgAdminAtVasa = await addPerson({ siteIds: [vasa], roles: [STAFF, { role: 'org_admin', siteId: null }] });
    for (const id of [orgAdminAtVasa.id, person('admin@utbildning.example')]) {
      await expectRefusedWithoutChange({ method: 'GET', url: personUrl(id), token: rektor }, 403, 'forbidden');
    }
  });

  it('an organisation admin reads everyone in the organisation', async () => {
    for (const email of ['frida@solrosen.example', 'rektor@vasaskolan.example', 'kris@utbildning.example']) {
      const res = await t.request({ method: 'GET', url: personUrl(person(email)), token: admin });
      expect(res.status).toBe(200);
      expect(res.body.email).toBe(email);
    }
  });

  it('a person of another organisation is not found, for admins and staff alike', async () => {
    const cases: [string, string][] = [
      [kulturAdmin, person('anna@vasaskolan.example')],
      [kulturAdmin, person('admin@utbildning.example')],
      [admin, person('lisa@biblioteket.example')],
      [anna, person('lisa@biblioteket.example')],
    ];
    for (const [token, id] of cases) {
      await expectRefusedWithoutChange({ method: 'GET', url: personUrl(id), token }, 404, 'not_found');
    }
  });

  it('an unknown id gets 404 and a malformed id 400 validation_failed', async () => {
    await expectRefusedWithoutChange({ method: 'GET', url: personUrl(UNKNOWN_ID), token: admin }, 404, 'not_found');
    await expectRefusedWithoutChange({ method: 'GET', url: personUrl('anna'), token: admin }, 400, 'validation_failed');
  });
});

describe('changing a person', () => {
  it('an organisation admin changes details, sites and roles, and the change is audited with before and after', async () => {
    const added = await addPerson({ siteIds: [vasa], roles: [STAFF] });
    const res = await t.request({
      method: 'PATCH', url: personUrl(added.id), token: admin,
      body: {
        name: 'Ändrad Person', email: `andrad.${added.email}`, phone: '+46709998877', language: 'en',
        siteIds: [solrosen], roles: [STAFF, { role: 'site_admin', siteId: solrosen }],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: added.id, name: 'Ändrad Person', email: `andrad.${added.email}`, phone: '+46709998877', language: 'en', siteIds: [solrosen],
    });
    expect(res.body.roles).toEqual(expect.arrayContaining([STAFF, { role: 'site_admin', siteId: solrosen }]));
    expect(res.body.roles).toHaveLength(2);

    const audit = await auditFor(added.id, 'person.updated');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_person_id: person('admin@utbildning.example'),
      organisation_id: t.ids.org.utbildning,
      before: { name: added.name, email: added.email, siteIds: [vasa], roles: [STAFF] },
      after: { name: 'Ändrad Person', email: `andrad.${added.email}`, siteIds: [solrosen], passwordChanged: false },
    });
  });

  it('a rektor changes staff at their school and makes them crisis lead there', async () => {
    const added = await addPerson({ siteIds: [vasa] });
    const res = await t.request({
      method: 'PATCH', url: personUrl(added.id), token: rektor,
      body: { name: 'Befordrad Person', roles: [STAFF, { role: 'crisis_lead', siteId: vasa }] },
    });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Befordrad Person');
    expect(res.body.roles).toEqual(expect.arrayContaining([STAFF, { role: 'crisis_lead', siteId: vasa }]));
    const audit = await auditFor(added.id, 'person.updated');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_person_id: person('rektor@vasaskolan.example'), before: { name: added.name }, after: { name: 'Befordrad Person' } });
  });

  it('a rektor cannot change people who only work at another school', async () => {
    for (const body of [{ name: 'Kapad' }, { active: false }, { password: 'ett-helt-nytt-losenord' }]) {
      await expectRefusedWithoutChange({ method: 'PATCH', url: personUrl(person('frida@solrosen.example')), token: rektor, body }, 403, 'forbidden');
    }
  });

  it('a rektor cannot change an organisation admin, even one who works at their school', async () => {
    const orgAdminAtVasa = await addPerson({ siteIds: [vasa], roles: [STAFF, { role: 'org_admin', siteId: null }] });
    for (const id of [orgAdminAtVasa.id, person('admin@utbildning.example')]) {
      for (const body of [{ name: 'Kapad' }, { active: false }, { roles: [STAFF] }]) {
        await expectRefusedWithoutChange({ method: 'PATCH', url: personUrl(id), token: rektor, body }, 403, 'forbidden');
      }
    }
  });

  it('a rektor cannot move staff to another school', async () => {
    const added = await addPerson({ siteIds: [vasa] });
    await expectRefusedWithoutChange(
      { method: 'PATCH', url: personUrl(added.id), token: rektor, body: { siteIds: [vasa, solrosen] } }, 403, 'forbidden',
    );
    await expectRefusedWithoutChange(
      { method: 'PATCH', url: personUrl(added.id), token: rektor, body: { siteIds: [solrosen] } }, 403, 'forbidden',
    );
  });

  it('a rektor cannot take someone away from another school', async () => {
    const added = await addPerson({ siteIds: [vasa, solrosen] });
    await expectRefusedWithoutChange(
      { method: 'PATCH', url: personUrl(added.id), token: rektor, body: { siteIds: [vasa] } }, 403, 'forbidden',
    );
  });

  it.each([
    ['org_admin', () => ({ role: 'org_admin', siteId: null })],
    ['system_admin', () => ({ role: 'system_admin', siteId: null })],
    ['site_admin at their own school', () => ({ role: 'site_admin', siteId: vasa })],
    ['crisis_lead for the whole organisation', () => ({ role: 'crisis_lead', siteId: null })],
    ['crisis_lead at another school', () => ({ role: 'crisis_lead', siteId: solrosen })],
  ])('a rektor cannot grant %s to their staff (403 role_not_grantable)', async (_name, grant) => {
    const added = await addPerson({ siteIds: [vasa], roles: [STAFF] });
    await expectRefusedWithoutChange(
      { method: 'PATCH', url: personUrl(added.id), token: rektor, body: { roles: [STAFF, grant()] } }, 403, 'role_not_grantable',
    );
  });

  it('a rektor cannot change someone with wider rights than a rektor can grant: not their roles, password or e-mail', async () => {
    const kim = personUrl(person('kris@utbildning.example'));
    await expectRefusedWithoutChange({ method: 'PATCH', url: kim, token: rektor, body: { roles: [STAFF] } }, 403, 'forbidden');
    await expectRefusedWithoutChange({ method: 'PATCH', url: kim, token: rektor, body: { password: 'taken-over-account' } }, 403, 'forbidden');
    await expectRefusedWithoutChange({ method: 'PATCH', url: kim, token: rektor, body: { email: 'rebecka+kim@vasaskolan.example' } }, 403, 'forbidden');
  });

  it('staff cannot change a colleague, nor themselves outside /me', async () => {
    await expectRefusedWithoutChange(
      { method: 'PATCH', url: personUrl(person('bertil@vasaskolan.example')), token: anna, body: { name: 'Kapad' } }, 403, 'forbidden',
    );
    await expectRefusedWithoutChange(
      { method: 'PATCH', url: personUrl(person('anna@vasaskolan.example')), token: anna, body: { roles: [{ role: 'org_admin', siteId: null }] } },
      403, 'forbidden',
    );
  });

  it('an organisation admin manages everyone in their own organisation, including other admins', async () => {
    const otherAdmin = await addPerson({ siteIds: [], roles: [{ role: 'org_admin', siteId: null }] });
    for (const id of [otherAdmin.id, person('rektor@solrosen.example')]) {
      const res = await t.request({ method: 'PATCH', url: personUrl(id), token: admin, body: { language: 'en' } });
      expect(res.status).toBe(200);
      expect(res.body.language).toBe('en');
    }
  });

  it.each([
    ['a new name', { name: 'Kapad' }],
    ['deactivation', { active: false }],
    ['a new password', { password: 'ett-helt-nytt-losenord' }],
    ['new roles', { roles: [{ role: 'org_admin', siteId: null }] }],
  ])('an organisation admin cannot change people of another organisation (%s): 404 and nothing changes', async (_name, body) => {
    await expectRefusedWithoutChange({ method: 'PATCH', url: personUrl(person('lisa@biblioteket.example')), token: admin, body }, 404, 'not_found');
    await expectRefusedWithoutChange({ method: 'PATCH', url: personUrl(person('anna@vasaskolan.example')), token: kulturAdmin, body }, 404, 'not_found');
  });

  it('a new e-mail address someone else uses is refused with 409 email_taken and nothing changes', async () => {
    const added = await addPerson();
    await expectRefusedWithoutChange(
      { method: 'PATCH', url: personUrl(added.id), token: admin, body: { email: 'Bertil@vasaskolan.example', name: 'Inte ändrad' } },
      409, 'email_taken',
    );
  });

  it('a person\'s own e-mail address sent again in another case is not taken', async () => {
    const added = await addPerson();
    const res = await t.request({ method: 'PATCH', url: personUrl(added.id), token: admin, body: { email: added.email.toUpperCase() } });
    expect(res.status).toBe(200);
    expect(res.body.email).toBe(added.email);
  });

  it.each([
    ['a site of another organisation', () => ({ siteIds: [vasa, biblioteket] })],
    ['a site that does not exist', () => ({ siteIds: [UNKNOWN_ID] })],
    ['a role at a site of another organisation', () => ({ roles: [STAFF, { role: 'site_admin', siteId: biblioteket }] })],
  ])('placing a person at %s is refused with 400 invalid_reference and nothing changes', async (_name, body) => {
    const added = await addPerson();
    await expectRefusedWithoutChange({ method: 'PATCH', url: personUrl(added.id), token: admin, body: body() }, 400, 'invalid_reference');
  });

  it('deactivating a person ends all their sessions and stops them signing in', async () => {
    const password = 'ett-eget-losenord';
    const added = await addPerson({ password });
    const phone = (await signIn(added.email, password)).body.token as string;
    const laptop = (await signIn(added.email, password)).body.token as string;

    const res = await t.request({ method: 'PATCH', url: personUrl(added.id), token: admin, body: { active: false } });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(false);

    for (const token of [phone, laptop]) {
      const refused = await t.request({ method: 'GET', url: ME, token });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('unauthenticated');
    }
    const open = await t.db.query('SELECT 1 FROM sessions WHERE person_id = $1 AND revoked_at IS NULL', [added.id]);
    expect(open.rowCount).toBe(0);
    expect((await signIn(added.email, password)).status).toBe(401);

    const audit = await auditFor(added.id, 'person.updated');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ before: { active: true }, after: { active: false } });
  });

  it('a rektor setting a new password ends all the person\'s sessions and only the new password works', async () => {
    const oldPassword = 'det-gamla-losenordet';
    const newPassword = 'det-nya-losenordet';
    const added = await addPerson({ password: oldPassword });
    const token = (await signIn(added.email, oldPassword)).body.token as string;
    const bystander = await t.login('bertil@vasaskolan.example');

    const res = await t.request({ method: 'PATCH', url: personUrl(added.id), token: rektor, body: { password: newPassword } });
    expect(res.status).toBe(200);

    expect((await t.request({ method: 'GET', url: ME, token })).status).toBe(401);
    expect((await t.request({ method: 'GET', url: ME, token: bystander })).status).toBe(200);
    expect((await signIn(added.email, oldPassword)).status).toBe(401);
    expect((await signIn(added.email, newPassword)).status).toBe(200);

    const audit = await auditFor(added.id, 'person.updated');
    expect(audit).toHaveLength(1);
    expect(audit[0]?.after).toMatchObject({ passwordChanged: true });
    expect(JSON.stringify(audit[0])).not.toContain(newPassword);
    expect(JSON.stringify(audit[0])).not.toMatch(/argon2/);
  });

  it('site ids written in upper case name the same sites, so resending them keeps the person where they are', async () => {
    const added = await addPerson({ siteIds: [vasa], roles: [STAFF, { role: 'crisis_lead', siteId: vasa }] });
    const upper = vasa.toUpperCase();

    const sites = await t.request({ method: 'PATCH', url: personUrl(added.id), token: admin, body: { siteIds: [upper] } });
    expect(sites.status, JSON.stringify(sites.body)).toBe(200);
    expect(sites.body.siteIds).toEqual([vasa]);

    const roles = await t.request({
      method: 'PATCH', url: personUrl(added.id), token: admin, body: { roles: [STAFF, { role: 'crisis_lead', siteId: upper }] },
    });
    expect(roles.status, JSON.stringify(roles.body)).toBe(200);
    expect(roles.body.roles).toEqual(expect.arrayContaining([STAFF, { role: 'crisis_lead', siteId: vasa }]));
    expect(roles.body.roles).toHaveLength(2);
  });

  it('a change made through an upper-case person id is audited under the person\'s id', async () => {
    const added = await addPerson();
    const res = await t.request({ method: 'PATCH', url: personUrl(added.id.toUpperCase()), token: admin, body: { language: 'en' } });
    expect(res.status).toBe(200);
    expect(await auditFor(added.id, 'person.updated')).toHaveLength(1);
  });

  it('a rektor may use upper-case ids for their own school', async () => {
    const res = await t.request({
      method: 'POST', url: peopleOf(t.ids.org.utbildning), token: rektor,
      body: newPerson({ siteIds: [vasa.toUpperCase()], roles: [STAFF, { role: 'crisis_lead', siteId: vasa.toUpperCase() }] }),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.siteIds).toEqual([vasa]);
  });

  it.each([
    ['an empty body', {}],
    ['a non-boolean active flag', { active: 'no' }],
    ['an invalid e-mail address', { email: 'inte-en-adress' }],
    ['a too short password', { password: 'kort12345' }],
    ['an unknown role', { roles: [{ role: 'king', siteId: null }] }],
    ['a site id that is not a uuid', { siteIds: ['vasaskolan'] }],
    ['an empty name', { name: '' }],
    ['a NUL character in the name', { name: 'Test\u0000Testsson' }],
    ['an extra field', { organisationId: UNKNOWN_ID }],
    ['a phone number with letters', { phone: 'ring mig' }],
  ])('a change with %s gets 400 validation_failed and nothing changes', async (_name, body) => {
    await expectRefusedWithoutChange(
      { method: 'PATCH', url: personUrl(person('bertil@vasaskolan.example')), token: admin, body }, 400, 'validation_failed',
    );
  });

  it('changing a person that does not exist gets 404 and changes nothing', async () => {
    await expectRefusedWithoutChange({ method: 'PATCH', url: personUrl(UNKNOWN_ID), token: admin, body: { name: 'Ingen' } }, 404, 'not_found');
  });
});
