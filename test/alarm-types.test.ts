import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAP_CATEGORIES, CAP_RESPONSE_TYPES, CAP_SEVERITIES, CAP_URGENCIES } from '../src/modules/alarm-types/alarm-types.js';
import { startApp, type TestApp } from './helpers/app.js';

interface AlarmTypeView {
  id: string;
  organisationId: string | null;
  builtIn: boolean;
  key: string;
  label: { sv: string; en: string };
  instruction: { sv: string; en: string };
  colour: string;
  icon: string;
  sound: 'loud' | 'silent';
  precedence: number;
  cap: { category: string; event: string; responseType: string; severity: string; urgency: string };
  archived: boolean;
}

interface AuditRow {
  organisation_id: string;
  actor_person_id: string;
  action: string;
  entity_type: string;
  before: AlarmTypeView | null;
  after: AlarmTypeView | null;
  request_id: string | null;
}

const BUILT_IN_KEYS = ['inrymning', 'brand', 'utrymning', 'hot'];

/** A valid body for a custom type; each test picks its own key. */
const customType = (key: string, overrides: Record<string, unknown> = {}) => ({
  key,
  label: { sv: 'Medicinskt nödläge', en: 'Medical emergency' },
  instruction: {
    sv: 'Ring 112, hämta hjärtstartaren och möt ambulansen vid entrén.',
    en: 'Call 112, fetch the defibrillator and meet the ambulance at the entrance.',
  },
  colour: '#1565C0',
  icon: 'medical',
  sound: 'loud',
  precedence: 50,
  cap: { category: 'Health', event: 'Medicinskt nödläge', responseType: 'Execute', severity: 'Severe', urgency: 'Immediate' },
  ...overrides,
});

