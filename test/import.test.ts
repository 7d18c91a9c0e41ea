import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStaffCsv } from '../src/modules/people/csv.js';
import { startApp, type Response, type TestApp } from './helpers/app.js';

/**
 * Importing staff from a CSV file (POST /organisations/:id/people/import): a dry run that says per
 * row what would happen and writes nothing, the same import applied in one transaction, idempotent
 * by e-mail address, audited; files as HR exports give them (BOM or not, ; or ,); and every refusal.
 */

let t: TestApp;
let admin: string;
let rektor: string;
let anna: string;
let kulturAdmin: string;

const importUrl = (organisationId: string, dryRun: boolean) => `/api/v1/organisations/${organisationId}/people/import?dryRun=${dryRun}`;

function send(token: string, csv: string | Buffer, dryRun: boolean, organisationId = t.ids.org.utbildning, contentType = 'text/csv; charset=utf-8'): Promise<Response> {
  return t.app.inject({
    method: 'POST', url: importUrl(organisationId, dryRun), payload: csv,
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
  }).then((r) => ({ status: r.statusCode, body: r.body ? JSON.parse(r.body) : null, headers: r.headers }));
}

async function unchangedBy(call: () => Promise<Response>): Promise<Response> {
  const before = await t.snapshot();
  const res = await call();
  expect(await t.snapshot()).toBe(before);
  return res;
}

/** 200 rows in the shape of a Swedish HR export (';', a BOM), five of them bad in five different ways. */
function hrExport(): { csv: string; bad: Record<number, string> } {
  const lines = ['E-post;Förnamn;Efternamn;Mobil;Enhet;Roll;Språk'];
  const bad: Record<number, string> = {};
  for (let i = 1; i <= 200; i += 1) {
    const site = i % 2 === 0 ? 'Vasaskolan' : 'Solrosens förskola';
    let row = `person${i}@import.example;Förnamn${i};Efternamnsson;+4670${String(1000000 + i)};${site};${i % 50 === 0 ? 'krisledning' : 'personal'};${i % 3 === 0 ? 'en' : 'sv'}`;
    const line = i + 1;
    if (i === 17) [row, bad[line]] = [`inte-en-adress;Fel;Adress;;Vasaskolan;personal;sv`, 'email_invalid'];
    if (i === 42) [row, bad[line]] = [`person42@import.example;;;;Vasaskolan;personal;sv`, 'name_missing'];
    if (i === 99) [row, bad[line]] = [`person99@import.example;Nils;Nilsson;;Okänd skola;personal;sv`, 'site_unknown'];
    if (i === 150) [row, bad[line]] = [`person150@import.example;Olle;Olsson;;Vasaskolan;kung;sv`, 'role_invalid'];
    if (i === 180) [row, bad[line]] = [`person2@import.example;Dubbel;Dubbelsson;;Vasaskolan;personal;sv`, 'email_duplicate'];
    lines.push(row);
  }
  return { csv: `\uFEFF${lines.join('\r\n')}\r\n`, bad };
}

beforeAll(async () => {
  t = await startApp();
  admin = await t.login('admin@utbildning.example');
  rektor = await t.login('rektor@vasaskolan.example');
  anna = await t.login('anna@vasaskolan.example');
  kulturAdmin = await t.login('admin@kultur.example');
});
afterAll(() => t.close());

