import type { Tx } from '../../db/pool.js';
import { forgetGroupPlaces } from '../alarm-groups/personal-data.js';
import { blankPersonTexts, peopleNamedInIncidents } from '../alarms/retention.js';
import { forgetSignIns } from '../auth/retention.js';
import { forgetPersonDeliveries } from '../delivery/retention.js';
import { pseudonymiseProfile, type Profile } from '../people/personal-data.js';

export interface Pseudonymisation {
  /** A kept incident refers to the person: their name stays (and nothing else about them). */
  nameKept: boolean;
  /** How many rows of each kind went or were blanked. */
  removed: {
    sessions: number;
    loginFailures: number;
    pushSubscriptions: number;
    deliveries: number;
    groupMemberships: number;
    escalationContacts: number;
    sites: number;
    roles: number;
    texts: number;
  };
}

/**
 * Pseudonymises a person, on request (erasure) or some time after their deactivation: their
 * contact details, password, devices, sessions, sign-in failures, deliveries, places in groups,
 * sites and roles go; what they wrote in ended incidents is blanked; their name stays only if a
 * kept incident refers to them. Call it in a transaction that holds the person's row lock, for a
 * person in no active incident. Each module removes its own rows.
 */
export async function pseudonymisePerson(tx: Tx, profile: Profile, at: Date): Promise<Pseudonymisation> {
  const nameKept = (await peopleNamedInIncidents(tx, [profile.id])).has(profile.id);
  const deliveries = await forgetPersonDeliveries(tx, profile.id);
  const signIns = await forgetSignIns(tx, profile.id, profile.email);
  const groups = await forgetGroupPlaces(tx, profile.id);
  const texts = await blankPersonTexts(tx, profile.id);
  const places = await pseudonymiseProfile(tx, profile.id, nameKept, at);
  return { nameKept, removed: { ...signIns, ...deliveries, ...groups, ...places, texts } };
}
