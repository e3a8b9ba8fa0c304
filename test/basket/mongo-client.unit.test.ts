// The basket's MongoDB client is time-bounded (MONGO_OPERATION_TIMEOUT_MS): checked on the driver's own
// options of the client the service builds, before it connects (no I/O).
import { infraFrom, loadInfra, mongoClientOptions } from '@qtshop/shared/infra';
import { mongoClient } from '@qtshop/shared/service';
import { loadBasketConfig } from '../../services/basket/src/config';

describe('MONGO_OPERATION_TIMEOUT_MS', () => {
  it("defaults to 30 s, the driver's socketTimeoutMS, beside a 10 s server selection", () => {
    expect(loadInfra({}).mongo.operationTimeoutMs).toBe(30_000);
    expect(mongoClientOptions(loadInfra({}).mongo)).toEqual({ serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 30_000 });
  });

  it("reaches the options of the basket service's client", async () => {
    const client = mongoClient(infraFrom(loadBasketConfig({ MONGO_URL: 'mongodb://127.0.0.1:1', MONGO_OPERATION_TIMEOUT_MS: '1234' })).mongo);
    try {
      expect(client.options.socketTimeoutMS).toBe(1234);
      expect(client.options.serverSelectionTimeoutMS).toBe(10_000);
    } finally {
      await client.close();
    }
  });
});
