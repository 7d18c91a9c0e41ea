import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';

interface GroupView {
  id: string;
  siteId: string;
  organisationId: string;
  name: string;
  description: string | null;
  members: { id: string; name: string }[];
  alarmTypes: { alarmTypeId: string; key: string; receives: boolean; mayRaise: boolean }[];
  escalationContacts: { personId: string | null; name: string | null; phone: string | null; email: string | null }[];
  createdAt: string;
  updatedAt: string;
}

interface AuditRow {
  organisation_id: string;
  actor_person_id: string;
  action: string;
  entity_type: string;
  before: GroupView | null;
  after: GroupView | null;
  request_id: string | null;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
interface Call {
  method: Method;
  url: string;
  body?: object;
}

const groupsUrl = (siteId: string) => `/api/v1/sites/${siteId}/alarm-groups`;
const groupUrl = (id: string, part = '') => `/api/v1/alarm-groups/${id}${part}`;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('alarm groups', () => {
  let t: TestApp;
  let rektor: string;
  let solrosenRektor: string;
  let crisisLead: string;
  let staff: string;
  let orgAdmin: string;
  let kulturAdmin: string;
  let libraryChef: string;
  let person: (email: string) => string;

  async function createGroup(token: string, siteId: string, body: object): Promise<GroupView> {
    const res = await t.request({ method: 'POST', url: groupsUrl(siteId), token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as GroupView;
  }

  async function readGroup(id: string): Promise<GroupView> {
    const res = await t.request({ method: 'GET', url: groupUrl(id), token: orgAdmin });
    expect(res.status).toBe(200);
    return res.body as GroupView;
  }

  async function createAlarmType(token: string, organisationId: string, key: string): Promise<string> {
    const res = await t.request({
      method: 'POST', url: `/api/v1/organisations/${organisationId}/alarm-types`, token,
      body: {
        key,
        label: { sv: 'Medicinskt nödläge', en: 'Medical emergency' },
        instruction: { sv: 'Ring 112 och hämta hjärtstartaren.', en: 'Call 112 and fetch the defibrillator.' },
        colour: '#1565c0', icon: 'medical', sound: 'loud', precedence: 50,
        cap: { category: 'Health', event: 'Medicinskt nödläge', responseType: 'Execute', severity: 'Severe', urgency: 'Immediate' },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  }

  /** Every group endpoint, aimed at one site and one of its groups, with valid bodies. */
  function everyEndpoint(siteId: string, groupId: string): Call[] {
    return [
      { method: 'GET', url: groupsUrl(siteId) },
      { method: 'POST', url: groupsUrl(siteId), body: { name: 'Obehörig grupp' } },
      { method: 'GET', url: groupUrl(groupId) },
      { method: 'PATCH', url: groupUrl(groupId), body: { name: 'Omdöpt' } },
      { method: 'PUT', url: groupUrl(groupId, '/members'), body: { personIds: [] } },
      { method: 'PUT', url: groupUrl(groupId, '/alarm-types'), body: { alarmTypes: [] } },
      { method: 'PUT', url: groupUrl(groupId, '/escalation-contacts'), body: { contacts: [] } },
      { method: 'DELETE', url: groupUrl(groupId) },
    ];
  }

  /** Sends each call and expects the same error for all of them, with nothing changed in the database. */
  async function expectRefused(token: string, calls: Call[], status: number, code: string): Promise<void> {
    const before = await t.snapshot();
    for (const call of calls) {
      const res = await t.request({ ...call, token });
      expect(res.status, `${call.method} ${call.url} ${JSON.stringify(call.body ?? null)}`).toBe(status);
      expect(res.body.code).toBe(code);
    }
    expect(await t.snapshot()).toBe(before);
  }

  async function auditFor(entityId: string): Promise<AuditRow[]> {
    return (await t.db.query<AuditRow>(
      `SELECT organisation_id, actor_person_id, action, entity_type, before, after, request_id
         FROM audit_log WHERE entity_id = $1 ORDER BY id`,
      [entityId],
    )).rows;
  }

  beforeAll(async () => {
    t = await startApp();
    person = (email) => {
      const id = t.ids.person[email];
      if (!id) throw new Error(`no demo person ${email}`);
      return id;
    };
    rektor = await t.login('rektor@vasaskolan.example');
    solrosenRektor = await t.login('rektor@solrosen.example');
    crisisLead = await t.login('kris@utbildning.example');
    staff = await t.login('anna@vasaskolan.example');
    orgAdmin = await t.login('admin@utbildning.example');
    kulturAdmin = await t.login('admin@kultur.example');
    libraryChef = await t.login('chef@biblioteket.example');
  });
  afterAll(() => t.close());

  describe('reading', () => {
    it('the rektor lists the school\'s groups with members, alarm types and escalation contacts', async () => {
      const res = await t.request({ method: 'GET', url: groupsUrl(t.ids.site.vasaskolan), token: rektor });
      expect(res.status).toBe(200);
      const groups = res.body.alarmGroups as GroupView[];
      expect(groups.map((g) => g.name)).toEqual(['All personal', 'Krisgrupp']);
      expect(groups.every((g) => g.siteId === t.ids.site.vasaskolan && g.organisationId === t.ids.org.utbildning)).toBe(true);

      const kris = groups.find((g) => g.id === t.ids.group.vasaKris);
      expect(kris?.members).toEqual([
        { id: person('kris@utbildning.example'), name: 'Kim Krisledare' },
        { id: person('rektor@vasaskolan.example'), name: 'Rebecka Rektor' },
      ]);
      expect(kris?.alarmTypes).toEqual(['inrymning', 'brand', 'utrymning', 'hot'].map((key) => ({
        alarmTypeId: t.ids.alarmType[key as 'inrymning' | 'brand' | 'utrymning' | 'hot'], key, receives: true, mayRaise: true,
      })));
      expect(kris?.escalationContacts).toEqual([
        { personId: person('rektor@vasaskolan.example'), name: 'Rebecka Rektor', phone: '+46700000002', email: 'rektor@vasaskolan.example' },
        { personId: null, name: 'Vaktmästare Vasaskolan', phone: '+46700000099', email: null },
      ]);
    });

    it('the rektor reads one group by id', async () => {
      const res = await t.request({ method: 'GET', url: groupUrl(t.ids.group.vasaAll), token: rektor });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: t.ids.group.vasaAll, name: 'All personal', siteId: t.ids.site.vasaskolan });
      expect((res.body as GroupView).members).toHaveLength(5);
    });

    it('the crisis lead reads the school\'s groups', async () => {
      const list = await t.request({ method: 'GET', url: groupsUrl(t.ids.site.vasaskolan), token: crisisLead });
      expect(list.status).toBe(200);
      expect((list.body.alarmGroups as GroupView[]).map((g) => g.id).sort()).toEqual([t.ids.group.vasaAll, t.ids.group.vasaKris].sort());
      const one = await t.request({ method: 'GET', url: groupUrl(t.ids.group.vasaKris), token: crisisLead });
      expect(one.status).toBe(200);
    });

    it('alarm groups need a signed-in caller', async () => {
      const res = await t.request({ method: 'GET', url: groupsUrl(t.ids.site.vasaskolan) });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthenticated');
    });

    it('an unknown group or site is not found', async () => {
      await expectRefused(orgAdmin, everyEndpoint(UNKNOWN_ID, UNKNOWN_ID), 404, 'not_found');
    });
  });

  describe('roles', () => {
    it('staff cannot read or manage the alarm groups of their own school', async () => {
      await expectRefused(staff, everyEndpoint(t.ids.site.vasaskolan, t.ids.group.vasaKris), 403, 'forbidden');
    });

    it('the crisis lead can read but not change alarm groups', async () => {
      const writes = everyEndpoint(t.ids.site.vasaskolan, t.ids.group.vasaKris).filter((c) => c.method !== 'GET');
      await expectRefused(crisisLead, writes, 403, 'forbidden');
    });

    it('a rektor cannot read or change another school\'s alarm groups in the same organisation', async () => {
      await expectRefused(solrosenRektor, everyEndpoint(t.ids.site.vasaskolan, t.ids.group.vasaKris), 403, 'forbidden');
      await expectRefused(rektor, everyEndpoint(t.ids.site.solrosen, t.ids.group.solrosenAll), 403, 'forbidden');
    });

    it('an organisation admin manages the groups of every site of the organisation', async () => {
      for (const siteId of [t.ids.site.vasaskolan, t.ids.site.solrosen]) {
        const group = await createGroup(orgAdmin, siteId, { name: 'Ledningsgrupp', memberIds: [person('admin@utbildning.example')] });
        expect(group.siteId).toBe(siteId);
        const renamed = await t.request({ method: 'PATCH', url: groupUrl(group.id), token: orgAdmin, body: { name: 'Förvaltningsledning' } });
        expect(renamed.status).toBe(200);
        expect(renamed.body.name).toBe('Förvaltningsledning');
        const types = await t.request({
          method: 'PUT', url: groupUrl(group.id, '/alarm-types'), token: orgAdmin,
          body: { alarmTypes: [{ alarmTypeId: t.ids.alarmType.hot, receives: true, mayRaise: false }] },
        });
        expect(types.status).toBe(200);
        const removed = await t.request({ method: 'DELETE', url: groupUrl(group.id), token: orgAdmin });
        expect(removed.status).toBe(204);
      }
      const solrosenMembers = await t.request({
        method: 'PUT', url: groupUrl(t.ids.group.solrosenAll, '/members'), token: orgAdmin,
        body: { personIds: [person('rektor@solrosen.example'), person('frida@solrosen.example'), person('kris@utbildning.example')] },
      });
      expect(solrosenMembers.status).toBe(200);
      expect((solrosenMembers.body as GroupView).members.map((m) => m.name)).toContain('Kim Krisledare');
    });
  });

  describe('managing a group', () => {
    it('a rektor creates a group with members, alarm types and escalation contacts', async () => {
      const created = await createGroup(rektor, t.ids.site.vasaskolan, {
        name: 'Lärarlag 4–6',
        description: 'Mellanstadiets lärare i hus B',
        memberIds: [person('bertil@vasaskolan.example'), person('anna@vasaskolan.example')],
        alarmTypes: [
          { alarmTypeId: t.ids.alarmType.hot, receives: true, mayRaise: false },
          { alarmTypeId: t.ids.alarmType.brand, receives: true, mayRaise: true },
          { alarmTypeId: t.ids.alarmType.inrymning, receives: false, mayRaise: true },
        ],
        escalationContacts: [
          { personId: person('bertil@vasaskolan.example') },
          { name: 'Securitas larmcentral', phone: '+46 8 123 456 00' },
          { name: 'Skolsköterska', email: 'skolskoterska@vasaskolan.example' },
        ],
      });
      expect(created).toMatchObject({
        siteId: t.ids.site.vasaskolan,
        organisationId: t.ids.org.utbildning,
        name: 'Lärarlag 4–6',
        description: 'Mellanstadiets lärare i hus B',
        members: [
          { id: person('anna@vasaskolan.example'), name: 'Anna Andersson' },
          { id: person('bertil@vasaskolan.example'), name: 'Bertil Berg' },
        ],
        alarmTypes: [
          { alarmTypeId: t.ids.alarmType.inrymning, key: 'inrymning', receives: false, mayRaise: true },
          { alarmTypeId: t.ids.alarmType.brand, key: 'brand', receives: true, mayRaise: true },
          { alarmTypeId: t.ids.alarmType.hot, key: 'hot', receives: true, mayRaise: false },
        ],
        escalationContacts: [
          { personId: person('bertil@vasaskolan.example'), name: 'Bertil Berg', phone: '+46700000005', email: 'bertil@vasaskolan.example' },
          { personId: null, name: 'Securitas larmcentral', phone: '+46 8 123 456 00', email: null },
          { personId: null, name: 'Skolsköterska', phone: null, email: 'skolskoterska@vasaskolan.example' },
        ],
      });
      expect(await readGroup(created.id)).toEqual(created);
      const list = await t.request({ method: 'GET', url: groupsUrl(t.ids.site.vasaskolan), token: rektor });
      expect((list.body.alarmGroups as GroupView[]).map((g) => g.id)).toContain(created.id);
    });

    it('a new group starts without members, alarm types or contacts when none are given', async () => {
      const created = await createGroup(rektor, t.ids.site.vasaskolan, { name: 'Tom grupp' });
      expect(created).toMatchObject({ description: null, members: [], alarmTypes: [], escalationContacts: [] });
    });

    it('a rektor renames a group, describes it and clears the description again', async () => {
      const created = await createGroup(rektor, t.ids.site.vasaskolan, { name: 'Fritids', description: 'Eftermiddagar' });
      const renamed = await t.request({ method: 'PATCH', url: groupUrl(created.id), token: rektor, body: { name: 'Fritidshemmet' } });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ name: 'Fritidshemmet', description: 'Eftermiddagar' });
      const described = await t.request({ method: 'PATCH', url: groupUrl(created.id), token: rektor, body: { description: 'Hus C' } });
      expect(described.body).toMatchObject({ name: 'Fritidshemmet', description: 'Hus C' });
      const cleared = await t.request({ method: 'PATCH', url: groupUrl(created.id), token: rektor, body: { description: null } });
      expect(cleared.body).toMatchObject({ name: 'Fritidshemmet', description: null });
      const sameName = await t.request({ method: 'PATCH', url: groupUrl(created.id), token: rektor, body: { name: 'Fritidshemmet' } });
      expect(sameName.status).toBe(200);
      expect(await readGroup(created.id)).toMatchObject({ name: 'Fritidshemmet', description: null });
    });

    it('a rektor replaces the members of a group, and may empty it', async () => {
      const created = await createGroup(rektor, t.ids.site.vasaskolan, {
        name: 'Rastvakter', memberIds: [person('anna@vasaskolan.example'), person('bertil@vasaskolan.example')],
      });
      const replaced = await t.request({
        method: 'PUT', url: groupUrl(created.id, '/members'), token: rektor, body: { personIds: [person('cecilia@vasaskolan.example')] },
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body.members).toEqual([{ id: person('cecilia@vasaskolan.example'), name: 'Cecilia Carlsson' }]);
      const emptied = await t.request({ method: 'PUT', url: groupUrl(created.id, '/members'), token: rektor, body: { personIds: [] } });
      expect(emptied.status).toBe(200);
      expect(emptied.body.members).toEqual([]);
      expect((await readGroup(created.id)).members).toEqual([]);
    });

    it('a rektor replaces which alarm types a group receives and may raise', async () => {
      const created = await createGroup(rektor, t.ids.site.vasaskolan, {
        name: 'Kök', alarmTypes: [{ alarmTypeId: t.ids.alarmType.brand, receives: true, mayRaise: true }],
      });
      const replaced = await t.request({
        method: 'PUT', url: groupUrl(created.id, '/alarm-types'), token: rektor,
        body: {
          alarmTypes: [
            { alarmTypeId: t.ids.alarmType.utrymning, receives: true, mayRaise: false },
            { alarmTypeId: t.ids.alarmType.inrymning, receives: true, mayRaise: true },
          ],
        },
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body.alarmTypes).toEqual([
        { alarmTypeId: t.ids.alarmType.inrymning, key: 'inrymning', receives: true, mayRaise: true },
        { alarmTypeId: t.ids.alarmType.utrymning, key: 'utrymning', receives: true, mayRaise: false },
      ]);
      const emptied = await t.request({ method: 'PUT', url: groupUrl(created.id, '/alarm-types'), token: rektor, body: { alarmTypes: [] } });
      expect(emptied.body.alarmTypes).toEqual([]);
    });

    it('a group can be given its organisation\'s own custom alarm type', async () => {
      const customId = await createAlarmType(orgAdmin, t.ids.org.utbildning, 'medicinskt');
      const res = await t.request({
        method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/alarm-types'), token: rektor,
        body: { alarmTypes: [{ alarmTypeId: customId, receives: true, mayRaise: true }] },
      });
      expect(res.status).toBe(200);
      expect(res.body.alarmTypes).toEqual([{ alarmTypeId: customId, key: 'medicinskt', receives: true, mayRaise: true }]);
    });

    it('escalation contacts keep the order they are given in', async () => {
      const created = await createGroup(rektor, t.ids.site.vasaskolan, { name: 'Eskaleringsordning' });
      const contacts = [
        { name: 'Vaktmästare', phone: '+46700000099' },
        { personId: person('rektor@vasaskolan.example') },
        { name: 'Bevakningsbolaget', email: 'larm@bevakning.example' },
        { personId: person('bertil@vasaskolan.example') },
      ];
      const names = async (ordered: object[]) => {
        const res = await t.request({ method: 'PUT', url: groupUrl(created.id, '/escalation-contacts'), token: rektor, body: { contacts: ordered } });
        expect(res.status).toBe(200);
        expect((await readGroup(created.id)).escalationContacts).toEqual(res.body.escalationContacts);
        return (res.body as GroupView).escalationContacts.map((c) => c.name);
      };
      expect(await names(contacts)).toEqual(['Vaktmästare', 'Rebecka Rektor', 'Bevakningsbolaget', 'Bertil Berg']);
      expect(await names([...contacts].reverse())).toEqual(['Bertil Berg', 'Bevakningsbolaget', 'Rebecka Rektor', 'Vaktmästare']);
      expect(await names([])).toEqual([]);
    });

    it('an escalation contact is a person of the organisation or an outsider with a name and a phone number or e-mail address', async () => {
      const contactsUrl = groupUrl(t.ids.group.vasaKris, '/escalation-contacts');
      const invalid: object[][] = [
        [{ name: 'Bara ett namn' }],
        [{ phone: '+46700000098' }],
        [{ email: 'ingen@namn.example' }],
        [{}],
        [{ name: 'Tomma uppgifter', phone: null, email: null }],
        [{ personId: null, name: null, phone: '+46700000098' }],
        [{ personId: person('rektor@vasaskolan.example') }, { name: 'Halv kontakt' }],
      ];
      const malformed: object[][] = [
        [{ name: 'Fel nummer', phone: 'ring mig' }],
        [{ name: 'Fel adress', email: 'inte-en-adress' }],
        [{ name: '', phone: '+46700000098' }],
        [{ personId: 'inte-ett-id' }],
        [{ name: 'Extra', phone: '+46700000098', role: 'vakt' }],
        Array.from({ length: 21 }, (_, i) => ({ name: `Kontakt ${i}`, phone: '+46700000098' })),
      ];
      await expectRefused(rektor, [...invalid, ...malformed].map((contacts) => ({ method: 'PUT', url: contactsUrl, body: { contacts } })),
        400, 'validation_failed');
      await expectRefused(rektor, [
        { method: 'PUT', url: contactsUrl, body: { contacts: [{ personId: person('lisa@biblioteket.example') }] } },
        { method: 'PUT', url: contactsUrl, body: { contacts: [{ personId: UNKNOWN_ID }] } },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: 'Med främling', escalationContacts: [{ personId: person('admin@kultur.example') }] } },
      ], 400, 'invalid_reference');
    });

    it('deleting a group removes it with its members, alarm types and contacts but keeps the people', async () => {
      const members = [person('anna@vasaskolan.example'), person('cecilia@vasaskolan.example')];
      const created = await createGroup(rektor, t.ids.site.vasaskolan, {
        name: 'Tillfällig grupp',
        memberIds: members,
        alarmTypes: [{ alarmTypeId: t.ids.alarmType.brand, receives: true, mayRaise: true }],
        escalationContacts: [{ personId: person('bertil@vasaskolan.example') }, { name: 'Vakt', phone: '+46700000098' }],
      });
      const removed = await t.request({ method: 'DELETE', url: groupUrl(created.id), token: rektor });
      expect(removed.status).toBe(204);

      const read = await t.request({ method: 'GET', url: groupUrl(created.id), token: rektor });
      expect(read.status).toBe(404);
      const list = await t.request({ method: 'GET', url: groupsUrl(t.ids.site.vasaskolan), token: rektor });
      expect((list.body.alarmGroups as GroupView[]).map((g) => g.id)).not.toContain(created.id);

      const count = async (sql: string, params: unknown[]) => Number((await t.db.query<{ n: string }>(sql, params)).rows[0]?.n);
      expect(await count('SELECT count(*) AS n FROM alarm_groups WHERE id = $1', [created.id])).toBe(0);
      expect(await count('SELECT count(*) AS n FROM alarm_group_members WHERE group_id = $1', [created.id])).toBe(0);
      expect(await count('SELECT count(*) AS n FROM alarm_group_types WHERE group_id = $1', [created.id])).toBe(0);
      expect(await count('SELECT count(*) AS n FROM alarm_group_escalation_contacts WHERE group_id = $1', [created.id])).toBe(0);
      expect(await count('SELECT count(*) AS n FROM people WHERE id = ANY($1::uuid[]) AND active', [[...members, person('bertil@vasaskolan.example')]])).toBe(3);
      expect((await readGroup(t.ids.group.vasaAll)).members.map((m) => m.id)).toEqual(expect.arrayContaining(members));

      await expectRefused(rektor, [{ method: 'DELETE', url: groupUrl(created.id) }], 404, 'not_found');
    });
  });

  describe('conflicts and bad input change nothing', () => {
    it('a second group with the same name at the same site is a conflict', async () => {
      const created = await createGroup(rektor, t.ids.site.vasaskolan, { name: 'Mentorer' });
      await expectRefused(rektor, [
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: 'Krisgrupp' } },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: 'Mentorer', memberIds: [person('anna@vasaskolan.example')] } },
        { method: 'PATCH', url: groupUrl(created.id), body: { name: 'Krisgrupp' } },
      ], 409, 'conflict');
    });

    it('the same group name may be used at another site', async () => {
      const other = await createGroup(orgAdmin, t.ids.site.solrosen, { name: 'Krisgrupp' });
      expect(other.siteId).toBe(t.ids.site.solrosen);
    });

    it('an alarm type listed twice, or neither received nor raisable, is rejected', async () => {
      const twice = [
        { alarmTypeId: t.ids.alarmType.brand, receives: true, mayRaise: true },
        { alarmTypeId: t.ids.alarmType.brand, receives: true, mayRaise: false },
      ];
      const pointless = [
        { alarmTypeId: t.ids.alarmType.hot, receives: true, mayRaise: true },
        { alarmTypeId: t.ids.alarmType.brand, receives: false, mayRaise: false },
      ];
      await expectRefused(rektor, [
        { method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/alarm-types'), body: { alarmTypes: twice } },
        { method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/alarm-types'), body: { alarmTypes: pointless } },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: 'Dubbel', alarmTypes: twice } },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: 'Meningslös', alarmTypes: pointless } },
      ], 400, 'validation_failed');
    });

    it('an unknown or archived alarm type cannot be attached', async () => {
      const archivedId = await createAlarmType(orgAdmin, t.ids.org.utbildning, 'nedlagd_rutin');
      const archived = await t.request({ method: 'PATCH', url: `/api/v1/alarm-types/${archivedId}`, token: orgAdmin, body: { archived: true } });
      expect(archived.status).toBe(200);
      await expectRefused(rektor, [UNKNOWN_ID, archivedId].map((alarmTypeId) => ({
        method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/alarm-types'), body: { alarmTypes: [{ alarmTypeId, receives: true, mayRaise: true }] },
      })), 400, 'invalid_reference');
    });

    it('a member must be a person of the group\'s organisation', async () => {
      await expectRefused(rektor, [
        { method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/members'), body: { personIds: [person('lisa@biblioteket.example')] } },
        { method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/members'), body: { personIds: [person('anna@vasaskolan.example'), UNKNOWN_ID] } },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: 'Blandad', memberIds: [person('chef@biblioteket.example')] } },
      ], 400, 'invalid_reference');
    });

    it('malformed group input is rejected with validation_failed', async () => {
      const anna = person('anna@vasaskolan.example');
      await expectRefused(rektor, [
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: {} },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: '' } },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: '   ' } },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: 'x'.repeat(121) } },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: 'Extra', siteId: t.ids.site.solrosen } },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: 'Dubbla', memberIds: [anna, anna] } },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: 'Fel id', memberIds: ['anna'] } },
        { method: 'POST', url: groupsUrl('inte-ett-id'), body: { name: 'Fel plats' } },
        { method: 'PATCH', url: groupUrl(t.ids.group.vasaKris), body: {} },
        { method: 'PATCH', url: groupUrl(t.ids.group.vasaKris), body: { organisationId: t.ids.org.kultur } },
        { method: 'PATCH', url: groupUrl(t.ids.group.vasaKris), body: { name: null } },
        { method: 'PATCH', url: groupUrl('inte-ett-id'), body: { name: 'Fel id' } },
        { method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/members'), body: {} },
        { method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/members'), body: { personIds: anna } },
        { method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/alarm-types'), body: { alarmTypes: [{ alarmTypeId: t.ids.alarmType.brand }] } },
        { method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/alarm-types'),
          body: { alarmTypes: [{ alarmTypeId: t.ids.alarmType.brand, receives: true, mayRaise: true, priority: 1 }] } },
        { method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/alarm-types'), body: { alarmTypes: [{ key: 'brand', receives: true, mayRaise: true }] } },
        { method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/escalation-contacts'), body: { contacts: 'rektor' } },
        { method: 'GET', url: groupUrl('inte-ett-id') },
        { method: 'DELETE', url: groupUrl('inte-ett-id') },
      ], 400, 'validation_failed');
    });
  });

  describe('whom a group may take in (members and escalation contacts)', () => {
    it('a rektor cannot put a colleague of another school into their own school\'s group, as member or as escalation contact', async () => {
      const frida = person('frida@solrosen.example');
      await expectRefused(rektor, [
        { method: 'PUT', url: groupUrl(t.ids.group.vasaAll, '/members'), body: { personIds: [person('anna@vasaskolan.example'), frida] } },
        { method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/escalation-contacts'), body: { contacts: [{ personId: frida }] } },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: 'Lånad personal', memberIds: [frida] } },
        { method: 'POST', url: groupsUrl(t.ids.site.vasaskolan), body: { name: 'Lånad kontakt', escalationContacts: [{ personId: frida }] } },
      ], 403, 'forbidden');
      // Frida is not offered Vasaskolan's alarm buttons.
      const fridaToken = await t.login('frida@solrosen.example');
      const buttons = await t.request({ method: 'GET', url: `/api/v1/sites/${t.ids.site.vasaskolan}/alarm-types`, token: fridaToken });
      expect(buttons.status).toBe(200);
      expect(buttons.body.alarmTypes).toEqual([]);
    });

    it('a rektor cannot newly add someone they do not manage (the organisation\'s crisis lead), who works at their school', async () => {
      const kim = person('kris@utbildning.example');
      const created = await createGroup(rektor, t.ids.site.vasaskolan, { name: 'Utan krisledaren' });
      await expectRefused(rektor, [
        { method: 'PUT', url: groupUrl(created.id, '/members'), body: { personIds: [kim] } },
        { method: 'PUT', url: groupUrl(created.id, '/escalation-contacts'), body: { contacts: [{ personId: kim }] } },
      ], 403, 'forbidden');
    });

    it('a rektor may add themselves and the staff of their school, and keeps whoever is already in a group when sending the list again', async () => {
      const [self, kim, anna] = [person('rektor@vasaskolan.example'), person('kris@utbildning.example'), person('anna@vasaskolan.example')];
      const created = await createGroup(rektor, t.ids.site.vasaskolan, { name: 'Jag och Anna', memberIds: [self, anna], escalationContacts: [{ personId: self }] });
      expect(created.members.map((m) => m.id).sort()).toEqual([self, anna].sort());
      // Krisgrupp has Kim, whom the organisation put there: the rektor's edits keep him, or take him out.
      const kept = await t.request({ method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/members'), token: rektor, body: { personIds: [self, kim, anna] } });
      expect(kept.status, JSON.stringify(kept.body)).toBe(200);
      expect((kept.body as GroupView).members.map((m) => m.id).sort()).toEqual([self, kim, anna].sort());
      const without = await t.request({ method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/members'), token: rektor, body: { personIds: [self, anna] } });
      expect(without.status).toBe(200);
      await expectRefused(rektor, [{ method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/members'), body: { personIds: [self, kim, anna] } }], 403, 'forbidden');
      const back = await t.request({ method: 'PUT', url: groupUrl(t.ids.group.vasaKris, '/members'), token: orgAdmin, body: { personIds: [self, kim] } });
      expect(back.status).toBe(200);
    });

    it('an escalation contact\'s phone and e-mail address reach only those who may read that person; the rest see the name', async () => {
      const frida = person('frida@solrosen.example');
      const vaktmastare = { personId: null, name: 'Vaktmästare', phone: '+46700000099', email: null };
      const created = await createGroup(orgAdmin, t.ids.site.vasaskolan, {
        name: 'Med förskolans kontakt', escalationContacts: [{ personId: frida }, { name: 'Vaktmästare', phone: '+46700000099' }],
      });
      const full = { personId: frida, name: 'Frida Förskollärare', phone: '+46700000008', email: 'frida@solrosen.example' };
      const nameOnly = { personId: frida, name: 'Frida Förskollärare', phone: null, email: null };
      expect(created.escalationContacts).toEqual([full, vaktmastare]);

      const asRektor = await t.request({ method: 'GET', url: groupUrl(created.id), token: rektor });
      expect(asRektor.body.escalationContacts).toEqual([nameOnly, vaktmastare]);
      const listed = await t.request({ method: 'GET', url: groupsUrl(t.ids.site.vasaskolan), token: rektor });
      expect((listed.body.alarmGroups as GroupView[]).find((g) => g.id === created.id)?.escalationContacts).toEqual([nameOnly, vaktmastare]);
      // The rektor's own change keeps Frida (the organisation admin added her), and its answer hides her details too.
      const resent = await t.request({
        method: 'PUT', url: groupUrl(created.id, '/escalation-contacts'), token: rektor,
        body: { contacts: [{ name: 'Vaktmästare', phone: '+46700000099' }, { personId: frida }] },
      });
      expect(resent.status, JSON.stringify(resent.body)).toBe(200);
      expect(resent.body.escalationContacts).toEqual([vaktmastare, nameOnly]);
      expect((await readGroup(created.id)).escalationContacts).toEqual([vaktmastare, full]);

      // A crisis lead reads the groups but is no directory of colleagues: Rebecka's details stay hers.
      const asLead = await t.request({ method: 'GET', url: groupUrl(t.ids.group.vasaKris), token: crisisLead });
      expect(asLead.body.escalationContacts[0]).toEqual({
        personId: person('rektor@vasaskolan.example'), name: 'Rebecka Rektor', phone: null, email: null,
      });
    });
  });

  describe('tenant isolation', () => {
    it('another organisation\'s admin and rektor get 404 on every group endpoint for Vasaskolan', async () => {
      for (const token of [kulturAdmin, libraryChef]) {
        await expectRefused(token, everyEndpoint(t.ids.site.vasaskolan, t.ids.group.vasaKris), 404, 'not_found');
        await expectRefused(token, everyEndpoint(t.ids.site.solrosen, t.ids.group.solrosenAll), 404, 'not_found');
      }
    });

    it('a Vasaskolan rektor and the Utbildning admin get 404 on every group endpoint for the library', async () => {
      for (const token of [rektor, orgAdmin]) {
        await expectRefused(token, everyEndpoint(t.ids.site.biblioteket, t.ids.group.bibliotek), 404, 'not_found');
      }
    });

    it('the library cannot add a Vasaskolan person to its own group as member or contact', async () => {
      const anna = person('anna@vasaskolan.example');
      for (const token of [kulturAdmin, libraryChef]) {
        await expectRefused(token, [
          { method: 'PUT', url: groupUrl(t.ids.group.bibliotek, '/members'), body: { personIds: [person('lisa@biblioteket.example'), anna] } },
          { method: 'PUT', url: groupUrl(t.ids.group.bibliotek, '/escalation-contacts'), body: { contacts: [{ personId: anna }] } },
          { method: 'POST', url: groupsUrl(t.ids.site.biblioteket), body: { name: 'Samverkan', memberIds: [anna] } },
        ], 400, 'invalid_reference');
      }
    });

    it('a custom alarm type of another organisation cannot be attached to a group', async () => {
      const utbildningType = await createAlarmType(orgAdmin, t.ids.org.utbildning, 'gasutslapp');
      const kulturType = await createAlarmType(kulturAdmin, t.ids.org.kultur, 'vattenskada');
      const attach = (groupId: string, alarmTypeId: string): Call => ({
        method: 'PUT', url: groupUrl(groupId, '/alarm-types'), body: { alarmTypes: [{ alarmTypeId, receives: true, mayRaise: true }] },
      });
      await expectRefused(kulturAdmin, [
        attach(t.ids.group.bibliotek, utbildningType),
        { method: 'POST', url: groupsUrl(t.ids.site.biblioteket), body: { name: 'Lånad typ', alarmTypes: [{ alarmTypeId: utbildningType, receives: true, mayRaise: false }] } },
      ], 400, 'invalid_reference');
      await expectRefused(rektor, [attach(t.ids.group.vasaKris, kulturType)], 400, 'invalid_reference');

      const own = await t.request({ ...attach(t.ids.group.bibliotek, kulturType), token: libraryChef });
      expect(own.status).toBe(200);
      expect(own.body.alarmTypes).toEqual([{ alarmTypeId: kulturType, key: 'vattenskada', receives: true, mayRaise: true }]);
    });
  });

  describe('audit', () => {
    it('every change to a group is audited with before, after and the actor', async () => {
      const rektorId = person('rektor@vasaskolan.example');
      const anna = person('anna@vasaskolan.example');
      const created = await createGroup(rektor, t.ids.site.vasaskolan, { name: 'Granskad grupp' });
      const steps: Call[] = [
        { method: 'PATCH', url: groupUrl(created.id), body: { name: 'Granskad grupp 2', description: 'Ny beskrivning' } },
        { method: 'PUT', url: groupUrl(created.id, '/members'), body: { personIds: [anna] } },
        { method: 'PUT', url: groupUrl(created.id, '/alarm-types'), body: { alarmTypes: [{ alarmTypeId: t.ids.alarmType.hot, receives: true, mayRaise: false }] } },
        { method: 'PUT', url: groupUrl(created.id, '/escalation-contacts'), body: { contacts: [{ name: 'Vakt', phone: '+46700000098' }] } },
        { method: 'DELETE', url: groupUrl(created.id) },
      ];
      for (const step of steps) {
        const res = await t.request({ ...step, token: rektor });
        expect(res.status, `${step.method} ${step.url}`).toBeLessThan(300);
      }

      const entries = await auditFor(created.id);
      expect(entries.map((e) => e.action)).toEqual([
        'alarm_group.created',
        'alarm_group.updated',
        'alarm_group.members_changed',
        'alarm_group.alarm_types_changed',
        'alarm_group.escalation_contacts_changed',
        'alarm_group.deleted',
      ]);
      for (const entry of entries) {
        expect(entry).toMatchObject({ organisation_id: t.ids.org.utbildning, actor_person_id: rektorId, entity_type: 'alarm_group' });
        expect(entry.request_id).toEqual(expect.any(String));
      }
      const [creation, update, members, types, contacts, deletion] = entries;
      expect(creation?.before).toBeNull();
      expect(creation?.after).toMatchObject({ id: created.id, name: 'Granskad grupp', members: [] });
      expect(update?.before).toMatchObject({ name: 'Granskad grupp', description: null });
      expect(update?.after).toMatchObject({ name: 'Granskad grupp 2', description: 'Ny beskrivning' });
      expect(members?.before?.members).toEqual([]);
      expect(members?.after?.members).toEqual([{ id: anna, name: 'Anna Andersson' }]);
      expect(types?.before?.alarmTypes).toEqual([]);
      expect(types?.after?.alarmTypes).toEqual([{ alarmTypeId: t.ids.alarmType.hot, key: 'hot', receives: true, mayRaise: false }]);
      expect(contacts?.before?.escalationContacts).toEqual([]);
      expect(contacts?.after?.escalationContacts).toEqual([{ personId: null, name: 'Vakt', phone: '+46700000098', email: null }]);
      expect(deletion?.before).toMatchObject({ name: 'Granskad grupp 2', members: [{ id: anna }] });
      expect(deletion?.after).toBeNull();
    });

    it('an organisation admin\'s change to a school\'s group names the admin as actor', async () => {
      const res = await t.request({ method: 'PATCH', url: groupUrl(t.ids.group.vasaAll), token: orgAdmin, body: { description: 'Alla anställda' } });
      expect(res.status).toBe(200);
      const last = (await auditFor(t.ids.group.vasaAll)).at(-1);
      expect(last).toMatchObject({
        action: 'alarm_group.updated', actor_person_id: person('admin@utbildning.example'), organisation_id: t.ids.org.utbildning,
      });
      expect(last?.before?.description).toBeNull();
      expect(last?.after?.description).toBe('Alla anställda');
    });
  });
});
