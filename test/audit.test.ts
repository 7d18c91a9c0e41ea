import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';

interface AuditEntryView {
  id: string;
  action: string;
  entityType: string;
  entityId: string;
  actor: { id: string; name: string | null } | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  requestId: string | null;
  at: string;
}

interface AuditPage {
  entries: AuditEntryView[];
  nextBefore: string | null;
}

const auditUrl = (organisationId: string, query = '') => `/api/v1/organisations/${organisationId}/audit-log${query}`;

describe('audit log', () => {
  let t: TestApp;
  let orgAdmin: string;
  let kulturAdmin: string;
  let systemAdmin: string;
  let rektor: string;
  let staff: string;
  let crisisLead: string;
  let libraryChef: string;
  /** Entity ids of the changes made in beforeAll, in the order they were made. */
  const utbildningChanges: { action: string; entityId: string; actorEmail: string }[] = [];
  let kulturTypeId: string;

  async function page(token: string, organisationId: string, query = ''): Promise<AuditPage> {
    const res = await t.request({ method: 'GET', url: auditUrl(organisationId, query), token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as AuditPage;
  }

  const alarmTypeBody = (key: string) => ({
    key,
    label: { sv: 'Övningstyp', en: 'Practice type' },
    instruction: { sv: 'Följ instruktionerna.', en: 'Follow the instructions.' },
    colour: '#123456', icon: 'info', sound: 'loud', precedence: 10,
    cap: { category: 'Other', event: 'Övning', responseType: 'Monitor', severity: 'Minor', urgency: 'Expected' },
  });

  beforeAll(async () => {
    t = await startApp();
    orgAdmin = await t.login('admin@utbildning.example');
    kulturAdmin = await t.login('admin@kultur.example');
    systemAdmin = await t.login('system@samlarm.example');
    rektor = await t.login('rektor@vasaskolan.example');
    staff = await t.login('anna@vasaskolan.example');
    crisisLead = await t.login('kris@utbildning.example');
    libraryChef = await t.login('chef@biblioteket.example');

    const created = await t.request({
      method: 'POST', url: `/api/v1/organisations/${t.ids.org.utbildning}/alarm-types`, token: orgAdmin, body: alarmTypeBody('medicinskt'),
    });
    expect(created.status).toBe(201);
    utbildningChanges.push({ action: 'alarm_type.created', entityId: created.body.id, actorEmail: 'admin@utbildning.example' });

    const archived = await t.request({ method: 'PATCH', url: `/api/v1/alarm-types/${created.body.id}`, token: orgAdmin, body: { archived: true } });
    expect(archived.status).toBe(200);
    utbildningChanges.push({ action: 'alarm_type.updated', entityId: created.body.id, actorEmail: 'admin@utbildning.example' });

    const group = await t.request({ method: 'POST', url: `/api/v1/sites/${t.ids.site.vasaskolan}/alarm-groups`, token: rektor, body: { name: 'Elevhälsa' } });
    expect(group.status).toBe(201);
    utbildningChanges.push({ action: 'alarm_group.created', entityId: group.body.id, actorEmail: 'rektor@vasaskolan.example' });

    for (const personIds of [[t.ids.person['anna@vasaskolan.example']], [t.ids.person['bertil@vasaskolan.example']]]) {
      const members = await t.request({ method: 'PUT', url: `/api/v1/alarm-groups/${group.body.id}/members`, token: rektor, body: { personIds } });
      expect(members.status).toBe(200);
      utbildningChanges.push({ action: 'alarm_group.members_changed', entityId: group.body.id, actorEmail: 'rektor@vasaskolan.example' });
    }

    const kulturType = await t.request({
      method: 'POST', url: `/api/v1/organisations/${t.ids.org.kultur}/alarm-types`, token: kulturAdmin, body: alarmTypeBody('bokbrand'),
    });
    expect(kulturType.status).toBe(201);
    kulturTypeId = kulturType.body.id;
  });
  afterAll(() => t.close());

  it('an organisation admin reads the entries newest first with actor name, action and before/after', async () => {
    const { entries, nextBefore } = await page(orgAdmin, t.ids.org.utbildning);
    expect(nextBefore).toBeNull();
    const expected = [...utbildningChanges].reverse();
    expect(entries.map((e) => [e.action, e.entityId])).toEqual(expected.map((c) => [c.action, c.entityId]));

    const ids = entries.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
    const times = entries.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const [newest, , , archiving, creation] = entries;
    expect(newest).toMatchObject({
      action: 'alarm_group.members_changed',
      entityType: 'alarm_group',
      actor: { id: t.ids.person['rektor@vasaskolan.example'], name: 'Rebecka Rektor' },
      before: { members: [{ id: t.ids.person['anna@vasaskolan.example'], name: 'Anna Andersson' }] },
      after: { members: [{ id: t.ids.person['bertil@vasaskolan.example'], name: 'Bertil Berg' }] },
    });
    expect(archiving).toMatchObject({
      action: 'alarm_type.updated',
      entityType: 'alarm_type',
      actor: { id: t.ids.person['admin@utbildning.example'], name: 'Olle Organisationsadmin' },
      before: { key: 'medicinskt', archived: false },
      after: { key: 'medicinskt', archived: true },
    });
    expect(creation).toMatchObject({ action: 'alarm_type.created', before: null, after: { key: 'medicinskt' } });
    for (const entry of entries) {
      expect(entry.requestId).toEqual(expect.any(String));
      expect(new Date(entry.at).toISOString()).toBe(entry.at);
    }
  });

  it('a system admin reads any organisation\'s audit log', async () => {
    const { entries } = await page(systemAdmin, t.ids.org.utbildning);
    expect(entries.map((e) => e.entityId)).toEqual([...utbildningChanges].reverse().map((c) => c.entityId));
  });

  it('the log is paged with before and limit until nextBefore runs out', async () => {
    const all = (await page(orgAdmin, t.ids.org.utbildning)).entries;
    expect(all.length).toBe(5);

    const first = await page(orgAdmin, t.ids.org.utbildning, '?limit=2');
    expect(first.entries).toEqual(all.slice(0, 2));
    expect(first.nextBefore).toBe(all[1]?.id);

    const second = await page(orgAdmin, t.ids.org.utbildning, `?limit=2&before=${first.nextBefore}`);
    expect(second.entries).toEqual(all.slice(2, 4));
    expect(second.nextBefore).toBe(all[3]?.id);

    const third = await page(orgAdmin, t.ids.org.utbildning, `?limit=2&before=${second.nextBefore}`);
    expect(third.entries).toEqual(all.slice(4));
    expect(third.nextBefore).toBeNull();
  });

  it('walking every page with nextBefore yields each entry exactly once', async () => {
    const all = (await page(orgAdmin, t.ids.org.utbildning)).entries;
    const walked: AuditEntryView[] = [];
    let query = '?limit=1';
    for (let pages = 0; pages < 20; pages++) {
      const next = await page(orgAdmin, t.ids.org.utbildning, query);
      walked.push(...next.entries);
      if (!next.nextBefore) break;
      query = `?limit=1&before=${next.nextBefore}`;
    }
    expect(walked).toEqual(all);
  });

  it('before an entry returns only older entries, and before the oldest returns none', async () => {
    const all = (await page(orgAdmin, t.ids.org.utbildning)).entries;
    const middle = all[2];
    const older = await page(orgAdmin, t.ids.org.utbildning, `?before=${middle?.id}`);
    expect(older.entries).toEqual(all.slice(3));
    const none = await page(orgAdmin, t.ids.org.utbildning, `?before=${all.at(-1)?.id}`);
    expect(none).toEqual({ entries: [], nextBefore: null });
  });

  // Rektorer read the entries about their own sites (test/administration.test.ts).
  it('staff and crisis leads cannot read the audit log', async () => {
    const cases: [string, string][] = [
      [staff, t.ids.org.utbildning],
      [crisisLead, t.ids.org.utbildning],
    ];
    for (const [token, organisationId] of cases) {
      const res = await t.request({ method: 'GET', url: auditUrl(organisationId), token });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
      expect(res.body.entries).toBeUndefined();
    }
  });

  it('another organisation\'s admin gets 404 and never sees this organisation\'s entries', async () => {
    for (const token of [kulturAdmin, libraryChef]) {
      for (const query of ['', '?limit=500', `?before=${Number.MAX_SAFE_INTEGER}`]) {
        const res = await t.request({ method: 'GET', url: auditUrl(t.ids.org.utbildning, query), token });
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('not_found');
        expect(res.body.entries).toBeUndefined();
      }
    }
    const own = await page(kulturAdmin, t.ids.org.kultur);
    expect(own.entries.map((e) => [e.action, e.entityId])).toEqual([['alarm_type.created', kulturTypeId]]);
    expect(own.entries[0]?.actor).toEqual({ id: t.ids.person['admin@kultur.example'], name: 'Klara Kulturadmin' });

    const utbildningIds = new Set(utbildningChanges.map((c) => c.entityId));
    expect(own.entries.some((e) => utbildningIds.has(e.entityId))).toBe(false);
    const utbildning = await page(orgAdmin, t.ids.org.utbildning);
    expect(utbildning.entries.map((e) => e.entityId)).not.toContain(kulturTypeId);
  });

  it('an unknown organisation is not found', async () => {
    const res = await t.request({ method: 'GET', url: auditUrl('00000000-0000-4000-8000-000000000000'), token: orgAdmin });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
  });

  it('the audit log needs a signed-in caller', async () => {
    const res = await t.request({ method: 'GET', url: auditUrl(t.ids.org.utbildning) });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthenticated');
  });

  it('bad query parameters are rejected with validation_failed', async () => {
    const before = await t.snapshot();
    const queries = [
      '?limit=0',
      '?limit=501',
      '?limit=-1',
      '?limit=1.5',
      '?limit=ten',
      '?before=abc',
      '?before=-1',
      '?before=1e3',
      '?before=1234567890123456789',
      '?after=1',
      '?limit=10&page=2',
    ];
    for (const query of queries) {
      const res = await t.request({ method: 'GET', url: auditUrl(t.ids.org.utbildning, query), token: orgAdmin });
      expect(res.status, query).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.entries).toBeUndefined();
    }
    const badOrganisation = await t.request({ method: 'GET', url: auditUrl('not-a-uuid'), token: orgAdmin });
    expect(badOrganisation.status).toBe(400);
    expect(badOrganisation.body.code).toBe('validation_failed');
    expect(await t.snapshot()).toBe(before);
  });

  it('reading the audit log writes nothing', async () => {
    const before = await t.snapshot();
    await page(orgAdmin, t.ids.org.utbildning);
    await page(kulturAdmin, t.ids.org.kultur, '?limit=1');
    expect(await t.snapshot()).toBe(before);
  });

  it('the audit_log table refuses UPDATE, DELETE and TRUNCATE', async () => {
    const before = await t.snapshot();
    await expect(t.db.query("UPDATE audit_log SET action = 'forged' WHERE organisation_id = $1", [t.ids.org.utbildning]))
      .rejects.toThrow(/append-only/);
    await expect(t.db.query('UPDATE audit_log SET actor_person_id = NULL')).rejects.toThrow(/append-only/);
    await expect(t.db.query('DELETE FROM audit_log WHERE organisation_id = $1', [t.ids.org.kultur])).rejects.toThrow(/append-only/);
    await expect(t.db.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    await expect(t.db.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    expect(await t.snapshot()).toBe(before);
    const { entries } = await page(orgAdmin, t.ids.org.utbildning);
    expect(entries.map((e) => e.action)).toEqual([...utbildningChanges].reverse().map((c) => c.action));
  });
});
