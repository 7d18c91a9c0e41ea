import type { Db, Queryable, Tx } from '../db/pool.js';
import { inTransaction } from '../db/pool.js';
import { hashPassword } from '../modules/auth/passwords.js';
import type { RoleName } from '../modules/auth/policies.js';

/**
 * The demo world: a school and a preschool in Utbildningsförvaltningen, a library of
 * Kulturförvaltningen in the same building as the school, linked to it (DEMO_LINKS), and an operator.
 * Every account has the same password, printed at start-up and listed in README.md.
 */
export const DEMO_PASSWORD = 'samlarm-demo';

interface DemoPerson {
  /** How the docs and the tests call this person ("rektor", "anna"). */
  key: string;
  email: string;
  name: string;
  phone: string;
  sites: string[];
  roles: { role: RoleName; site?: string }[];
  language?: 'sv' | 'en';
}

interface DemoGroup {
  name: string;
  site: string;
  members: string[];
  receives: string[];
  mayRaise: string[];
  contacts?: ({ person: string } | { name: string; phone: string })[];
}

interface DemoOrganisation {
  name: string;
  kind: 'forvaltning' | 'bolag' | 'other';
  sites: { key: string; name: string; kind: string; address: string }[];
  people: DemoPerson[];
  groups: DemoGroup[];
}

const ALL = ['inrymning', 'brand', 'utrymning', 'hot'];
const VASA = 'Vasagatan 12, Stockholm';

export const DEMO: DemoOrganisation[] = [
  {
    name: 'Utbildningsförvaltningen',
    kind: 'forvaltning',
    sites: [
      { key: 'vasaskolan', name: 'Vasaskolan', kind: 'school', address: VASA },
      { key: 'solrosen', name: 'Solrosens förskola', kind: 'preschool', address: 'Solrosvägen 3, Stockholm' },
    ],
    people: [
      { key: 'admin', email: 'admin@utbildning.example', name: 'Olle Organisationsadmin', phone: '+46700000001', sites: [], roles: [{ role: 'org_admin' }] },
      { key: 'rektor', email: 'rektor@vasaskolan.example', name: 'Rebecka Rektor', phone: '+46700000002', sites: ['vasaskolan'], roles: [{ role: 'staff' }, { role: 'site_admin', site: 'vasaskolan' }] },
      { key: 'kris', email: 'kris@utbildning.example', name: 'Kim Krisledare', phone: '+46700000003', sites: ['vasaskolan'], roles: [{ role: 'staff' }, { role: 'crisis_lead' }] },
      { key: 'anna', email: 'anna@vasaskolan.example', name: 'Anna Andersson', phone: '+46700000004', sites: ['vasaskolan'], roles: [{ role: 'staff' }] },
      { key: 'bertil', email: 'bertil@vasaskolan.example', name: 'Bertil Berg', phone: '+46700000005', sites: ['vasaskolan'], roles: [{ role: 'staff' }] },
      { key: 'cecilia', email: 'cecilia@vasaskolan.example', name: 'Cecilia Carlsson', phone: '+46700000006', sites: ['vasaskolan'], roles: [{ role: 'staff' }], language: 'en' },
      { key: 'solrosRektor', email: 'rektor@solrosen.example', name: 'Sara Solrosrektor', phone: '+46700000007', sites: ['solrosen'], roles: [{ role: 'staff' }, { role: 'site_admin', site: 'solrosen' }] },
      { key: 'frida', email: 'frida@solrosen.example', name: 'Frida Förskollärare', phone: '+46700000008', sites: ['solrosen'], roles: [{ role: 'staff' }] },
    ],
    groups: [
      {
        name: 'All personal', site: 'vasaskolan',
        members: ['rektor@vasaskolan.example', 'kris@utbildning.example', 'anna@vasaskolan.example', 'bertil@vasaskolan.example', 'cecilia@vasaskolan.example'],
        receives: ALL, mayRaise: ALL,
      },
      {
        name: 'Krisgrupp', site: 'vasaskolan',
        members: ['rektor@vasaskolan.example', 'kris@utbildning.example'],
        receives: ALL, mayRaise: ALL,
        contacts: [{ person: 'rektor@vasaskolan.example' }, { name: 'Vaktmästare Vasaskolan', phone: '+46700000099' }],
      },
      {
        name: 'All personal', site: 'solrosen',
        members: ['rektor@solrosen.example', 'frida@solrosen.example'],
        receives: ALL, mayRaise: ALL,
        contacts: [{ person: 'rektor@solrosen.example' }],
      },
    ],
  },
  {
    name: 'Kulturförvaltningen',
    kind: 'forvaltning',
    sites: [{ key: 'biblioteket', name: 'Vasastadens bibliotek', kind: 'library', address: VASA }],
    people: [
      { key: 'klara', email: 'admin@kultur.example', name: 'Klara Kulturadmin', phone: '+46700000011', sites: [], roles: [{ role: 'org_admin' }] },
      { key: 'bo', email: 'chef@biblioteket.example', name: 'Bo Bibliotekschef', phone: '+46700000012', sites: ['biblioteket'], roles: [{ role: 'staff' }, { role: 'site_admin', site: 'biblioteket' }] },
      { key: 'lisa', email: 'lisa@biblioteket.example', name: 'Lisa Bibliotekarie', phone: '+46700000013', sites: ['biblioteket'], roles: [{ role: 'staff' }] },
    ],
    groups: [
      {
        name: 'Bibliotekets personal', site: 'biblioteket',
        members: ['chef@biblioteket.example', 'lisa@biblioteket.example'],
        receives: ALL, mayRaise: ['brand', 'hot'],
        contacts: [{ person: 'chef@biblioteket.example' }],
      },
    ],
  },
  {
    name: 'Samlarm drift',
    kind: 'other',
    sites: [],
    people: [{ key: 'system', email: 'system@samlarm.example', name: 'Sam Systemadmin', phone: '+46700000021', sites: [], roles: [{ role: 'system_admin' }] }],
    groups: [],
  },
];

