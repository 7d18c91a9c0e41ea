import { openSession } from '../../src/modules/auth/sessions.js';
import type { TestApp } from './app.js';

export interface School {
  organisation: string;
  site: string;
  lockdown: string;
  /** Everyone, in the order they were added: the presser first, the crisis lead second. */
  people: string[];
  presser: string;
  lead: string;
  /** The presser's device session. */
  token: string;
}

/**
 * A new organisation with a school of `size` staff (at least two) in one group that receives the lockdown and may
 * raise it, and a crisis lead among them: written straight to the tables, so that PostgreSQL has no statistics of
 * them yet, as for an organisation whose staff were imported a moment ago.
 */
export async function newSchool(t: TestApp, size: number): Promise<School> {
  const one = async <T extends Record<string, unknown>>(sql: string, params: unknown[]) => (await t.db.query<T>(sql, params)).rows[0] as T;
  const { id: organisation } = await one<{ id: string }>("INSERT INTO organisations (name, kind) VALUES ('Nya förvaltningen', 'forvaltning') RETURNING id", []);
  const { id: site } = await one<{ id: string }>("INSERT INTO sites (organisation_id, name, kind) VALUES ($1, 'Nyskolan', 'school') RETURNING id", [organisation]);
  const people = (await t.db.query<{ id: string }>(
    "INSERT INTO people (organisation_id, name, email) SELECT $1, 'Lärare ' || g, 'larare' || g || '@nyskolan.example' FROM generate_series(1, $2) g ORDER BY g RETURNING id",
    [organisation, size],
  )).rows.map((r) => r.id);
  const [presser, lead] = people as [string, string];
  await t.db.query("INSERT INTO role_assignments (person_id, role, site_id) VALUES ($1, 'crisis_lead', $2)", [lead, site]);
  const { id: lockdown } = await one<{ id: string }>("SELECT id FROM alarm_types WHERE organisation_id IS NULL AND key = 'inrymning'", []);
  const { id: group } = await one<{ id: string }>("INSERT INTO alarm_groups (site_id, organisation_id, name) VALUES ($1, $2, 'Alla') RETURNING id", [site, organisation]);
  await t.db.query('INSERT INTO alarm_group_members (group_id, person_id) SELECT $1, unnest($2::uuid[])', [group, people]);
  await t.db.query('INSERT INTO alarm_group_types (group_id, alarm_type_id, receives, may_raise) VALUES ($1, $2, true, true)', [group, lockdown]);
  const { token } = await openSession(t.db, t.app.config, presser, { kind: 'device', ip: '127.0.0.1' });
  return { organisation, site, lockdown, people, presser, lead, token };
}
