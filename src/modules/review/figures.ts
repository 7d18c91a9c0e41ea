import type {
  IncidentReviewData, ReviewDelivery, ReviewEvent, ReviewRecipient,
} from '../alarms/review-data.js';

/**
 * The review's figures as pure functions of what the alarm path recorded (docs/review.md says how
 * each is computed). Every time is the one the app's clock gave the thing itself (a press, a
 * receipt, an answer, a message, the end, an escalation step); milliseconds are counted from the
 * first press (t0).
 */

export type Channel = 'socket' | 'push' | 'response';
export type UnreachedReason = 'no_device' | 'push_denied' | 'push_gone' | 'push_failed' | 'push_not_confirmed' | 'push_not_sent';
export type ResponseStatus = 'safe' | 'need_help' | 'not_on_site';

export interface Figures {
  t0: string;
  /** Not recorded by the alarm path (no commit time is stored): always null, listed under "not recorded". */
  pressToCommitMs: null;
  targeted: number;
  pressers: number;
  /** Recipients who did not press the alarm: the people it had to reach. */
  toReach: number;
  reached: number;
  acknowledged: number;
  unreached: number;
  firstDeviceMs: number | null;
  reached50Ms: number | null;
  reached90Ms: number | null;
  allReachedMs: number | null;
  firstAcknowledgementMs: number | null;
  firstInstructionMs: number | null;
  allClearMs: number | null;
  cancelledMs: number | null;
  answers: { safe: number; needHelp: number; notOnSite: number; none: number };
}

export interface ChannelFigures { channel: 'socket' | 'push' | 'push_service' | 'sms'; n: number; p50Ms: number | null; p90Ms: number | null; maxMs: number | null }

export interface PersonReview {
  personId: string;
  name: string;
  lead: boolean;
  pressed: boolean;
  deliveredAt: string | null;
  deliveredMs: number | null;
  deliveredChannel: Channel | null;
  seenAt: string | null;
  seenMs: number | null;
  acknowledgedAt: string | null;
  acknowledgedMs: number | null;
  answer: ResponseStatus | null;
  answerText: string | null;
  answeredAt: string | null;
  answeredMs: number | null;
  answers: number;
  pushDevices: number;
  pushAcceptedMs: number | null;
  reminders: number;
  namedToContacts: boolean;
  unreachedReason: UnreachedReason | null;
}

export interface EscalationStepReview {
  step: 'repush' | 'contacts';
  round: number;
  dueMs: number;
  ranMs: number | null;
  state: string;
  unreached: number | null;
  pushes: number | null;
  contacts: { name: string; group: string; sms: boolean }[];
}

export type Detail = string | number | boolean | null;

export interface AccountEntry {
  id: string;
  at: string;
  offsetMs: number;
  type: string;
  /** A delivery attempt (push or SMS): shown behind a toggle. */
  attempt: boolean;
  actor: string | null;
  details: Record<string, Detail>;
}

export interface InstructionEntry {
  at: string;
  offsetMs: number;
  kind: 'alarm' | 'changed' | 'message' | 'all_clear' | 'cancelled';
  label: { sv: string; en: string } | null;
  text: string | null;
}

export interface CurvePoint { ms: number; share: number }
export interface ReachCurve {
  toReach: number;
  untilMs: number;
  reached: CurvePoint[];
  acknowledged: CurvePoint[];
  socket: CurvePoint[];
  push: CurvePoint[];
  markers: { ms: number; kind: 'instruction' | 'all_clear' | 'cancelled' }[];
}
export interface RollCallStep { ms: number; safe: number; needHelp: number; notOnSite: number; none: number }

export interface ReviewComputation {
  figures: Figures;
  channels: ChannelFigures[];
  people: PersonReview[];
  unreached: { personId: string; name: string; reason: UnreachedReason }[];
  escalation: EscalationStepReview[];
  account: AccountEntry[];
  instructions: InstructionEntry[];
  reachCurve: ReachCurve;
  rollCall: RollCallStep[];
}

/** Nearest-rank percentile: an observed value, so every figure is one that really happened. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

/** When the k-th percent of `total` people had been reached: the ceil(k·total/100)-th time, or null if never. */
export function timeToShare(times: readonly number[], total: number, share: number): number | null {
  if (total === 0) return null;
  const needed = Math.max(1, Math.ceil((share / 100) * total));
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[needed - 1] ?? null;
}

const ms = (d: Date) => d.getTime();
const min = (values: number[]): number | null => (values.length ? Math.min(...values) : null);
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** A step curve: at each time the share of `total` reached so far. */
function curve(times: number[], total: number): CurvePoint[] {
  if (total === 0) return [];
  return [...times].sort((a, b) => a - b).map((t, i) => ({ ms: t, share: (i + 1) / total }));
}