interface DemoLink {
  /** Organisations by name: the one that proposed the link and the one that accepted it. */
  proposer: string;
  partner: string;
  proposedBy: string;
  acceptedBy: string;
  /** Site keys: a site of the proposer and one of the partner. */
  pairs: [string, string][];
  /** Alarm types raised at the proposer's sites that reach the partner's, and the partner's groups (site key, name) that get them. */
  toPartner: { types: string[]; groups: [string, string][] };
  toProposer: { types: string[]; groups: [string, string][] };
}

/**
 * The shared building Vasagatan 12 (docs/linking.md): fire, evacuation and lockdown at Vasaskolan reach the
 * library's staff; fire and threat at the library reach Vasaskolan's crisis team.
 */
export const DEMO_LINKS: DemoLink[] = [
  {
    proposer: 'Utbildningsförvaltningen',
    partner: 'Kulturförvaltningen',
    proposedBy: 'admin@utbildning.example',
    acceptedBy: 'admin@kultur.example',
    pairs: [['vasaskolan', 'biblioteket']],
    toPartner: { types: ['brand', 'utrymning', 'inrymning'], groups: [['biblioteket', 'Bibliotekets personal']] },
    toProposer: { types: ['brand', 'hot'], groups: [['vasaskolan', 'Krisgrupp']] },
  },
];

