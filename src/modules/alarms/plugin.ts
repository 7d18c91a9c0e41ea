import fp from 'fastify-plugin';
import type { EventType, MessageRequest, RaiseRequest, ReceiptKind, ResponseRequest } from '../../contract/alarms.js';
import { AppError } from '../../lib/errors.js';
import type { Principal } from '../auth/policies.js';
import { catchUp, resync, type DevicePosition } from './catch-up.js';
import type { AlarmDeps, AlarmSources } from './deps.js';
import { endIncident, respond, sendMessage } from './during.js';
import { timelineFor } from './events.js';
import { listIncidents, visibleIncident } from './incidents.js';
import { instructionFor, siteInstruction } from './instruction.js';
import { AlarmPipeline } from './pipeline.js';
import { raiseAlarm } from './raise.js';
import { receiptBuffer } from './receipts.js';
import { rollCallFor } from './rollcall.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The alarm core: its use cases, and the pipeline every change goes through. */
    alarms: AlarmCore;
  }
}

/** Receipts as devices send them: the socket's `receipt`, or the service worker's POST after a push. */
export interface ReceiptInput {
  kind: ReceiptKind;
  deviceId: string;
  channel: 'socket' | 'push';
}

/**
 * The alarm core's front door: every use case of the alarm path, bound to its dependencies. Routes
 * and the socket call these and nothing deeper. Other modules plug in through `pipeline` (steps in
 * the change's transaction, processors after its commit) and `provide` (what the core asks of them).
 */
function createAlarmCore(deps: AlarmDeps, registered: Partial<AlarmSources>) {
  const receipts = receiptBuffer(deps);
  const provide = <K extends keyof AlarmSources>(name: K) => (source: AlarmSources[K]) => {
    registered[name] = source;
  };

  return {
    pipeline: deps.pipeline,
    provide: {
      /** The delivery module tells the roll call what Web Push did for each recipient. */
      pushProgress: provide('pushProgress'),
      /** The links module names the linked sites a change must lock with its own. */
      linkedSites: provide('linkedSites'),
      /** The links module tells the source's roll call what became of it at linked organisations. */
      linkedCounts: provide('linkedCounts'),
    },
    /** Declared steps, processors and sources no module provided. */
    missing: () => [...deps.pipeline.missing(), ...SOURCE_NAMES.filter((name) => !registered[name])],

    raise: (principal: Principal, input: RaiseRequest) => raiseAlarm(deps, principal, input),
    respond: (principal: Principal, incidentId: string, input: ResponseRequest) => respond(deps, principal, incidentId, input),
    sendMessage: (principal: Principal, incidentId: string, input: MessageRequest) => sendMessage(deps, principal, incidentId, input),
    resolve: (principal: Principal, incidentId: string, note: string | null) =>
      endIncident(deps, principal, incidentId, { outcome: 'resolved', reason: note }),
    cancel: (principal: Principal, incidentId: string, reason: string) =>
      endIncident(deps, principal, incidentId, { outcome: 'cancelled', reason }),

    /**
     * A device confirms it has the alarm; resolves once committed. An incident that did not target the
     * person is not found, whether it exists or not, on every channel. The session is checked as the
     * receipt is written (with its batch), so a socket need not check it before: one that has ended is
     * unauthenticated, and nothing is written.
     */
    async recordReceipt(principal: Principal, incidentId: string, input: ReceiptInput): Promise<void> {
      const outcome = await receipts.add({
        incidentId, personId: principal.personId, sessionId: principal.sessionId, deviceId: input.deviceId, kind: input.kind, channel: input.channel, at: deps.clock.now(),
      });
      if (outcome === 'session_ended') throw new AppError('unauthenticated');
      if (outcome === 'not_recipient') throw new AppError('not_found');
    },
    /** Writes the receipts gathered so far (shutdown). */
    flushReceipts: () => receipts.flush(),

    /** One incident as the caller may see it, whether they lead it, and its site's instruction now. */
    async incident(principal: Principal, incidentId: string) {
      const { incident, lead } = await visibleIncident(deps.db, principal, incidentId);
      return { incident, lead, instruction: await siteInstruction(deps.db, incident.siteId) };
    },
    list: (principal: Principal, query: Parameters<typeof listIncidents>[2]) => listIncidents(deps.db, principal, query),
    timeline: (principal: Principal, incidentId: string, types: EventType[] | null) => timelineFor(deps.db, principal, incidentId, types),
    rollCall: (principal: Principal, incidentId: string) => rollCallFor(deps.db, deps.sources, principal, incidentId),
    siteInstruction: (principal: Principal, siteId: string) => instructionFor(deps.db, principal, siteId),
    /** What a device missed since its cursor, or the current state (docs/realtime.md). */
    catchUp: (personId: string, device: DevicePosition) => catchUp(deps.db, personId, device),
    /** The current state for a person who became part of an incident under way. */
    joinedIncident: (personId: string) => resync(deps.db, personId, 'joined_incident'),
  };
}

export type AlarmCore = ReturnType<typeof createAlarmCore>;

const SOURCE_NAMES = ['pushProgress', 'linkedSites', 'linkedCounts'] as const satisfies readonly (keyof AlarmSources)[];

/** Registers the alarm core. Links, delivery and realtime register after it and plug into `app.alarms`. */
export default fp(async (app) => {
  const registered: Partial<AlarmSources> = {};
  // Until (and unless) a module provides them: nothing pushed, no linked sites, no linked counts.
  const sources: AlarmSources = {
    pushProgress: (db, incidentId) => registered.pushProgress?.(db, incidentId) ?? Promise.resolve(new Map()),
    linkedSites: (db, siteId, incidentId) => registered.linkedSites?.(db, siteId, incidentId) ?? Promise.resolve([]),
    linkedCounts: (db, incidentId) => registered.linkedCounts?.(db, incidentId) ?? Promise.resolve([]),
  };
  const deps: AlarmDeps = {
    db: app.db, config: app.config, clock: app.clock, log: app.log.child({ category: 'alarms' }),
    pipeline: new AlarmPipeline(app.db, app.log.child({ category: 'alarms' })), sources,
  };
  const core = createAlarmCore(deps, registered);
  app.decorate('alarms', core);
  app.addHook('onReady', async () => {
    const missing = core.missing();
    if (missing.length) throw new Error(`the alarm core is missing what modules should provide: ${missing.join(', ')}`);
  });
  app.addHook('onClose', async () => {
    await core.flushReceipts();
  });
}, { name: 'alarms', dependencies: ['config', 'database', 'clock'] });
