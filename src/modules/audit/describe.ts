/**
 * The audit log in words: each entry's action, before and after turned into sentences in Swedish and
 * English ("Rebecka Rektor lade till Bertil Berg i Krisgrupp"). Pure, so that every wording is tested
 * without a database; names of sites and alarm types come from the caller's lookups.
 */
export interface Words { sv: string; en: string }

export interface AuditFacts {
  action: string;
  entityType: string;
  actorName: string | null;
  before: unknown;
  after: unknown;
}

export interface Lookups {
  siteName(id: string): string | null;
  typeLabel(id: string, key: string): Words;
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (value && typeof value === 'object' && !Array.isArray(value) ? value as Json : {});
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const quote = (s: string): string => `”${s}”`;
const quoteEn = (s: string): string => `"${s}"`;

function joined(items: string[], and: string): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${and} ${items.at(-1) ?? ''}`;
}
const listSv = (items: string[]) => joined(items, 'och');
const listEn = (items: string[]) => joined(items, 'and');

const ROLE_WORDS: Record<string, Words> = {
  staff: { sv: 'personal', en: 'staff' },
  site_admin: { sv: 'rektor', en: 'principal' },
  crisis_lead: { sv: 'krisledare', en: 'crisis lead' },
  org_admin: { sv: 'organisationsadministratör', en: 'organisation admin' },
  system_admin: { sv: 'systemadministratör', en: 'system admin' },
};

interface Grant { role: string; siteId: string | null }
const grantsOf = (value: unknown): Grant[] =>
  arr(value).map((g) => ({ role: str(obj(g).role) ?? '?', siteId: str(obj(g).siteId) }));
const sameGrant = (a: Grant, b: Grant) => a.role === b.role && a.siteId === b.siteId;

function grantWords(g: Grant, lookups: Lookups): Words {
  const role = ROLE_WORDS[g.role] ?? { sv: g.role, en: g.role };
  if (!g.siteId) {
    return g.role === 'site_admin' || g.role === 'crisis_lead'
      ? { sv: `${role.sv} för hela organisationen`, en: `${role.en} for the whole organisation` }
      : role;
  }
  const site = lookups.siteName(g.siteId) ?? g.siteId;
  return { sv: `${role.sv} på ${site}`, en: `${role.en} at ${site}` };
}

interface Named { id: string; name: string }
const namedOf = (value: unknown, idKey = 'id'): Named[] =>
  arr(value).flatMap((m) => {
    const id = str(obj(m)[idKey]);
    return id ? [{ id, name: str(obj(m).name) ?? id }] : [];
  });
const addedTo = (before: Named[], after: Named[]) => after.filter((a) => !before.some((b) => b.id === a.id));

/** The sentences of one entry, actor first; an entry this code does not know says what was done, plainly. */
export function describeAudit(entry: AuditFacts, lookups: Lookups): Words[] {
  const who = entry.actorName ?? 'Någon';
  const whoEn = entry.actorName ?? 'Someone';
  const before = obj(entry.before);
  const after = obj(entry.after);
  const said = (sv: string, en: string): Words => ({ sv: `${who} ${sv}`, en: `${whoEn} ${en}` });
  const name = str(after.name) ?? str(before.name) ?? '';
  const siteNames = (ids: unknown) => arr(ids).map((id) => lookups.siteName(String(id)) ?? String(id));

  switch (entry.action) {
    case 'alarm_group.created':
      return [said(`skapade larmgruppen ${name}`, `created the alarm group ${name}`)];
    case 'alarm_group.deleted':
      return [said(`tog bort larmgruppen ${name}`, `deleted the alarm group ${name}`)];
    case 'alarm_group.updated': {
      const out: Words[] = [];
      if (before.name !== after.name) out.push(said(`döpte om larmgruppen ${str(before.name)} till ${name}`, `renamed the alarm group ${str(before.name)} to ${name}`));
      if (before.description !== after.description) out.push(said(`ändrade beskrivningen av ${name}`, `changed the description of ${name}`));
      return out.length ? out : [said(`ändrade larmgruppen ${name}`, `changed the alarm group ${name}`)];
    }
    case 'alarm_group.members_changed': {
      const b = namedOf(before.members);
      const a = namedOf(after.members);
      const added = addedTo(b, a).map((m) => m.name);
      const removed = addedTo(a, b).map((m) => m.name);
      const out: Words[] = [];
      if (added.length) out.push(said(`lade till ${listSv(added)} i ${name}`, `added ${listEn(added)} to ${name}`));
      if (removed.length) out.push(said(`tog bort ${listSv(removed)} ur ${name}`, `removed ${listEn(removed)} from ${name}`));
      return out.length ? out : [said(`sparade medlemmarna i ${name} utan ändring`, `saved the members of ${name} unchanged`)];
    }
    case 'alarm_group.alarm_types_changed': {
      const types = (value: unknown) => arr(value).map((t) => ({
        id: str(obj(t).alarmTypeId) ?? '', key: str(obj(t).key) ?? '', receives: obj(t).receives === true, mayRaise: obj(t).mayRaise === true,
      }));
      const b = types(before.alarmTypes);
      const a = types(after.alarmTypes);
      const labels = (list: typeof a) => list.map((t) => lookups.typeLabel(t.id, t.key));
      const out: Words[] = [];
      const gained = (field: 'receives' | 'mayRaise') => a.filter((t) => t[field] && !b.some((x) => x.id === t.id && x[field]));
      const lost = (field: 'receives' | 'mayRaise') => b.filter((t) => t[field] && !a.some((x) => x.id === t.id && x[field]));
      const say = (list: typeof a, sv: string, en: string) => {
        if (!list.length) return;
        const l = labels(list);
        out.push(said(sv.replace('{types}', listSv(l.map((x) => x.sv))), en.replace('{types}', listEn(l.map((x) => x.en)))));
      };
      say(gained('receives'), `lät ${name} ta emot {types}`, `made ${name} receive {types}`);
      say(lost('receives'), `lät ${name} sluta ta emot {types}`, `stopped ${name} receiving {types}`);
      say(gained('mayRaise'), `lät ${name} larma {types}`, `allowed ${name} to raise {types}`);
      say(lost('mayRaise'), `tog bort rätten för ${name} att larma {types}`, `stopped ${name} raising {types}`);
      return out.length ? out : [said(`sparade larmtyperna för ${name} utan ändring`, `saved the alarm types of ${name} unchanged`)];
    }
    case 'alarm_group.escalation_contacts_changed': {
      const contacts = namedOf(after.escalationContacts, 'personId');
      const outside = arr(after.escalationContacts).filter((c) => !str(obj(c).personId)).map((c) => str(obj(c).name) ?? '?');
      const all = [...contacts.map((c) => c.name), ...outside];
      return [all.length
        ? said(`satte eskaleringskontakterna för ${name} till ${listSv(all)}`, `set the escalation contacts of ${name} to ${listEn(all)}`)
        : said(`tog bort eskaleringskontakterna för ${name}`, `removed the escalation contacts of ${name}`)];
    }
    case 'person.created':
    case 'person.imported': {
      const via = entry.action === 'person.imported' ? { sv: ' (import)', en: ' (import)' } : { sv: '', en: '' };
      const sites = siteNames(after.siteIds);
      const where = sites.length ? { sv: ` på ${listSv(sites)}`, en: ` at ${listEn(sites)}` } : { sv: '', en: '' };
      return [said(`lade till ${name}${where.sv}${via.sv}`, `added ${name}${where.en}${via.en}`)];
    }
    case 'person.created_by_sign_in':
      return [{ sv: `${name} loggade in med organisationens konto och fick ett konto i Samlarm`, en: `${name} signed in with the organisation's account and got a Samlarm account` }];
    case 'person.updated':
      return describePersonChange(before, after, name, said, lookups);
    case 'person.profile_updated':
      return [said('ändrade sina egna uppgifter', 'changed their own details')];
    case 'person.password_changed':
      return [said('bytte sitt lösenord', 'changed their password')];
    case 'person.invite_link_created':
      return [said(`skapade en inbjudningslänk till ${name}`, `made an invitation link for ${name}`)];
    case 'person.reset_link_created':
      return [said(`skapade en länk för nytt lösenord till ${name}`, `made a password reset link for ${name}`)];
    case 'person.invite_link_used':
      return [said('använde sin inbjudningslänk och valde ett lösenord', 'used their invitation link and chose a password')];
    case 'person.reset_link_used':
      return [said('använde sin återställningslänk och valde ett nytt lösenord', 'used their reset link and chose a new password')];
    case 'person.oidc_linked':
      return [said('kopplade sitt konto till organisationens inloggning', 'linked their account to the organisation\'s sign-in')];
    case 'people.imported':
      return [said(
        `importerade personal: ${String(after.created ?? 0)} nya, ${String(after.updated ?? 0)} ändrade, ${String(after.refused ?? 0)} avvisade rader`,
        `imported staff: ${String(after.created ?? 0)} new, ${String(after.updated ?? 0)} changed, ${String(after.refused ?? 0)} refused rows`,
      )];
    case 'site.created':
      return [said(`lade till verksamheten ${name}`, `added the site ${name}`)];
    case 'site.updated':
      return [said(`ändrade uppgifterna om ${name}`, `changed the details of ${name}`)];
    case 'site.alarm_instruction_changed': {
      const siteName = str(after.siteName) ?? str(before.siteName) ?? '';
      const typeId = str(after.alarmTypeId) ?? str(before.alarmTypeId) ?? '';
      const label = lookups.typeLabel(typeId, '');
      return [entry.after
        ? said(`skrev ${siteName}s egen instruktion för ${label.sv}`, `wrote ${siteName}'s own instruction for ${label.en}`)
        : said(`tog bort ${siteName}s egen instruktion för ${label.sv}`, `removed ${siteName}'s own instruction for ${label.en}`)];
    }
    case 'alarm_type.created':
      return [said(`skapade larmtypen ${labelOf(after).sv}`, `created the alarm type ${labelOf(after).en}`)];
    case 'alarm_type.updated':
      return [after.archived === true && before.archived !== true
        ? said(`arkiverade larmtypen ${labelOf(after).sv}`, `archived the alarm type ${labelOf(after).en}`)
        : said(`ändrade larmtypen ${labelOf(after).sv}`, `changed the alarm type ${labelOf(after).en}`)];
    case 'organisation.created':
      return [said(`skapade organisationen ${name}`, `created the organisation ${name}`)];
    case 'organisation.updated':
      return [said(`ändrade organisationen ${name}`, `changed the organisation ${name}`)];
    case 'organisation.sign_in_changed':
      return [said('ändrade hur organisationen loggar in', 'changed how the organisation signs in')];
    case 'device.removed':
      return [said(`tog bort en enhet för ${str(after.personName) ?? ''}`, `removed a device of ${str(after.personName) ?? ''}`)];
    case 'device.reminded':
      return [said(`påminde ${str(after.personName) ?? ''} om att göra sin telefon redo för larm`, `reminded ${str(after.personName) ?? ''} to get their phone ready for alarms`)];
    default:
      return [said(`gjorde ${quote(entry.action)}`, `did ${quoteEn(entry.action)}`)];
  }
}