const SEED_SQL = {
  // Nodes starting together on an empty database seed once: the second waits, then finds the first's data.
  lock: 'SELECT pg_advisory_xact_lock(4711114)',
  anyOrganisation: 'SELECT 1 FROM organisations LIMIT 1',
  organisation: 'INSERT INTO organisations (name, kind) VALUES ($1, $2) RETURNING id',
  site: 'INSERT INTO sites (organisation_id, name, kind, address) VALUES ($1, $2, $3, $4) RETURNING id',
  person: `INSERT INTO people (organisation_id, name, email, phone, language, password_hash)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
  personSite: 'INSERT INTO person_sites (person_id, site_id) VALUES ($1, $2)',
  role: 'INSERT INTO role_assignments (person_id, role, site_id) VALUES ($1, $2, $3)',
  group: 'INSERT INTO alarm_groups (site_id, organisation_id, name) VALUES ($1, $2, $3) RETURNING id',
  member: 'INSERT INTO alarm_group_members (group_id, person_id) VALUES ($1, $2)',
  groupType: `INSERT INTO alarm_group_types (group_id, alarm_type_id, receives, may_raise)
              SELECT $1, id, $3, $4 FROM alarm_types WHERE organisation_id IS NULL AND key = $2`,
  contact: `INSERT INTO alarm_group_escalation_contacts (group_id, position, person_id, name, phone)
            VALUES ($1, $2, $3, $4, $5)`,
  // The demo links by names: organisations, their admins, sites and groups as the demo world names them.
  link: `
    INSERT INTO links (proposer_organisation_id, partner_organisation_id, status, review_at, proposed_by, proposed_at,
                       decided_by, decided_at, status_changed_by, status_changed_at)
    SELECT po.id, xo.id, 'active', (now() + interval '1 year')::date, pb.id, now(), ab.id, now(), ab.id, now()
      FROM organisations po, organisations xo, people pb, people ab
     WHERE po.name = $1 AND xo.name = $2 AND pb.email = $3 AND ab.email = $4
    RETURNING id`,
  linkPair: `
    INSERT INTO link_site_pairs (link_id, proposer_site_id, partner_site_id)
    SELECT l.id, ps.id, xs.id FROM links l
      JOIN sites ps ON ps.organisation_id = l.proposer_organisation_id AND ps.name = $2
      JOIN sites xs ON xs.organisation_id = l.partner_organisation_id AND xs.name = $3
     WHERE l.id = $1`,
  linkType: `INSERT INTO link_alarm_types (link_id, direction, alarm_type_id)
             SELECT $1, $2, id FROM alarm_types WHERE organisation_id IS NULL AND key = $3`,
  linkGroup: `
    INSERT INTO link_receiving_groups (link_id, direction, group_id, site_id)
    SELECT $1, $2, g.id, g.site_id FROM alarm_groups g JOIN sites s ON s.id = g.site_id
     WHERE g.organisation_id = $3 AND s.name = $4 AND g.name = $5`,
  organisationId: 'SELECT id FROM organisations WHERE name = $1',
} as const;

async function seedOrganisation(tx: Tx, org: DemoOrganisation, passwordHash: string): Promise<void> {
  const { id: orgId } = (await tx.query<{ id: string }>(SEED_SQL.organisation, [org.name, org.kind])).rows[0] as { id: string };
  const sites = new Map<string, string>();
  for (const s of org.sites) {
    sites.set(s.key, ((await tx.query<{ id: string }>(SEED_SQL.site, [orgId, s.name, s.kind, s.address])).rows[0] as { id: string }).id);
  }
  const people = new Map<string, string>();
  for (const p of org.people) {
    const { id } = (await tx.query<{ id: string }>(SEED_SQL.person, [orgId, p.name, p.email, p.phone, p.language ?? 'sv', passwordHash]))
      .rows[0] as { id: string };
    people.set(p.email, id);
    for (const s of p.sites) await tx.query(SEED_SQL.personSite, [id, sites.get(s)]);
    for (const r of p.roles) await tx.query(SEED_SQL.role, [id, r.role, r.site ? sites.get(r.site) : null]);
  }
  for (const g of org.groups) {
    const { id } = (await tx.query<{ id: string }>(SEED_SQL.group, [sites.get(g.site), orgId, g.name])).rows[0] as { id: string };
    for (const m of g.members) await tx.query(SEED_SQL.member, [id, people.get(m)]);
    for (const key of new Set([...g.receives, ...g.mayRaise])) {
      await tx.query(SEED_SQL.groupType, [id, key, g.receives.includes(key), g.mayRaise.includes(key)]);
    }
    for (const [position, c] of (g.contacts ?? []).entries()) {
      if ('person' in c) await tx.query(SEED_SQL.contact, [id, position, people.get(c.person), null, null]);
      else await tx.query(SEED_SQL.contact, [id, position, null, c.name, c.phone]);
    }
  }
}

/** A demo site's name by its key. */
function siteName(organisation: string, key: string): string {
  const site = DEMO.find((o) => o.name === organisation)?.sites.find((s) => s.key === key);
  if (!site) throw new Error(`no demo site ${key} in ${organisation}`);
  return site.name;
}

/** An active link, as if proposed by one admin and accepted by the other. */
async function seedLink(tx: Queryable, link: DemoLink): Promise<void> {
  const { id } = (await tx.query<{ id: string }>(SEED_SQL.link, [link.proposer, link.partner, link.proposedBy, link.acceptedBy])).rows[0] as { id: string };
  for (const [own, theirs] of link.pairs) {
    await tx.query(SEED_SQL.linkPair, [id, siteName(link.proposer, own), siteName(link.partner, theirs)]);
  }
  for (const [direction, receiver, rule] of [['to_partner', link.partner, link.toPartner], ['to_proposer', link.proposer, link.toProposer]] as const) {
    const receiverId = ((await tx.query<{ id: string }>(SEED_SQL.organisationId, [receiver])).rows[0] as { id: string }).id;
    for (const key of rule.types) await tx.query(SEED_SQL.linkType, [id, direction, key]);
    for (const [site, name] of rule.groups) await tx.query(SEED_SQL.linkGroup, [id, direction, receiverId, siteName(receiver, site), name]);
  }
}

/**
 * The demo links (DEMO_LINKS), into a database that has the demo world. seedDemo() adds them; the test
 * suite's template leaves them out (most test files are about one organisation) and link tests add them.
 */
export async function seedDemoLinks(db: Queryable): Promise<void> {
  for (const link of DEMO_LINKS) await seedLink(db, link);
}

/**
 * Seeds the demo world into an empty database; returns false (and does nothing) if any organisation
 * exists. `links: false` leaves out the demo links (the test suite's template, the benchmarks' unlinked cases).
 */
export async function seedDemo(db: Db, options: { links?: boolean } = {}): Promise<boolean> {
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  return inTransaction(db, async (tx) => {
    await tx.query(SEED_SQL.lock);
    if ((await tx.query(SEED_SQL.anyOrganisation)).rowCount) return false;
    for (const org of DEMO) await seedOrganisation(tx, org, passwordHash);
    if (options.links !== false) await seedDemoLinks(tx);
    return true;
  });
}

/** The accounts to print at start-up: e-mail, name and roles. */
export function demoAccounts(): string[] {
  return DEMO.flatMap((org) =>
    org.people.map((p) => `${p.email.padEnd(28)} ${p.name.padEnd(24)} ${org.name}: ${p.roles.map((r) => r.role).join(', ')}`),
  );
}
