/**
 * Every permission decision lives here. Routes load the resource, then ask one of these; nothing
 * else in the code base inspects roles. Two answers matter for isolation: a resource of an
 * organisation the caller cannot see is reported as not found (nothing learned); one it can see
 * but not change is forbidden.
 */
export const ROLE_NAMES = ['staff', 'site_admin', 'crisis_lead', 'org_admin', 'system_admin'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export interface RoleGrant {
  role: RoleName;
  /** For site_admin and crisis_lead: the site, or null for every site of the organisation. */
  siteId: string | null;
}

export interface Principal {
  personId: string;
  organisationId: string;
  sessionId: string;
  /** The person's language: what they are told, errors included. */
  language: 'sv' | 'en';
  roles: RoleGrant[];
}

/** What a policy needs to know about a site. */
export interface SiteRef {
  id: string;
  organisationId: string;
}

/** What a policy needs to know about a person being managed. */
export interface PersonRef {
  organisationId: string;
  siteIds: string[];
  roles: RoleGrant[];
}

const holds = (p: Principal, role: RoleName, siteId?: string): boolean =>
  p.roles.some((r) => r.role === role && (siteId === undefined || r.siteId === null || r.siteId === siteId));

export const isSystemAdmin = (p: Principal): boolean => holds(p, 'system_admin');

/** May the caller see that this organisation's data exists at all? */
export const canSeeOrganisation = (p: Principal, organisationId: string): boolean =>
  isSystemAdmin(p) || p.organisationId === organisationId;

export const isOrgAdmin = (p: Principal, organisationId: string): boolean =>
  isSystemAdmin(p) || (p.organisationId === organisationId && holds(p, 'org_admin'));

/** Rektor of the site, or an organisation admin above it. */
export const isSiteAdmin = (p: Principal, site: SiteRef): boolean =>
  isOrgAdmin(p, site.organisationId) || (p.organisationId === site.organisationId && holds(p, 'site_admin', site.id));

/** Site admins manage a site's configuration; crisis leads may read it (they need to know who is in which group). */
export const canViewSiteConfiguration = (p: Principal, site: SiteRef): boolean =>
  isSiteAdmin(p, site) || (p.organisationId === site.organisationId && holds(p, 'crisis_lead', site.id));

export const canManageSite = isSiteAdmin;

/** Who at a site has no device that can receive alarms: for those who set the site up and lead it. */
export const canViewDeviceHealth = canViewSiteConfiguration;

export const canCreateSite = (p: Principal, organisationId: string): boolean => isOrgAdmin(p, organisationId);

export const canCreateOrganisation = (p: Principal): boolean => isSystemAdmin(p);

export const canUpdateOrganisation = (p: Principal, organisationId: string): boolean => isOrgAdmin(p, organisationId);

export const canManageAlarmTypes = (p: Principal, organisationId: string): boolean => isOrgAdmin(p, organisationId);

export const canReadAuditLog = (p: Principal, organisationId: string): boolean => isOrgAdmin(p, organisationId);

/** Sites whose people the caller manages as rektor: 'all' for organisation admins. */
export function managedSiteIds(p: Principal, organisationId: string): 'all' | string[] {
  if (isOrgAdmin(p, organisationId)) return 'all';
  if (p.organisationId !== organisationId) return [];
  if (p.roles.some((r) => r.role === 'site_admin' && r.siteId === null)) return 'all';
  return p.roles.filter((r) => r.role === 'site_admin' && r.siteId !== null).map((r) => r.siteId as string);
}

export const canListPeople = (p: Principal, organisationId: string): boolean => {
  const sites = managedSiteIds(p, organisationId);
  return sites === 'all' || sites.length > 0;
};

/**
 * An organisation admin manages everyone in the organisation. A rektor manages the people who work
 * at one of their sites, and only those whose every role the rektor could have granted: otherwise a
 * rektor could reset the password of an organisation-wide crisis lead and act with their rights.
 */
export function canManagePerson(p: Principal, person: PersonRef): boolean {
  if (isOrgAdmin(p, person.organisationId)) return true;
  if (!person.roles.every((r) => canGrantRole(p, person.organisationId, r))) return false;
  const sites = managedSiteIds(p, person.organisationId);
  if (sites === 'all') return true;
  return person.siteIds.some((s) => sites.includes(s));
}

/** Which roles the caller may grant (or revoke) in an organisation. */
export function canGrantRole(p: Principal, organisationId: string, grant: RoleGrant): boolean {
  if (isSystemAdmin(p)) return true;
  if (grant.role === 'system_admin') return false;
  if (isOrgAdmin(p, organisationId)) return true;
  if (grant.role === 'staff') return canListPeople(p, organisationId);
  if (grant.role !== 'crisis_lead' || grant.siteId === null) return false;
  const sites = managedSiteIds(p, organisationId);
  return sites === 'all' || sites.includes(grant.siteId);
}

/** A person may place someone at a site only if they manage it. */
export function canAssignSite(p: Principal, organisationId: string, siteId: string): boolean {
  const sites = managedSiteIds(p, organisationId);
  return sites === 'all' || sites.includes(siteId);
}

/**
 * Roles whose holders are alerted as leads of a site's incidents: the site's crisis leads and rektorer
 * (or those of every site). The alarm module targets exactly these (recipients.ts passes this list to
 * its SQL), so "who is alerted as a lead" is written once.
 */
export const ALERTED_LEAD_ROLES = ['crisis_lead', 'site_admin'] as const satisfies readonly RoleName[];

/**
 * Who leads a site's incidents (reads the roll call, sends instructions, declares all clear): those
 * alerted as leads, and the organisation's admins, who lead without being rung for every alarm. A
 * system admin runs the service, not other organisations' emergencies: they lead only in their own.
 */
export const isIncidentLead = (p: Principal, site: SiteRef): boolean =>
  p.organisationId === site.organisationId
  && (holds(p, 'org_admin') || ALERTED_LEAD_ROLES.some((role) => holds(p, role, site.id)));

/**
 * Raising an alarm: members of a group at the site that may raise the type, and the site's leads.
 * `mayRaiseViaGroup` is the fact from the site's alarm groups.
 */
export const canRaiseAlarm = (p: Principal, site: SiteRef, mayRaiseViaGroup: boolean): boolean =>
  p.organisationId === site.organisationId && (mayRaiseViaGroup || isIncidentLead(p, site));

/** Drills travel the real path, so only those who lead real incidents may start one. */
export const canRunDrill = isIncidentLead;

/** All clear: only the site's leads. */
export const canEndIncident = isIncidentLead;

/**
 * Cancel (false alarm): the site's leads, but never someone who pressed it, so that a person forced to
 * raise or to call off an alarm cannot make it vanish alone.
 */
export const canCancelIncident = (p: Principal, site: SiteRef, pressedIt: boolean): boolean =>
  isIncidentLead(p, site) && !pressedIt;

/** Instructions to everyone in an incident: only the site's leads. */
export const canSendInstruction = isIncidentLead;

/** An incident is visible to those it targeted and to the site's leads. */
export const canViewIncident = (p: Principal, site: SiteRef, isRecipient: boolean): boolean =>
  isRecipient || isIncidentLead(p, site);

/** Sites whose incidents the caller leads (isIncidentLead): 'all' for organisation-wide leads and organisation admins. */
export function leadSiteIds(p: Principal, organisationId: string): 'all' | string[] {
  if (p.organisationId !== organisationId) return [];
  if (holds(p, 'org_admin')) return 'all';
  const leadRoles = p.roles.filter((r) => (ALERTED_LEAD_ROLES as readonly RoleName[]).includes(r.role));
  if (leadRoles.some((r) => r.siteId === null)) return 'all';
  return leadRoles.map((r) => r.siteId as string);
}

/** A site's current instruction: for those who work there and its leads. */
export const canSeeSiteInstruction = (p: Principal, site: SiteRef, worksThere: boolean): boolean =>
  (p.organisationId === site.organisationId && worksThere) || isIncidentLead(p, site);

/*
 * Links between organisations (docs/linking.md). A link is consent between two organisations, so only
 * their own people decide on it: a system admin runs the service, not other organisations' agreements.
 */
const ownOrganisation = (p: Principal, organisationId: string): boolean => p.organisationId === organisationId;

/** Who sees their organisation's links: its admins, and its crisis leads and rektorer (whose sites they reach). */
export const canViewLinks = (p: Principal, organisationId: string): boolean =>
  ownOrganisation(p, organisationId) && (holds(p, 'org_admin') || holds(p, 'crisis_lead') || holds(p, 'site_admin'));

/** Proposing a link (and seeing which organisations and sites one could link to): the organisation's admins. */
export const canProposeLink = (p: Principal, organisationId: string): boolean => ownOrganisation(p, organisationId) && holds(p, 'org_admin');

/**
 * Accepting, declining, suspending, resuming or revoking a link: the organisation's admins, or its
 * crisis leads for the whole organisation (who may have to stop a link at once).
 */
export const canDecideLink = (p: Principal, organisationId: string): boolean =>
  ownOrganisation(p, organisationId) && (holds(p, 'org_admin') || p.roles.some((r) => r.role === 'crisis_lead' && r.siteId === null));

/** A link test (a drill sent over the link): the organisation's admins. */
export const canTestLink = canProposeLink;

/** A linked alarm held because it contradicts the site's instruction: the site's leads decide. */
export const canDecideHeldLinkedAlarm = isIncidentLead;