/**
 * When each event happened, by the app's clock: the time of the thing it records. The stored
 * `at` (PostgreSQL's transaction time) is used only where nothing else says when (a retried
 * delivery attempt, an instruction change whose cause is unknown).
 */
export function eventTimes(data: IncidentReviewData): Map<string, number> {
  const { incident, presses, responses, messages, deliveries, escalationSteps, causes } = data;
  const raisedAt = ms(incident.raisedAt);
  const responseAt = new Map(responses.map((r) => [String(r.id), ms(r.at)]));
  const messageAt = new Map(messages.map((m) => [m.id, ms(m.at)]));
  const deliveryById = new Map(deliveries.map((d) => [String(d.id), d]));
  const stepAt = (step: string, round: number) =>
    escalationSteps.find((s) => s.step === step && s.round === round)?.finishedAt ?? null;
  const later = presses.slice(1);
  let joins = 0;
  const times = new Map<string, number>();
  for (const e of data.events) {
    let t: number | null = null;
    switch (e.type) {
      case 'raised':
      case 'recipients_computed':
        t = raisedAt;
        break;
      case 'joined':
      case 'reraised': {
        const press = later[joins];
        joins += 1;
        t = press ? ms(press.pressedAt) : null;
        break;
      }
      case 'delivered':
      case 'acknowledged':
        t = typeof e.data.at === 'string' ? Date.parse(e.data.at) : null;
        break;
      case 'responded':
        t = responseAt.get(String(e.data.responseId)) ?? null;
        break;
      case 'message':
      case 'reply':
        t = messageAt.get(String(e.data.messageId)) ?? null;
        break;
      case 'resolved':
      case 'cancelled':
        t = incident.endedAt ? ms(incident.endedAt) : null;
        break;
      case 'repushed': {
        const at = stepAt('repush', Number(e.data.round));
        t = at ? ms(at) : null;
        break;
      }
      case 'escalated': {
        const at = stepAt('contacts', 1);
        t = at ? ms(at) : null;
        break;
      }
      case 'instruction_changed':
        t = instructionChangeTime(e, incident.id, raisedAt, causes);
        break;
      case 'delivery_attempt': {
        const d = deliveryById.get(String(e.data.deliveryId));
        t = e.data.nextAttemptAt === null && d?.finishedAt ? ms(d.finishedAt) : null;
        break;
      }
    }
    times.set(e.id, t ?? ms(e.at));
  }
  return times;
}

function instructionChangeTime(e: ReviewEvent, incidentId: string, raisedAt: number, causes: IncidentReviewData['causes']): number | null {
  const cause = e.data.cause;
  if (cause === incidentId) return raisedAt;
  const other = causes.find((c) => c.id === cause);
  if (!other) return null;
  const now = e.data.instruction as { incidentId?: string } | null;
  // The cause raised over this alarm (its instruction now holds), or ended and left this one's.
  if (now?.incidentId === other.id || !other.endedAt) return ms(other.raisedAt);
  return ms(other.endedAt);
}

function unreachedReason(pushes: ReviewDelivery[], pushDenied: boolean): UnreachedReason {
  if (pushes.length === 0) return pushDenied ? 'push_denied' : 'no_device';
  if (pushes.some((d) => d.state === 'sent')) return 'push_not_confirmed';
  if (pushes.every((d) => d.state === 'gone')) return 'push_gone';
  if (pushes.some((d) => d.state === 'failed')) return 'push_failed';
  return 'push_not_sent';
}

const LABEL = (e: ReviewEvent) => (e.data.instruction as { label?: { sv: string; en: string } } | null | undefined)?.label ?? null;