function labelOf(type: Json): Words {
  const label = obj(type.label);
  return { sv: str(label.sv) ?? str(type.key) ?? '', en: str(label.en) ?? str(type.key) ?? '' };
}

function describePersonChange(
  before: Json, after: Json, name: string, said: (sv: string, en: string) => Words, lookups: Lookups,
): Words[] {
  const out: Words[] = [];
  if (before.active === true && after.active === false) out.push(said(`inaktiverade ${name}`, `deactivated ${name}`));
  if (before.active === false && after.active === true) out.push(said(`aktiverade ${name} igen`, `reactivated ${name}`));
  if (before.name !== after.name) out.push(said(`bytte namn på ${str(before.name)} till ${name}`, `renamed ${str(before.name)} to ${name}`));
  const changed: Words[] = [];
  if (before.email !== after.email) changed.push({ sv: 'e-postadress', en: 'e-mail address' });
  if (before.phone !== after.phone) changed.push({ sv: 'telefonnummer', en: 'phone number' });
  if (before.language !== after.language) changed.push({ sv: 'språk', en: 'language' });
  if (changed.length) {
    out.push(said(`ändrade ${listSv(changed.map((c) => c.sv))} för ${name}`, `changed the ${listEn(changed.map((c) => c.en))} of ${name}`));
  }
  const siteIds = (value: unknown) => arr(value).map(String);
  const sitesAdded = siteIds(after.siteIds).filter((s) => !siteIds(before.siteIds).includes(s));
  const sitesRemoved = siteIds(before.siteIds).filter((s) => !siteIds(after.siteIds).includes(s));
  const siteList = (ids: string[]) => ids.map((id) => lookups.siteName(id) ?? id);
  if (sitesAdded.length) out.push(said(`placerade ${name} på ${listSv(siteList(sitesAdded))}`, `placed ${name} at ${listEn(siteList(sitesAdded))}`));
  if (sitesRemoved.length) out.push(said(`tog bort ${name} från ${listSv(siteList(sitesRemoved))}`, `removed ${name} from ${listEn(siteList(sitesRemoved))}`));
  const b = grantsOf(before.roles);
  const a = grantsOf(after.roles);
  const granted = a.filter((g) => !b.some((x) => sameGrant(x, g))).map((g) => grantWords(g, lookups));
  const revoked = b.filter((g) => !a.some((x) => sameGrant(x, g))).map((g) => grantWords(g, lookups));
  if (granted.length) out.push(said(`gjorde ${name} till ${listSv(granted.map((g) => g.sv))}`, `made ${name} ${listEn(granted.map((g) => g.en))}`));
  if (revoked.length) out.push(said(`tog bort rollen ${listSv(revoked.map((g) => g.sv))} från ${name}`, `removed the role ${listEn(revoked.map((g) => g.en))} from ${name}`));
  if (after.passwordChanged === true) out.push(said(`satte ett nytt lösenord för ${name}`, `set a new password for ${name}`));
  return out.length ? out : [said(`sparade ${name} utan ändring`, `saved ${name} unchanged`)];
}
