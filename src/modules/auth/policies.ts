/**
 * Every permission decision lives here. Routes load the resource, then ask one of these; nothing
 * else in the code base inspects roles. Two answers matter for isolation: a resource of an
 * organisation the caller cannot see is reported as not found (nothing learned); one it can see
 * but not change is forbidden.
 */
export const ROLE_NAMES = ['staff', 'site_admin', 'crisis_lead', 'org_admin', 'system_admin', 'reviewer'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export interface RoleGrant {
  role: RoleName;
  /** For site_admin, crisis_lead and reviewer: the site, or null for every site of the organisation. */
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

/**
 * Whose configuration history the caller may read: everything for organisation admins (and
 * organisation-wide rektorer), the entries about their own sites for rektorer, nothing for others.
 */
export function auditSiteScope(p: Principal, organisationId: string): 'all' | string[] {
  if (isOrgAdmin(p, organisationId)) return 'all';
  return managedSiteIds(p, organisationId);
}

export const canReadAuditLog = (p: Principal, organisationId: string): boolean => {
  const scope = auditSiteScope(p, organisationId);
  return scope === 'all' || scope.length > 0;
};

/** Sites whose people the caller manages as rektor: 'all' for organisation admins. */
export function managedSiteIds(p: Principal, organisationId: string): 'all' | string[] {
  if (isOrgAdmin(p, organisationId)) return 'all';
  if (p.organisationId !== organisationId) return [];
  if (p.roles.some((r) => r.role === 'site_admin' && r.siteId === null)) return 'all';
  return p.roles.filter((r) => r.role === 'site_admin' && r.siteId !== null).map((r) => r.siteId as string);
}

/** Managing a site's configuration, its people's devices included: its rektor or an organisation admin. */
export const canManageDevicesAt = (p: Principal, site: SiteRef): boolean => isSiteAdmin(p, site);

/** How the organisation's people sign in (passwords, its OpenID provider): organisation admins. */
export const canManageSignIn = (p: Principal, organisationId: string): boolean => isOrgAdmin(p, organisationId);

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

/**
 * Whom a caller may put into an alarm group or name as an escalation contact: themselves, or someone
 * they manage. Membership decides who is offered a site's alarm buttons and gets its alarms, and a
 * contact's phone and e-mail address come back in the answer: neither may reach past the caller's own people.
 */
export const canEnlistPerson = (p: Principal, personId: string, person: PersonRef): boolean =>
  personId === p.personId || canManagePerson(p, person);

/** A person's phone and e-mail address: for themselves and whoever manages them (as `GET /people/:id`). */
export const canReadContactDetails = canEnlistPerson;

// Post-incident review (src/modules/review). Reviewers (a safety officer, a skyddsombud) read the
// reviews, figures and exports of their organisation or of one site, and change nothing.

/** Reads an incident's review, its figures and its exports: the site's leads and its reviewers. */
export const canReviewIncident = (p: Principal, site: SiteRef): boolean =>
  isIncidentLead(p, site) || (p.organisationId === site.organisationId && holds(p, 'reviewer', site.id));

/** Writes the review record (and signs it off): the site's leads, never a reviewer. */
export const canEditReview = isIncidentLead;

/** Exports of an incident are what its review shows, so the same people may take them. */
export const canExportIncident = canReviewIncident;

/** Sites whose reviews the caller reads: 'all' for organisation admins and organisation-wide leads or reviewers. */
export function reviewSiteIds(p: Principal, organisationId: string): 'all' | string[] {
  const lead = leadSiteIds(p, organisationId);
  if (lead === 'all') return 'all';
  if (p.organisationId !== organisationId) return [];
  const reviewer = p.roles.filter((r) => r.role === 'reviewer');
  if (reviewer.some((r) => r.siteId === null)) return 'all';
  return [...new Set([...lead, ...reviewer.map((r) => r.siteId as string)])];
}

/** Statistics over an organisation's incidents: whoever reads the reviews of at least one of its sites. */
export const canViewStatistics = (p: Principal, organisationId: string): boolean => {
  const sites = reviewSiteIds(p, organisationId);
  return sites === 'all' || sites.length > 0;
};

// Personal data (docs/PRIVACY.md).

/** A person's own data: they themselves, and whoever manages them (an access request handled by an admin). */
export const canExportPersonalData = (p: Principal, personId: string, person: PersonRef): boolean =>
  p.personId === personId || canManagePerson(p, person);

/** Erasure cannot be undone: only the organisation's administrators, and never on themselves. */
export const canErasePerson = (p: Principal, personId: string, person: PersonRef): boolean =>
  p.personId !== personId && isOrgAdmin(p, person.organisationId);

/** How long the organisation keeps its incidents is its administrators' decision, and so is reading it. */
export const canManageRetention = (p: Principal, organisationId: string): boolean => isOrgAdmin(p, organisationId);

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