describe('importing staff from CSV', () => {
  it('200 rows with 5 bad ones: the dry run lists exactly the 5 with reasons and writes nothing; the import creates 195; again changes nothing', async () => {
    const { csv, bad } = hrExport();
    const dry = await unchangedBy(() => send(admin, csv, true));
    expect(dry.status, JSON.stringify(dry.body).slice(0, 500)).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect(dry.body.summary).toEqual({ created: 195, updated: 0, unchanged: 0, refused: 5 });
    const refused = (dry.body.rows as { line: number; outcome: string; problems: string[] }[]).filter((r) => r.outcome === 'refused');
    expect(Object.fromEntries(refused.map((r) => [r.line, r.problems.join(',')]))).toEqual(bad);
    expect(dry.body.columns).toEqual(expect.arrayContaining(['email', 'firstName', 'lastName', 'phone', 'site', 'role', 'language']));

    const applied = await send(admin, csv, false);
    expect(applied.status).toBe(200);
    expect(applied.body.summary).toEqual(dry.body.summary);
    expect(applied.body.rows.map((r: { outcome: string }) => r.outcome)).toEqual(dry.body.rows.map((r: { outcome: string }) => r.outcome));
    const imported = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM people WHERE email LIKE '%@import.example'");
    expect(imported.rows[0]?.n).toBe(195);

    const person50 = (await t.db.query<{ name: string; phone: string; language: string; sites: string[]; roles: string[] }>(`
      SELECT p.name, p.phone, p.language,
             array(SELECT s.name FROM person_sites x JOIN sites s ON s.id = x.site_id WHERE x.person_id = p.id) AS sites,
             array(SELECT r.role || ':' || coalesce(s.name, '') FROM role_assignments r LEFT JOIN sites s ON s.id = r.site_id
                    WHERE r.person_id = p.id ORDER BY r.role) AS roles
        FROM people p WHERE p.email = 'person50@import.example'`)).rows[0];
    expect(person50).toEqual({ name: 'Förnamn50 Efternamnsson', phone: '+46701000050', language: 'sv', sites: ['Vasaskolan'], roles: ['staff:', 'crisis_lead:Vasaskolan'] });
    const audit = await t.db.query<{ action: string; n: number }>(
      "SELECT action, count(*)::int AS n FROM audit_log WHERE action IN ('person.imported', 'people.imported') GROUP BY action ORDER BY action");
    expect(audit.rows).toEqual([{ action: 'people.imported', n: 1 }, { action: 'person.imported', n: 195 }]);

    const again = await unchangedBy(() => send(admin, csv, false));
    expect(again.body.summary).toEqual({ created: 0, updated: 0, unchanged: 195, refused: 5 });
  });

  it('an import updates the people it knows by e-mail address (never taking sites or roles away), and says what changed', async () => {
    const csv = 'email,name,phone,site,role\r\nanna@vasaskolan.example,Anna Andersson,+46 70 555 55 55,Solrosens förskola,personal\r\n'
      + 'bertil@vasaskolan.example,Bertil Berg,,,\r\n';
    const res = await send(admin, csv, false);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.rows).toEqual([
      expect.objectContaining({ email: 'anna@vasaskolan.example', outcome: 'updated', changes: ['phone', 'sites'] }),
      expect.objectContaining({ email: 'bertil@vasaskolan.example', outcome: 'unchanged', changes: [] }),
    ]);
    const anna = await t.request({ method: 'GET', url: `/api/v1/people/${t.ids.person['anna@vasaskolan.example']}`, token: admin });
    expect([...anna.body.siteIds].sort()).toEqual([t.ids.site.vasaskolan, t.ids.site.solrosen].sort());
    expect(anna.body.phone).toBe('+46 70 555 55 55');
  });

  it('a rektor imports staff for their own school only: rows for other schools and ungrantable roles are refused', async () => {
    const csv = 'e-post,namn,enhet,roll\n'
      + 'ny.vasa@import2.example,Ny Vasa,Vasaskolan,personal\n'
      + 'ny.solros@import2.example,Ny Solros,Solrosens förskola,personal\n'
      + 'ingen.skola@import2.example,Ingen Skola,,personal\n'
      + 'ny.rektor@import2.example,Ny Rektor,Vasaskolan,rektor\n'
      + 'frida@solrosen.example,Frida Förskollärare,Vasaskolan,personal\n';
    const res = await send(rektor, csv, false);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((res.body.rows as { email: string; outcome: string; problems: string[] }[]).map((r) => [r.email, r.outcome, r.problems])).toEqual([
      ['ny.vasa@import2.example', 'created', []],
      ['ny.solros@import2.example', 'refused', ['site_not_managed']],
      ['ingen.skola@import2.example', 'refused', ['site_missing']],
      ['ny.rektor@import2.example', 'refused', ['role_not_grantable']],
      ['frida@solrosen.example', 'refused', ['person_not_manageable']],
    ]);
  });

  it('another organisation gets 404 and staff 403, and nothing changes', async () => {
    const csv = 'email,name\nintrang@x.example,Intrång\n';
    for (const dryRun of [true, false]) {
      const other = await unchangedBy(() => send(kulturAdmin, csv, dryRun));
      expect([other.status, other.body.code]).toEqual([404, 'not_found']);
      const staff = await unchangedBy(() => send(anna, csv, dryRun));
      expect([staff.status, staff.body.code]).toEqual([403, 'forbidden']);
    }
  });

  it.each([
    ['a file that is not UTF-8', Buffer.from('email;name\nåsa@x.example;Åsa Öberg\n', 'latin1'), 'csv_invalid'],
    ['a header without an e-mail column', 'namn;telefon\nAnna;123\n', 'csv_invalid'],
    ['an empty file', '', 'csv_invalid'],
    ['an unterminated quote', 'email,name\n"anna@x.example,Anna\n', 'csv_invalid'],
    ['a NUL character', 'email,name\nanna@x.example,An\u0000na\n', 'csv_invalid'],
  ])('%s is refused with a stable code and changes nothing', async (_name, csv, code) => {
    const res = await unchangedBy(() => send(admin, csv, false));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe(code);
  });

  it('a body that is not CSV, a missing dryRun and too many rows are refused and change nothing', async () => {
    const json = await unchangedBy(() => send(admin, JSON.stringify({ email: 'x@x.example' }), false, t.ids.org.utbildning, 'application/json'));
    expect([json.status, json.body.code]).toEqual([400, 'validation_failed']);
    const form = await unchangedBy(() => send(admin, 'email=x', false, t.ids.org.utbildning, 'application/x-www-form-urlencoded'));
    expect([form.status, form.body.code]).toEqual([415, 'unsupported_media_type']);
    const noFlag = await unchangedBy(() => t.app.inject({
      method: 'POST', url: `/api/v1/organisations/${t.ids.org.utbildning}/people/import`, payload: 'email,name\n',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
    }).then((r) => ({ status: r.statusCode, body: JSON.parse(r.body), headers: r.headers })));
    expect([noFlag.status, noFlag.body.code]).toEqual([400, 'validation_failed']);
    const many = `email,name\n${Array.from({ length: 5001 }, (_, i) => `p${i}@many.example,P ${i}`).join('\n')}\n`;
    const tooMany = await unchangedBy(() => send(admin, many, true));
    expect([tooMany.status, tooMany.body.code]).toEqual([400, 'csv_invalid']);
  });
});

describe('reading staff lists (parseStaffCsv)', () => {
  it('reads ; and , files, with and without a BOM, quoted cells with the other delimiter inside, and English or Swedish headers', () => {
    const semicolon = parseStaffCsv('\uFEFFE-post;Namn;Telefon\r\nanna@x.example;"Andersson, Anna";070-123 45 67\r\n\r\nbo@x.example;Bo;\r\n');
    expect(semicolon.rows).toEqual([
      { line: 2, cells: { email: 'anna@x.example', name: 'Andersson, Anna', phone: '070-123 45 67' } },
      { line: 4, cells: { email: 'bo@x.example', name: 'Bo' } },
    ]);
    const comma = parseStaffCsv('Email,Name,Site,Language,Department\nanna@x.example,"Anna; A",Vasaskolan,en,IT\n');
    expect(comma.rows[0]?.cells).toEqual({ email: 'anna@x.example', name: 'Anna; A', site: 'Vasaskolan', language: 'en' });
    expect(comma.ignoredColumns).toEqual(['Department']);
  });
});
