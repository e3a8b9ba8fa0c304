// The stack's MongoDB: a MongoDB-wire server (mongo-java-server, H2 file backend) run from
// stack/mongo/MongoWireServer.java.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { repoRoot, type StackConfig } from '../config';
import { spawnDetached } from '../procs';
import { spec, type Component } from './common';

export function mongoClient(cfg: StackConfig): MongoClient {
  return new MongoClient(cfg.infra.mongo.url, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
}

export const mongo: Component = {
  name: 'mongo',
  kind: 'mongo',
  ports: (cfg) => [cfg.infra.mongo.port],
  marker: (cfg) => resolve(cfg.paths.data, 'mongo'),
  stopSignal: 'SIGTERM',
  async start(cfg) {
    const dir = resolve(cfg.paths.data, 'mongo');
    mkdirSync(dir, { recursive: true });
    return spawnDetached(
      spec(cfg, 'mongo', cfg.java, [
        `-Xmx${cfg.heap.mongo}`,
        '-cp',
        `${cfg.paths.mongoLib}/*`,
        resolve(repoRoot, 'stack/mongo/MongoWireServer.java'),
        '127.0.0.1',
        String(cfg.infra.mongo.port),
        resolve(dir, 'mongo.mv'),
      ]),
    );
  },
  async ready(cfg) {
    const client = mongoClient(cfg);
    try {
      await client.connect();
      const res = await client.db('admin').command({ ping: 1 });
      return res.ok === 1;
    } finally {
      await client.close();
    }
  },
};
