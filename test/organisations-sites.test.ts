import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';

describe('organisations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('a person sees only their own organisation in the list; a system admin sees all', async () => {
    const anna = await t.login('anna@vasaskolan.example');
    const own = await t.request({ method: 'GET', url: '/api/v1/organisations', token: anna });
    expect(own.status).toBe(200);
    expect(own.body.organisations.map((o: { name: string }) => o.name)).toEqual(['Utbildningsförvaltningen']);

    const system = await t.login('system@samlarm.example');
    const all = await t.request({ method: 'GET', url: '/api/v1/organisations', token: system });
    expect(all.body.organisations.map((o: { name: string }) => o.name).sort()).toEqual(
      ['Kulturförvaltningen', 'Samlarm drift', 'Utbildningsförvaltningen'],
    );
  });

  it('a system admin creates a bolag, and the creation is audited', async () => {
    const system = await t.login('system@samlarm.example');
    const res = await t.request({
      method: 'POST', url: '/api/v1/organisations', token: system, body: { name: 'Stadens Idrottsfastigheter AB', kind: 'bolag' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Stadens Idrottsfastigheter AB', kind: 'bolag' });
    const audit = await t.db.query('SELECT action, after FROM audit_log WHERE entity_id = $1', [res.body.id]);
    expect(audit.rows).toEqual([{ action: 'organisation.created', after: expect.objectContaining({ name: 'Stadens Idrottsfastigheter AB' }) }]);
  });

  it('an organisation admin cannot create organisations', async () => {
    const admin = await t.login('admin@utbildning.example');
    const before = await t.snapshot();
    const res = await t.request({ method: 'POST', url: '/api/v1/organisations', token: admin, body: { name: 'Egen', kind: 'other' } });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
    expect(await t.snapshot()).toBe(before);
  });

  it('an organisation admin renames their organisation; staff may read it but not rename it', async () => {
    const admin = await t.login('admin@utbildning.example');
    const renamed = await t.request({
      method: 'PATCH', url: `/api/v1/organisations/${t.ids.org.utbildning}`, token: admin, body: { name: 'Utbildningsförvaltningen Stockholm' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Utbildningsförvaltningen Stockholm');

    const anna = await t.login('anna@vasaskolan.example');
    const read = await t.request({ method: 'GET', url: `/api/v1/organisations/${t.ids.org.utbildning}`, token: anna });
    expect(read.status).toBe(200);
    const before = await t.snapshot();
    const refused = await t.request({ method: 'PATCH', url: `/api/v1/organisations/${t.ids.org.utbildning}`, token: anna, body: { name: 'Annas' } });
    expect(refused.status).toBe(403);
    expect(await t.snapshot()).toBe(before);
  });
});

describe('sites', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('staff list the sites of their organisation and no others', async () => {
    const anna = await t.login('anna@vasaskolan.example');
    const res = await t.request({ method: 'GET', url: `/api/v1/organisations/${t.ids.org.utbildning}/sites`, token: anna });
    expect(res.status).toBe(200);
    expect(res.body.sites.map((s: { name: string }) => s.name)).toEqual(['Solrosens förskola', 'Vasaskolan']);
    const other = await t.request({ method: 'GET', url: `/api/v1/organisations/${t.ids.org.kultur}/sites`, token: anna });
    expect(other.status).toBe(404);
  });

  it('an organisation admin adds a site; a rektor cannot', async () => {
    const admin = await t.login('admin@utbildning.example');
    const created = await t.request({
      method: 'POST', url: `/api/v1/organisations/${t.ids.org.utbildning}/sites`, token: admin,
      body: { name: 'Norrskolan', kind: 'school', address: 'Norrgatan 1' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Norrskolan', kind: 'school', address: 'Norrgatan 1', organisationId: t.ids.org.utbildning });
    const fetched = await t.request({ method: 'GET', url: `/api/v1/sites/${created.body.id}`, token: admin });
    expect(fetched.body).toEqual(created.body);

    const rektor = await t.login('rektor@vasaskolan.example');
    const before = await t.snapshot();
    const refused = await t.request({
      method: 'POST', url: `/api/v1/organisations/${t.ids.org.utbildning}/sites`, token: rektor, body: { name: 'Egen skola', kind: 'school' },
    });
    expect(refused.status).toBe(403);
    expect(await t.snapshot()).toBe(before);
  });

  it('a rektor changes their own school but not another school of the same organisation', async () => {
    const rektor = await t.login('rektor@vasaskolan.example');
    const own = await t.request({ method: 'PATCH', url: `/api/v1/sites/${t.ids.site.vasaskolan}`, token: rektor, body: { address: null } });
    expect(own.status).toBe(200);
    expect(own.body.address).toBeNull();

    const before = await t.snapshot();
    const other = await t.request({ method: 'PATCH', url: `/api/v1/sites/${t.ids.site.solrosen}`, token: rektor, body: { name: 'Mitt' } });
    expect(other.status).toBe(403);
    expect(await t.snapshot()).toBe(before);
  });

  it('site changes are audited with before and after', async () => {
    const admin = await t.login('admin@utbildning.example');
    await t.request({ method: 'PATCH', url: `/api/v1/sites/${t.ids.site.solrosen}`, token: admin, body: { name: 'Solrosen' } });
    const audit = await t.db.query(
      "SELECT before->>'name' AS before, after->>'name' AS after FROM audit_log WHERE action = 'site.updated' AND entity_id = $1",
      [t.ids.site.solrosen],
    );
    expect(audit.rows).toEqual([{ before: 'Solrosens förskola', after: 'Solrosen' }]);
  });
});