describe('alarm types', () => {
  let t: TestApp;
  let orgAdmin: string;
  let kulturAdmin: string;
  let libraryChef: string;
  let staff: string;
  let rektor: string;
  let crisisLead: string;

  const listUrl = (organisationId: string, query = '') => `/api/v1/organisations/${organisationId}/alarm-types${query}`;
  const typeUrl = (id: string) => `/api/v1/alarm-types/${id}`;

  async function list(token: string, organisationId: string, query = ''): Promise<AlarmTypeView[]> {
    const res = await t.request({ method: 'GET', url: listUrl(organisationId, query), token });
    expect(res.status).toBe(200);
    return res.body.alarmTypes as AlarmTypeView[];
  }

  async function create(token: string, organisationId: string, body: object): Promise<AlarmTypeView> {
    const res = await t.request({ method: 'POST', url: listUrl(organisationId), token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as AlarmTypeView;
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
    orgAdmin = await t.login('admin@utbildning.example');
    kulturAdmin = await t.login('admin@kultur.example');
    libraryChef = await t.login('chef@biblioteket.example');
    staff = await t.login('anna@vasaskolan.example');
    rektor = await t.login('rektor@vasaskolan.example');
    crisisLead = await t.login('kris@utbildning.example');
  });
  afterAll(() => t.close());

  describe('built-in types', () => {
    it('every organisation lists the four built-in types, highest precedence first', async () => {
      const cases: [string, string][] = [
        [orgAdmin, t.ids.org.utbildning],
        [staff, t.ids.org.utbildning],
        [kulturAdmin, t.ids.org.kultur],
        [libraryChef, t.ids.org.kultur],
      ];
      for (const [token, organisationId] of cases) {
        const builtIn = (await list(token, organisationId)).filter((type) => type.builtIn);
        expect(builtIn.map((type) => type.key)).toEqual(BUILT_IN_KEYS);
        expect(builtIn.every((type) => type.organisationId === null && !type.archived)).toBe(true);
        const precedences = builtIn.map((type) => type.precedence);
        expect(precedences).toEqual([...precedences].sort((a, b) => b - a));
        expect(new Set(precedences).size).toBe(precedences.length);
      }
    });

    it('built-in types carry Swedish and English labels, a colour, an instruction, a sound profile and a valid CAP mapping', async () => {
      const types = await list(staff, t.ids.org.utbildning);
      for (const type of types.filter((x) => x.builtIn)) {
        expect(type.label.sv.trim()).not.toBe('');
        expect(type.label.en.trim()).not.toBe('');
        expect(type.instruction.sv.length).toBeGreaterThan(20);
        expect(type.instruction.en.length).toBeGreaterThan(20);
        expect(type.colour).toMatch(/^#[0-9a-f]{6}$/);
        expect(type.icon).not.toBe('');
        expect(['loud', 'silent']).toContain(type.sound);
        expect(CAP_CATEGORIES).toContain(type.cap.category);
        expect(CAP_RESPONSE_TYPES).toContain(type.cap.responseType);
        expect(CAP_SEVERITIES).toContain(type.cap.severity);
        expect(CAP_URGENCIES).toContain(type.cap.urgency);
        expect(type.cap.event).not.toBe('');
      }
      const byKey = new Map(types.map((type) => [type.key, type]));
      expect(byKey.get('inrymning')).toMatchObject({
        label: { sv: 'Inrymning (PDV)', en: 'Lockdown (active violence)' },
        colour: '#6a1b9a',
        sound: 'silent',
        cap: { category: 'Security', event: 'Inrymning', responseType: 'Shelter', severity: 'Extreme', urgency: 'Immediate' },
      });
      expect(byKey.get('inrymning')?.instruction.sv).toContain('Lås eller barrikadera dörren');
      expect(byKey.get('inrymning')?.instruction.en).toContain('Lock or barricade the door');
      expect(byKey.get('brand')).toMatchObject({
        label: { sv: 'Brand', en: 'Fire' }, sound: 'loud', cap: { category: 'Fire', responseType: 'Evacuate' },
      });
      expect(byKey.get('utrymning')).toMatchObject({ label: { sv: 'Utrymning', en: 'Evacuation' }, cap: { responseType: 'Evacuate' } });
      expect(byKey.get('hot')).toMatchObject({ label: { sv: 'Hot', en: 'Threat' }, cap: { responseType: 'Monitor' } });
    });

    it('a lockdown outranks a fire, so nobody is sent out during ongoing lethal violence', async () => {
      const types = await list(staff, t.ids.org.utbildning);
      const precedence = (key: string) => types.find((type) => type.key === key)?.precedence ?? -1;
      expect(precedence('inrymning')).toBeGreaterThan(precedence('brand'));
    });

    it('a built-in type can be read by id from any organisation', async () => {
      for (const token of [staff, kulturAdmin, libraryChef]) {
        const res = await t.request({ method: 'GET', url: typeUrl(t.ids.alarmType.inrymning), token });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ id: t.ids.alarmType.inrymning, key: 'inrymning', builtIn: true, organisationId: null, sound: 'silent' });
      }
    });

    it('an organisation admin cannot change a built-in type: builtin_immutable, and nothing changes', async () => {
      const before = await t.snapshot();
      for (const token of [orgAdmin, kulturAdmin]) {
        for (const body of [{ colour: '#000000' }, { archived: true }, { sound: 'loud' }, { label: { sv: 'Låsning' } }]) {
          const res = await t.request({ method: 'PATCH', url: typeUrl(t.ids.alarmType.inrymning), token, body });
          expect(res.status).toBe(409);
          expect(res.body.code).toBe('builtin_immutable');
        }
      }
      expect(await t.snapshot()).toBe(before);
    });

    it('staff, rektorer and crisis leads cannot change a built-in type: forbidden', async () => {
      const before = await t.snapshot();
      for (const token of [staff, rektor, crisisLead, libraryChef]) {
        const res = await t.request({ method: 'PATCH', url: typeUrl(t.ids.alarmType.brand), token, body: { colour: '#000000' } });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('forbidden');
      }
      expect(await t.snapshot()).toBe(before);
    });
  });

  describe('custom types', () => {
    it('an organisation admin adds a custom type that is listed for their organisation by precedence', async () => {
      const created = await create(orgAdmin, t.ids.org.utbildning, customType('medicinskt'));
      expect(created).toMatchObject({
        organisationId: t.ids.org.utbildning,
        builtIn: false,
        key: 'medicinskt',
        label: { sv: 'Medicinskt nödläge', en: 'Medical emergency' },
        colour: '#1565c0',
        icon: 'medical',
        sound: 'loud',
        precedence: 50,
        cap: { category: 'Health', event: 'Medicinskt nödläge', responseType: 'Execute', severity: 'Severe', urgency: 'Immediate' },
        archived: false,
      });

      const listed = await list(staff, t.ids.org.utbildning);
      expect(listed.map((type) => type.key)).toEqual([...BUILT_IN_KEYS, 'medicinskt']);

      const read = await t.request({ method: 'GET', url: typeUrl(created.id), token: rektor });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created);
    });

    it('a custom type with a higher precedence is listed above the built-in types it outranks', async () => {
      const created = await create(orgAdmin, t.ids.org.utbildning, customType('gasutslapp', {
        label: { sv: 'Gasutsläpp', en: 'Gas leak' }, precedence: 90,
        cap: { category: 'CBRNE', event: 'Gasutsläpp', responseType: 'Evacuate', severity: 'Extreme', urgency: 'Immediate' },
      }));
      const keys = (await list(orgAdmin, t.ids.org.utbildning)).map((type) => type.key);
      expect(keys.indexOf(created.key)).toBe(keys.indexOf('inrymning') + 1);
      expect(keys.indexOf(created.key)).toBeLessThan(keys.indexOf('brand'));
    });

    it('a custom type is invisible to another organisation: not listed, and 404 by id', async () => {
      const created = await create(orgAdmin, t.ids.org.utbildning, customType('hjartstopp'));
      const before = await t.snapshot();

      for (const token of [kulturAdmin, libraryChef]) {
        const own = await list(token, t.ids.org.kultur, '?includeArchived=true');
        expect(own.map((type) => type.id)).not.toContain(created.id);
        expect(own.every((type) => type.organisationId === null || type.organisationId === t.ids.org.kultur)).toBe(true);

        const foreignList = await t.request({ method: 'GET', url: listUrl(t.ids.org.utbildning), token });
        expect(foreignList.status).toBe(404);
        expect(foreignList.body.code).toBe('not_found');
        expect(foreignList.body.alarmTypes).toBeUndefined();

        const read = await t.request({ method: 'GET', url: typeUrl(created.id), token });
        expect(read.status).toBe(404);
        expect(read.body.code).toBe('not_found');
      }
      expect(await t.snapshot()).toBe(before);
    });

    it('another organisation cannot change or archive a custom type: 404, and nothing changes', async () => {
      const created = await create(orgAdmin, t.ids.org.utbildning, customType('allergichock'));
      const before = await t.snapshot();
      for (const token of [kulturAdmin, libraryChef]) {
        for (const body of [{ colour: '#000000' }, { archived: true }, { label: { sv: 'Övertagen' } }]) {
          const res = await t.request({ method: 'PATCH', url: typeUrl(created.id), token, body });
          expect(res.status).toBe(404);
          expect(res.body.code).toBe('not_found');
        }
      }
      expect(await t.snapshot()).toBe(before);
      const read = await t.request({ method: 'GET', url: typeUrl(created.id), token: orgAdmin });
      expect(read.body).toEqual(created);
    });

    it('another organisation cannot add a type to this organisation: 404, and nothing changes', async () => {
      const before = await t.snapshot();
      for (const token of [kulturAdmin, libraryChef]) {
        const res = await t.request({ method: 'POST', url: listUrl(t.ids.org.utbildning), token, body: customType('inkraktare') });
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('not_found');
      }
      expect(await t.snapshot()).toBe(before);
    });

    it('another organisation may use the same key for a custom type of its own', async () => {
      await create(orgAdmin, t.ids.org.utbildning, customType('sjukdomsfall'));
      const theirs = await create(kulturAdmin, t.ids.org.kultur, customType('sjukdomsfall', { label: { sv: 'Sjukdomsfall', en: 'Illness' } }));
      expect(theirs.organisationId).toBe(t.ids.org.kultur);

      const kulturTypes = await list(libraryChef, t.ids.org.kultur);
      expect(kulturTypes.filter((type) => type.key === 'sjukdomsfall').map((type) => type.id)).toEqual([theirs.id]);
      const utbildningTypes = await list(staff, t.ids.org.utbildning);
      expect(utbildningTypes.filter((type) => type.key === 'sjukdomsfall').map((type) => type.organisationId))
        .toEqual([t.ids.org.utbildning]);
    });

    it('staff, rektorer and crisis leads cannot create alarm types: forbidden, and nothing changes', async () => {
      const before = await t.snapshot();
      const cases: [string, string][] = [
        [staff, t.ids.org.utbildning],
        [rektor, t.ids.org.utbildning],
        [crisisLead, t.ids.org.utbildning],
        [libraryChef, t.ids.org.kultur],
      ];
      for (const [token, organisationId] of cases) {
        const res = await t.request({ method: 'POST', url: listUrl(organisationId), token, body: customType('obehorig') });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('forbidden');
      }
      expect(await t.snapshot()).toBe(before);
    });

    it('staff and rektorer cannot change their organisation\'s custom types: forbidden, and nothing changes', async () => {
      const created = await create(orgAdmin, t.ids.org.utbildning, customType('vattenlacka'));
      const before = await t.snapshot();
      for (const token of [staff, rektor, crisisLead]) {
        const res = await t.request({ method: 'PATCH', url: typeUrl(created.id), token, body: { archived: true } });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('forbidden');
      }
      expect(await t.snapshot()).toBe(before);
    });

    it('a key that a built-in or an own custom type already uses is a conflict, and nothing changes', async () => {
      await create(orgAdmin, t.ids.org.utbildning, customType('stromavbrott'));
      const before = await t.snapshot();
      for (const key of ['brand', 'inrymning', 'stromavbrott']) {
        const res = await t.request({ method: 'POST', url: listUrl(t.ids.org.utbildning), token: orgAdmin, body: customType(key) });
        expect(res.status).toBe(409);
        expect(res.body.code).toBe('conflict');
      }
      expect(await t.snapshot()).toBe(before);
    });

    it('an organisation admin changes a custom type partially and the rest stays as it was', async () => {
      const created = await create(orgAdmin, t.ids.org.utbildning, customType('forsvunnen_elev', {
        label: { sv: 'Försvunnen elev', en: 'Missing pupil' },
      }));
      const res = await t.request({
        method: 'PATCH', url: typeUrl(created.id), token: orgAdmin,
        body: { label: { en: 'Missing child' }, colour: '#2E7D32', sound: 'silent', cap: { severity: 'Moderate' } },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: created.id,
        key: 'forsvunnen_elev',
        label: { sv: 'Försvunnen elev', en: 'Missing child' },
        instruction: created.instruction,
        colour: '#2e7d32',
        sound: 'silent',
        precedence: created.precedence,
        cap: { ...created.cap, severity: 'Moderate' },
        archived: false,
      });
      const read = await t.request({ method: 'GET', url: typeUrl(created.id), token: staff });
      expect(read.body).toEqual(res.body);
    });

    it('archiving hides a custom type from the default list but not from ?includeArchived=true', async () => {
      const created = await create(orgAdmin, t.ids.org.utbildning, customType('gammal_rutin'));

      const archived = await t.request({ method: 'PATCH', url: typeUrl(created.id), token: orgAdmin, body: { archived: true } });
      expect(archived.status).toBe(200);
      expect(archived.body.archived).toBe(true);

      expect((await list(staff, t.ids.org.utbildning)).map((type) => type.id)).not.toContain(created.id);
      expect((await list(staff, t.ids.org.utbildning, '?includeArchived=false')).map((type) => type.id)).not.toContain(created.id);
      const withArchived = await list(staff, t.ids.org.utbildning, '?includeArchived=true');
      expect(withArchived.find((type) => type.id === created.id)?.archived).toBe(true);
      expect(withArchived.filter((type) => type.builtIn).map((type) => type.key)).toEqual(BUILT_IN_KEYS);

      const read = await t.request({ method: 'GET', url: typeUrl(created.id), token: staff });
      expect(read.status).toBe(200);
      expect(read.body.archived).toBe(true);

      const restored = await t.request({ method: 'PATCH', url: typeUrl(created.id), token: orgAdmin, body: { archived: false } });
      expect(restored.status).toBe(200);
      expect((await list(staff, t.ids.org.utbildning)).map((type) => type.id)).toContain(created.id);
    });

    it('an unknown alarm type id is not found', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      const read = await t.request({ method: 'GET', url: typeUrl(unknown), token: orgAdmin });
      expect(read.status).toBe(404);
      expect(read.body.code).toBe('not_found');
      const before = await t.snapshot();
      const change = await t.request({ method: 'PATCH', url: typeUrl(unknown), token: orgAdmin, body: { archived: true } });
      expect(change.status).toBe(404);
      expect(change.body.code).toBe('not_found');
      expect(await t.snapshot()).toBe(before);
    });

    it('alarm types need a signed-in caller', async () => {
      const res = await t.request({ method: 'GET', url: listUrl(t.ids.org.utbildning) });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthenticated');
    });
  });

  describe('bad input changes nothing', () => {
    it('a new type with a bad colour, key, CAP value, sound, precedence or an extra field is rejected with validation_failed', async () => {
      const valid = customType('giltig');
      const bodies: object[] = [
        { ...valid, colour: 'red' },
        { ...valid, colour: '#12345' },
        { ...valid, colour: '#12345g' },
        { ...valid, colour: '1565c0' },
        { ...valid, key: 'Medicinskt' },
        { ...valid, key: '1medicinskt' },
        { ...valid, key: 'm' },
        { ...valid, key: 'med-sjuk' },
        { ...valid, key: 'medicinskt nödläge' },
        { ...valid, key: 'a'.repeat(41) },
        { ...valid, cap: { ...valid.cap, category: 'Medical' } },
        { ...valid, cap: { ...valid.cap, responseType: 'Run' } },
        { ...valid, cap: { ...valid.cap, severity: 'Catastrophic' } },
        { ...valid, cap: { ...valid.cap, urgency: 'Now' } },
        { ...valid, cap: { ...valid.cap, event: '' } },
        { ...valid, cap: { ...valid.cap, extra: 'x' } },
        { ...valid, sound: 'vibrate' },
        { ...valid, precedence: 1001 },
        { ...valid, precedence: -1 },
        { ...valid, precedence: 1.5 },
        { ...valid, icon: 'Medical Icon' },
        { ...valid, label: { sv: '   ', en: 'Medical' } },
        { ...valid, label: { sv: 'Medicinskt' } },
        { ...valid, label: { ...valid.label, de: 'Notfall' } },
        { ...valid, builtIn: true },
        { ...valid, organisationId: t.ids.org.kultur },
        { key: 'ofullstandig', label: valid.label },
        {},
      ];
      const before = await t.snapshot();
      for (const body of bodies) {
        const res = await t.request({ method: 'POST', url: listUrl(t.ids.org.utbildning), token: orgAdmin, body });
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.code).toBe('validation_failed');
        expect(typeof res.body.message).toBe('string');
      }
      expect(await t.snapshot()).toBe(before);
    });

    it('an empty, unknown or malformed change to a custom type is rejected with validation_failed', async () => {
      const created = await create(orgAdmin, t.ids.org.utbildning, customType('brandlarm_test'));
      const bodies: object[] = [
        {},
        { colour: '#abc' },
        { colour: 'blue' },
        { cap: { urgency: 'Soon' } },
        { cap: { responseType: 'Hide' } },
        { cap: { scope: 'Public' } },
        { key: 'nytt_namn' },
        { organisationId: t.ids.org.kultur },
        { builtIn: true },
        { archived: 'sometimes' },
        { precedence: 5000 },
        { label: { sv: '' } },
        { label: { fr: 'Urgence' } },
        { label: {} },
        { instruction: { sv: 'Ny', de: 'Neu' } },
        { cap: {} },
      ];
      const before = await t.snapshot();
      for (const body of bodies) {
        const res = await t.request({ method: 'PATCH', url: typeUrl(created.id), token: orgAdmin, body });
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.code).toBe('validation_failed');
      }
      expect(await t.snapshot()).toBe(before);
    });

    it('malformed ids and query parameters are rejected with validation_failed', async () => {
      const before = await t.snapshot();
      const requests: { method: 'GET' | 'POST' | 'PATCH'; url: string; body?: object }[] = [
        { method: 'GET', url: typeUrl('not-a-uuid') },
        { method: 'PATCH', url: typeUrl('not-a-uuid'), body: { archived: true } },
        { method: 'GET', url: listUrl('not-a-uuid') },
        { method: 'POST', url: listUrl('not-a-uuid'), body: customType('fel_id') },
        { method: 'GET', url: listUrl(t.ids.org.utbildning, '?includeArchived=maybe') },
        { method: 'GET', url: listUrl(t.ids.org.utbildning, '?archived=true') },
      ];
      for (const { method, url, body } of requests) {
        const res = await t.request({ method, url, token: orgAdmin, body });
        expect(res.status, `${method} ${url}`).toBe(400);
        expect(res.body.code).toBe('validation_failed');
      }
      expect(await t.snapshot()).toBe(before);
    });
  });

  describe('what a person may raise at a site', () => {
    const raisable = async (token: string, siteId: string) => {
      const res = await t.request({ method: 'GET', url: `/api/v1/sites/${siteId}/alarm-types`, token });
      return { status: res.status, keys: (res.body.alarmTypes as AlarmTypeView[] | undefined)?.map((a) => a.key), drill: res.body.drill as boolean };
    };

    it('staff get the types their groups at the site may raise; leads every type and drills; other sites of their organisation nothing', async () => {
      expect(await raisable(staff, t.ids.site.vasaskolan)).toEqual({ status: 200, keys: ['inrymning', 'brand', 'utrymning', 'hot'], drill: false });
      const lisa = await t.login('lisa@biblioteket.example');
      expect(await raisable(lisa, t.ids.site.biblioteket)).toEqual({ status: 200, keys: ['brand', 'hot'], drill: false });
      // A lead: every type the organisation can use, its own custom ones included.
      const usable = (await list(libraryChef, t.ids.org.kultur)).map((a) => a.key);
      expect(usable).toEqual(expect.arrayContaining(['inrymning', 'brand', 'utrymning', 'hot']));
      expect(await raisable(libraryChef, t.ids.site.biblioteket)).toEqual({ status: 200, keys: usable, drill: true });
      expect(await raisable(crisisLead, t.ids.site.solrosen)).toMatchObject({ status: 200, drill: true });
      expect(await raisable(staff, t.ids.site.solrosen)).toEqual({ status: 200, keys: [], drill: false });
    });

    it('another organisation\'s site is not found, as a site that does not exist', async () => {
      const other = await t.request({ method: 'GET', url: `/api/v1/sites/${t.ids.site.vasaskolan}/alarm-types`, token: kulturAdmin });
      const missing = await t.request({ method: 'GET', url: `/api/v1/sites/${randomUUID()}/alarm-types`, token: kulturAdmin });
      expect(other.status).toBe(404);
      expect(other.body).toEqual(missing.body);
    });
  });

  describe('delivery policy', () => {
    it('built-in types carry their policy; a custom type gets the default or its own, and changes it in part', async () => {
      const lockdown = (await list(staff, t.ids.org.utbildning)).find((a) => a.key === 'inrymning') as AlarmTypeView & { delivery: unknown };
      expect(lockdown.delivery).toEqual({ pushTtlSeconds: 900, repushAfterSeconds: 60, maxRepushes: 3, contactsAfterSeconds: 120, smsToContacts: false, smsWhenNoPush: false });
      const fire = (await list(staff, t.ids.org.utbildning)).find((a) => a.key === 'brand') as AlarmTypeView & { delivery: { smsWhenNoPush: boolean } };
      expect(fire.delivery.smsWhenNoPush).toBe(true);
      const plain = await create(orgAdmin, t.ids.org.utbildning, customType('medicin_standard')) as AlarmTypeView & { delivery: unknown };
      expect(plain.delivery).toEqual({ pushTtlSeconds: 600, repushAfterSeconds: 60, maxRepushes: 3, contactsAfterSeconds: 180, smsToContacts: false, smsWhenNoPush: true });
      // A silent type gets no SMS to those without push unless its admin chooses it (ADR 025): an SMS makes a sound.
      const silent = await create(orgAdmin, t.ids.org.utbildning, { ...customType('tyst_standard'), sound: 'silent' }) as AlarmTypeView & { delivery: { smsWhenNoPush: boolean } };
      expect(silent.delivery.smsWhenNoPush).toBe(false);
      const own = await create(orgAdmin, t.ids.org.utbildning, {
        ...customType('medicin_sms'), delivery: { pushTtlSeconds: 300, contactsAfterSeconds: 30, smsToContacts: true },
      }) as AlarmTypeView & { delivery: unknown };
      expect(own.delivery).toEqual({ pushTtlSeconds: 300, repushAfterSeconds: 60, maxRepushes: 3, contactsAfterSeconds: 30, smsToContacts: true, smsWhenNoPush: true });
      const changed = await t.request({ method: 'PATCH', url: typeUrl(own.id), token: orgAdmin, body: { delivery: { repushAfterSeconds: null, smsWhenNoPush: false } } });
      expect(changed.status).toBe(200);
      expect(changed.body.delivery).toEqual({ pushTtlSeconds: 300, repushAfterSeconds: null, maxRepushes: 3, contactsAfterSeconds: 30, smsToContacts: true, smsWhenNoPush: false });
    });

    it('refuses a policy out of bounds and changes nothing', async () => {
      const created = await create(orgAdmin, t.ids.org.utbildning, customType('medicin_gransen'));
      const before = await t.snapshot();
      for (const delivery of [{ pushTtlSeconds: 5 }, { repushAfterSeconds: 0 }, { maxRepushes: 21 }, { smsToContacts: 'yes' }, { smsWhenNoPush: null }, { sound: 'loud' }]) {
        const res = await t.request({ method: 'PATCH', url: typeUrl(created.id), token: orgAdmin, body: { delivery } });
        expect(res.status, JSON.stringify(delivery)).toBe(400);
        expect(res.body.code).toBe('validation_failed');
      }
      expect(await t.snapshot()).toBe(before);
    });
  });

  describe('audit', () => {
    it('creating and changing a custom type are audited with before, after and the actor', async () => {
      const created = await create(orgAdmin, t.ids.org.utbildning, customType('evakuering_gym'));
      const changed = await t.request({
        method: 'PATCH', url: typeUrl(created.id), token: orgAdmin, body: { colour: '#004D40', archived: true },
      });
      expect(changed.status).toBe(200);

      const entries = await auditFor(created.id);
      expect(entries.map((e) => e.action)).toEqual(['alarm_type.created', 'alarm_type.updated']);
      const adminId = t.ids.person['admin@utbildning.example'];
      for (const entry of entries) {
        expect(entry).toMatchObject({ organisation_id: t.ids.org.utbildning, actor_person_id: adminId, entity_type: 'alarm_type' });
        expect(entry.request_id).toEqual(expect.any(String));
      }
      const [creation, update] = entries;
      expect(creation?.before).toBeNull();
      expect(creation?.after).toMatchObject({ id: created.id, key: 'evakuering_gym', colour: '#1565c0', archived: false });
      expect(update?.before).toMatchObject({ colour: '#1565c0', archived: false });
      expect(update?.after).toMatchObject({ colour: '#004d40', archived: true });
    });

    it('rejected changes leave no audit entry', async () => {
      const count = async () => Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM audit_log')).rows[0]?.n);
      const before = await count();
      await t.request({ method: 'PATCH', url: typeUrl(t.ids.alarmType.brand), token: orgAdmin, body: { colour: '#000000' } });
      await t.request({ method: 'POST', url: listUrl(t.ids.org.utbildning), token: staff, body: customType('nekad') });
      await t.request({ method: 'POST', url: listUrl(t.ids.org.utbildning), token: orgAdmin, body: customType('brand') });
      expect(await count()).toBe(before);
    });
  });
});
