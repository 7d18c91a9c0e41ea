import { DELIVERY_POLICY_COLUMNS } from '../alarm-types/alarm-types.js';

/** SQL of the alarm path. */
export const ALARM_SQL = {
  // Serialises everything that changes a site's incidents, so joins and instructions are consistent.
  lockSite: "SELECT pg_advisory_xact_lock(hashtextextended('site:' || $1::text, 0))",
  // Taken before the site's: one press id sent at once to two sites is then a replay, as it is when sent one after the other.
  lockPress: "SELECT pg_advisory_xact_lock(hashtextextended('press:' || $1::text, 0))",
  pressById: 'SELECT press_id, incident_id, person_id FROM incident_presses WHERE press_id = $1',
  usableType: `
    SELECT id, key, json_build_object('sv', label_sv, 'en', label_en) AS label,
           json_build_object('sv', instruction_sv, 'en', instruction_en) AS instruction,
           colour, icon, sound, precedence,
           json_build_object('category', cap_category, 'event', cap_event, 'responseType', cap_response_type,
                             'severity', cap_severity, 'urgency', cap_urgency) AS cap,
           ${DELIVERY_POLICY_COLUMNS} AS delivery
      FROM alarm_types
     WHERE id = $1 AND NOT archived AND (organisation_id IS NULL OR organisation_id = $2)`,
  mayRaiseViaGroup: `
    SELECT EXISTS (
      SELECT 1 FROM alarm_groups g
        JOIN alarm_group_types gt ON gt.group_id = g.id AND gt.alarm_type_id = $3 AND gt.may_raise
        JOIN alarm_group_members m ON m.group_id = g.id AND m.person_id = $1
       WHERE g.site_id = $2) AS allowed`,
  activeIncident: `
    SELECT id, last_pressed_at FROM incidents
     WHERE site_id = $1 AND alarm_type_id = $2 AND drill = $3 AND state = 'active'`,
  insertIncident: `
    INSERT INTO incidents (organisation_id, site_id, alarm_type_id, drill, type_snapshot, location, message, raised_by, raised_at, last_pressed_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`,
  insertPress: `
    INSERT INTO incident_presses (press_id, incident_id, person_id, location, message, pressed_at)
    VALUES ($1, $2, $3, $4, $5, $6)`,
  touchIncident: 'UPDATE incidents SET last_pressed_at = $2 WHERE id = $1',
  // Who is targeted: members of the site's groups that receive the type, the site's crisis leads
  // and rektorer (who lead), and whoever pressed. Frozen with the incident.
  insertRecipients: `
    INSERT INTO incident_recipients (incident_id, person_id, organisation_id, lead, via_groups)
    SELECT $1, x.person_id, $2, bool_or(x.lead), coalesce(array_agg(DISTINCT x.group_id) FILTER (WHERE x.group_id IS NOT NULL), '{}')
      FROM (
        SELECT m.person_id, false AS lead, g.id AS group_id
          FROM alarm_groups g
          JOIN alarm_group_types gt ON gt.group_id = g.id AND gt.alarm_type_id = $4 AND gt.receives
          JOIN alarm_group_members m ON m.group_id = g.id
         WHERE g.site_id = $3
        UNION ALL
        SELECT r.person_id, true, NULL
          FROM role_assignments r JOIN people p ON p.id = r.person_id
         WHERE p.organisation_id = $2 AND r.role IN ('crisis_lead', 'site_admin') AND (r.site_id IS NULL OR r.site_id = $3)
        UNION ALL
        SELECT $5::uuid, false, NULL
      ) x
      JOIN people p ON p.id = x.person_id AND p.active
     GROUP BY x.person_id
    RETURNING person_id, lead, person_id = $5::uuid AS presser`,
  worksAt: 'SELECT 1 FROM person_sites WHERE person_id = $1 AND site_id = $2',
  addPresserAsRecipient: `
    INSERT INTO incident_recipients (incident_id, person_id, organisation_id, lead)
    VALUES ($1, $2, $3, false) ON CONFLICT DO NOTHING`,
} as const;
