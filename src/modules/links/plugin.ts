import fp from 'fastify-plugin';
import { crossLinks, linkedCountsFor, linkedSites } from './crossing.js';

/**
 * Links between organisations (docs/linking.md) plug into the alarm core like any other module
 * (ADR 022): the `cross-links` step in every change's transaction, the linked sites a change locks
 * with its own, and the linked organisations' counts for the source's roll call.
 */
export default fp(async (app) => {
  app.alarms.pipeline.onTransaction('cross-links', (tx, change) => crossLinks(tx, change));
  app.alarms.provide.linkedSites(linkedSites);
  app.alarms.provide.linkedCounts(linkedCountsFor);
}, { name: 'links', dependencies: ['alarms'] });