/** Computes every figure of an incident's review; `now` ends the curves of an incident still active. */
export function computeReview(data: IncidentReviewData, now: Date): ReviewComputation {
  const { incident, presses, recipients, receipts, responses, messages, deliveries, events } = data;
  const t0 = ms(incident.raisedAt);
  const rel = (t: number) => t - t0;
  const pressers = new Set(presses.map((p) => p.personId));
  const toReach = recipients.filter((r) => !pressers.has(r.personId));
  const names = new Map<string, string>([...data.people, ...recipients.map((r) => ({ id: r.personId, name: r.name }))].map((p) => [p.id, p.name]));
  const denied = new Set(data.deviceReports.filter((d) => d.pushDenied).map((d) => d.personId));

  // Indexed per person once: a large alarm has thousands of recipients, receipts and pushes.
  const byPerson = <T extends { personId: string | null }>(rows: T[]) => {
    const map = new Map<string, T[]>();
    for (const row of rows) {
      if (!row.personId) continue;
      const list = map.get(row.personId);
      if (list) list.push(row);
      else map.set(row.personId, [row]);
    }
    return map;
  };
  const responseOrder = (a: IncidentReviewData['responses'][number], b: IncidentReviewData['responses'][number]) =>
    ms(a.at) - ms(b.at) || Number(a.id) - Number(b.id);
  const receiptsOf = byPerson([...receipts].sort((a, b) => ms(a.at) - ms(b.at)));
  const responsesOf = byPerson([...responses].sort(responseOrder));
  const pushesOf = byPerson(deliveries.filter((d) => d.channel === 'push' && (d.kind === 'alarm' || d.kind === 'reminder')));
  const firstReceipt = (personId: string, pred: (r: IncidentReviewData['receipts'][number]) => boolean) =>
    (receiptsOf.get(personId) ?? []).find(pred) ?? null;
  const latestResponse = (personId: string) => (responsesOf.get(personId) ?? []).at(-1) ?? null;
  const named = new Set(events.filter((e) => e.type === 'escalated')
    .flatMap((e) => ((e.data.unreached as { personId: string }[] | undefined) ?? []).map((u) => u.personId)));

  const people: PersonReview[] = recipients.map((r: ReviewRecipient) => {
    const first = firstReceipt(r.personId, () => true);
    const seen = firstReceipt(r.personId, (x) => x.kind === 'acknowledged' && x.channel !== 'response');
    const answer = latestResponse(r.personId);
    const pushes = pushesOf.get(r.personId) ?? [];
    const accepted = min(pushes.filter((d) => d.state === 'sent' && d.finishedAt).map((d) => ms(d.finishedAt as Date)));
    const delivered = r.deliveredAt ? ms(r.deliveredAt) : null;
    const acknowledged = r.acknowledgedAt ? ms(r.acknowledgedAt) : null;
    const pressed = pressers.has(r.personId);
    return {
      personId: r.personId,
      name: r.name,
      lead: r.lead,
      pressed,
      deliveredAt: iso(delivered),
      deliveredMs: delivered === null ? null : rel(delivered),
      deliveredChannel: first ? (first.channel as Channel) : null,
      seenAt: seen ? seen.at.toISOString() : null,
      seenMs: seen ? rel(ms(seen.at)) : null,
      acknowledgedAt: iso(acknowledged),
      acknowledgedMs: acknowledged === null ? null : rel(acknowledged),
      answer: answer?.status ?? null,
      answerText: answer?.text ?? null,
      answeredAt: answer ? answer.at.toISOString() : null,
      answeredMs: answer ? rel(ms(answer.at)) : null,
      answers: responsesOf.get(r.personId)?.length ?? 0,
      pushDevices: new Set(pushes.filter((d) => d.kind === 'alarm').map((d) => d.id)).size,
      pushAcceptedMs: accepted === null ? null : rel(accepted),
      reminders: pushes.filter((d) => d.kind === 'reminder' && d.state === 'sent').length,
      namedToContacts: named.has(r.personId),
      unreachedReason: delivered === null && !pressed ? unreachedReason(pushes, denied.has(r.personId)) : null,
    };
  });
  const reachable = people.filter((p) => !p.pressed);
  const reachedTimes = reachable.flatMap((p) => (p.deliveredMs === null ? [] : [p.deliveredMs]));
  const ackTimes = reachable.flatMap((p) => (p.acknowledgedMs === null ? [] : [p.acknowledgedMs]));
  const instructionMessages = messages.filter((m) => m.kind === 'instruction');
  const ended = incident.endedAt ? rel(ms(incident.endedAt)) : null;

  const figures: Figures = {
    t0: incident.raisedAt.toISOString(),
    pressToCommitMs: null,
    targeted: recipients.length,
    pressers: recipients.length - toReach.length,
    toReach: toReach.length,
    reached: reachedTimes.length,
    acknowledged: ackTimes.length,
    unreached: toReach.length - reachedTimes.length,
    firstDeviceMs: min(reachedTimes),
    reached50Ms: timeToShare(reachedTimes, toReach.length, 50),
    reached90Ms: timeToShare(reachedTimes, toReach.length, 90),
    allReachedMs: timeToShare(reachedTimes, toReach.length, 100),
    firstAcknowledgementMs: min(ackTimes),
    firstInstructionMs: min(instructionMessages.map((m) => rel(ms(m.at)))),
    allClearMs: incident.state === 'resolved' ? ended : null,
    cancelledMs: incident.state === 'cancelled' ? ended : null,
    answers: {
      safe: recipients.filter((r) => latestResponse(r.personId)?.status === 'safe').length,
      needHelp: recipients.filter((r) => latestResponse(r.personId)?.status === 'need_help').length,
      notOnSite: recipients.filter((r) => latestResponse(r.personId)?.status === 'not_on_site').length,
      none: recipients.filter((r) => !latestResponse(r.personId)).length,
    },
  };

  // Per channel: each reachable person's first receipt on it; a push service's acceptance of each
  // alarm push (not a receipt); an SMS gateway's acceptance of each SMS.
  const reachableIds = new Set(reachable.map((p) => p.personId));
  const firstOn = (channel: string) => [...reachableIds].flatMap((id) => {
    const r = firstReceipt(id, (x) => x.channel === channel);
    return r ? [rel(ms(r.at))] : [];
  });
  const stats = (channel: ChannelFigures['channel'], values: number[]): ChannelFigures => ({
    channel, n: values.length, p50Ms: percentile(values, 50), p90Ms: percentile(values, 90), maxMs: values.length ? Math.max(...values) : null,
  });
  const accepted = (channel: 'push' | 'sms', kinds: string[]) => deliveries
    .filter((d) => d.channel === channel && kinds.includes(d.kind) && d.state === 'sent' && d.finishedAt)
    .map((d) => rel(ms(d.finishedAt as Date)));
  const socketTimes = firstOn('socket');
  const pushTimes = firstOn('push');
  const channels = [
    stats('socket', socketTimes), stats('push', pushTimes), stats('push_service', accepted('push', ['alarm'])), stats('sms', accepted('sms', ['alarm', 'escalation'])),
  ];

  const times = eventTimes(data);
  const timeOf = (e: ReviewEvent) => times.get(e.id) ?? ms(e.at);
  const account = events
    .map((e) => ({ e, t: timeOf(e) }))
    .sort((a, b) => a.t - b.t || Number(a.e.id) - Number(b.e.id))
    .map(({ e, t }): AccountEntry => ({
      id: e.id, at: new Date(t).toISOString(), offsetMs: rel(t), type: e.type, attempt: e.type === 'delivery_attempt',
      actor: e.actorPersonId ? names.get(e.actorPersonId) ?? null : null,
      details: details(e, names, receipts),
    }));

  const instructions: InstructionEntry[] = [
    { at: figures.t0, offsetMs: 0, kind: 'alarm' as const, label: incident.type.label, text: incident.type.instruction.sv },
    ...events.filter((e) => e.type === 'instruction_changed' && e.data.cause !== incident.id).map((e): InstructionEntry => ({
      at: new Date(timeOf(e)).toISOString(), offsetMs: rel(timeOf(e)), kind: 'changed', label: LABEL(e), text: null,
    })),
    ...instructionMessages.map((m): InstructionEntry => ({ at: m.at.toISOString(), offsetMs: rel(ms(m.at)), kind: 'message', label: null, text: m.body })),
    ...(incident.endedAt && ended !== null
      ? [{ at: incident.endedAt.toISOString(), offsetMs: ended, kind: incident.state === 'resolved' ? 'all_clear' as const : 'cancelled' as const, label: null, text: incident.endReason }]
      : []),
  ].sort((a, b) => a.offsetMs - b.offsetMs);

  const untilMs = Math.max(ended ?? rel(ms(now)), ...reachedTimes, ...ackTimes, 0);
  const reachCurve: ReachCurve = {
    toReach: toReach.length,
    untilMs,
    reached: curve(reachedTimes, toReach.length),
    acknowledged: curve(ackTimes, toReach.length),
    socket: curve(socketTimes, toReach.length),
    push: curve(pushTimes, toReach.length),
    markers: instructions.filter((i) => i.kind !== 'alarm').map((i) => ({
      ms: i.offsetMs, kind: i.kind === 'all_clear' || i.kind === 'cancelled' ? i.kind : 'instruction' as const,
    })),
  };

  // The roll call over time: each answer moves its person from their previous status to the new one.
  const rollCall: RollCallStep[] = [{ ms: 0, safe: 0, needHelp: 0, notOnSite: 0, none: recipients.length }];
  const current = new Map<string, ResponseStatus>();
  const counts = { safe: 0, need_help: 0, not_on_site: 0, none: recipients.length };
  const targeted = new Set(recipients.map((r) => r.personId));
  for (const r of [...responses].sort(responseOrder)) {
    if (!targeted.has(r.personId)) continue;
    const before = current.get(r.personId);
    counts[before ?? 'none'] -= 1;
    counts[r.status] += 1;
    current.set(r.personId, r.status);
    const step = { ms: rel(ms(r.at)), safe: counts.safe, needHelp: counts.need_help, notOnSite: counts.not_on_site, none: counts.none };
    const last = rollCall[rollCall.length - 1];
    if (last && last.ms === step.ms && rollCall.length > 1) rollCall[rollCall.length - 1] = step;
    else rollCall.push(step);
  }

  // A claimed step's due_at becomes its claim's lease: when it was planned comes from the policy frozen
  // into the incident (incidents raised before policies existed have none: their stored due time).
  const policy = (incident.type as Partial<typeof incident.type>).delivery;
  const planned = (s: IncidentReviewData['escalationSteps'][number]): number => {
    const after = s.step === 'repush' ? policy?.repushAfterSeconds : policy?.contactsAfterSeconds;
    if (after === null || after === undefined) return rel(ms(s.dueAt));
    return (s.step === 'repush' ? after * s.round : after) * 1000;
  };
  const escalation = data.escalationSteps.map((s): EscalationStepReview => {
    const event = events.find((e) => (s.step === 'repush' ? e.type === 'repushed' && Number(e.data.round) === s.round : e.type === 'escalated'));
    const contacts = (event?.data.contacts as { name: string; group: string; sms: boolean }[] | undefined) ?? [];
    return {
      step: s.step, round: s.round, dueMs: planned(s), // A step cancelled at all clear also has a finished_at: it never ran.
      ranMs: s.state === 'done' && s.finishedAt ? rel(ms(s.finishedAt)) : null, state: s.state,
      unreached: event ? Number(event.type === 'escalated' ? event.data.unreachedCount : event.data.unreached) : null,
      pushes: event ? Number(event.data.pushes) : null,
      contacts: contacts.map((c) => ({ name: c.name, group: c.group, sms: c.sms })),
    };
  });

  escalation.sort((a, b) => a.dueMs - b.dueMs || a.step.localeCompare(b.step) || a.round - b.round);
  return {
    figures,
    channels,
    people,
    unreached: people.flatMap((p) => (p.unreachedReason ? [{ personId: p.personId, name: p.name, reason: p.unreachedReason }] : [])),
    escalation,
    account,
    instructions,
    reachCurve,
    rollCall,
  };
}

