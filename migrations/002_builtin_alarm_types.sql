-- The built-in alarm types every organisation has. Precedence decides a site's one authoritative
-- instruction when several alarms are active: a lockdown outranks fire, because leaving the room
-- during ongoing lethal violence kills (evacuate on a fire alarm only when you see fire or smoke).
INSERT INTO alarm_types (organisation_id, key, label_sv, label_en, colour, icon, instruction_sv, instruction_en,
                         sound, precedence, cap_category, cap_event, cap_response_type, cap_severity, cap_urgency)
VALUES
  (NULL, 'inrymning', 'Inrymning (PDV)', 'Lockdown (active violence)', '#6a1b9a', 'lock',
   'Pågående dödligt våld. Lås eller barrikadera dörren, släck ljuset, håll er tysta och borta från dörrar och fönster. Stäng av ljudet på telefonen. Utrym inte vid brandlarm om du inte själv ser brand eller rök. Ring 112 när det är säkert.',
   'Ongoing lethal violence. Lock or barricade the door, turn off the lights, stay silent and away from doors and windows. Silence your phone. Do not evacuate on a fire alarm unless you see fire or smoke yourself. Call 112 when it is safe.',
   'silent', 100, 'Security', 'Inrymning', 'Shelter', 'Extreme', 'Immediate'),
  (NULL, 'brand', 'Brand', 'Fire', '#c62828', 'flame',
   'Brand. Utrym byggnaden via närmaste säkra väg, stäng dörrar efter er och gå till återsamlingsplatsen. Räkna in eleverna och rapportera vilka som saknas.',
   'Fire. Evacuate the building by the nearest safe route, close doors behind you and go to the assembly point. Count your pupils and report who is missing.',
   'loud', 80, 'Fire', 'Brand', 'Evacuate', 'Severe', 'Immediate'),
  (NULL, 'utrymning', 'Utrymning', 'Evacuation', '#e65100', 'exit',
   'Utrymning. Lämna byggnaden lugnt via närmaste säkra utgång och gå till återsamlingsplatsen. Räkna in eleverna.',
   'Evacuation. Leave the building calmly by the nearest safe exit and go to the assembly point. Count your pupils.',
   'loud', 70, 'Safety', 'Utrymning', 'Evacuate', 'Severe', 'Immediate'),
  (NULL, 'hot', 'Hot', 'Threat', '#f9a825', 'warning',
   'Hot. Var uppmärksam, håll dig och eleverna borta från platsen och invänta instruktioner från krisledningen.',
   'Threat. Stay alert, keep yourself and your pupils away from the location and wait for instructions from the crisis team.',
   'silent', 60, 'Security', 'Hot', 'Monitor', 'Severe', 'Immediate')
ON CONFLICT DO NOTHING;
