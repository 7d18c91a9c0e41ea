import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase } from './app.js';
import { startNode, type AppNode } from './nodes.js';

/**
 * Real app processes on a database of the calling test file's own: created before its tests; after them, the
 * nodes are stopped and the database dropped, whatever the tests did.
 */
export function nodesOnOwnDatabase(): {
  /** The database's connection string (only once the file's tests have begun). */
  url(): string;
  start(env: Record<string, string>, options?: Parameters<typeof startNode>[1]): Promise<AppNode>;
} {
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  const nodes: AppNode[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await database?.drop();
  });
  return {
    url: () => {
      if (!database) throw new Error('the database is created before the tests, not at collection');
      return database.url;
    },
    start: async (env, options) => {
      const node = await startNode(env, options);
      nodes.push(node);
      return node;
    },
  };
}