/** What the account shows of an event: a few flat fields, names instead of ids. */
function details(e: ReviewEvent, names: Map<string, string>, receipts: IncidentReviewData['receipts']): Record<string, Detail> {
  const d = e.data;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const person = (v: unknown) => (typeof v === 'string' ? names.get(v) ?? null : null);
  switch (e.type) {
    case 'raised': {
      const incident = d.incident as { location?: string | null; message?: string | null } | undefined;
      return { location: incident?.location ?? null, message: incident?.message ?? null };
    }
    case 'joined':
    case 'reraised':
      return { person: person(d.pressedBy), location: str(d.location) };
    case 'recipients_computed':
      return { targeted: num(d.targeted), leads: num(d.leads) };
    case 'delivered':
    case 'acknowledged': {
      const at = str(d.at);
      const receipt = receipts.find((r) => r.personId === d.personId && r.at.toISOString() === (at ? new Date(at).toISOString() : null));
      return { person: person(d.personId), channel: receipt?.channel ?? null };
    }
    case 'responded':
      return { person: person(d.personId), status: str(d.status), text: str(d.text), location: str(d.location) };
    case 'message':
    case 'reply':
      return { body: str(d.body) };
    case 'instruction_changed': {
      const label = LABEL(e);
      const previous = (d.previous as { label?: { sv: string; en: string } } | null)?.label ?? null;
      return { to: label?.sv ?? null, toEn: label?.en ?? null, from: previous?.sv ?? null, fromEn: previous?.en ?? null, contradiction: d.contradiction === true };
    }
    case 'resolved':
    case 'cancelled':
      return { reason: str(d.reason) };
    case 'repushed':
      return { round: num(d.round), unreached: num(d.unreached), pushes: num(d.pushes) };
    case 'escalated': {
      const contacts = (d.contacts as { name: string; sms: boolean }[] | undefined) ?? [];
      return { unreached: num(d.unreachedCount), contacts: contacts.map((c) => (c.sms ? `${c.name} (SMS)` : c.name)).join(', '), pushes: num(d.pushes) };
    }
    case 'delivery_attempt':
      return {
        person: person(d.personId), channel: str(d.channel), kind: str(d.kind), attempt: num(d.attempt), outcome: str(d.outcome),
        status: num(d.status), error: str(d.error),
      };
    default:
      return {};
  }
}
