// Request timeouts on Kafka and Kafka Connect calls (KAFKA_REQUEST_TIMEOUT_MS, CONNECT_REQUEST_TIMEOUT_MS):
// against local servers that accept a connection and never answer, a call gives up after the configured
// time instead of kafkajs's or fetch's own bound, and a Connect client with several workers asks the next.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createKafka, kafkaClientConfig, loadInfra } from '@qtshop/shared/infra';
import { ConnectClient } from '@qtshop/shared/delivery';

const portOf = (s: HttpServer | TcpServer) => (s.address() as AddressInfo).port;
const listen = async <S extends HttpServer | TcpServer>(s: S): Promise<S> => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
};

/** A Connect worker that takes requests and never answers them. */
let silentWorker: HttpServer;
let silentRequests = 0;
/** A Connect worker that answers GET /connectors. */
let answeringWorker: HttpServer;
/** A "broker" that accepts connections and never answers a Kafka request. */
let silentBroker: TcpServer;
const brokerSockets = new Set<Socket>();

beforeAll(async () => {
  silentWorker = await listen(createHttpServer(() => void (silentRequests += 1)));
  answeringWorker = await listen(
    createHttpServer((req, res) => {
      res.writeHead(req.url === '/connectors' ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(['catalog-outbox']));
    }),
  );
  silentBroker = await listen(
    createTcpServer((socket) => {
      brokerSockets.add(socket);
      socket.on('close', () => brokerSockets.delete(socket));
    }),
  );
});

afterAll(async () => {
  for (const s of [silentWorker, answeringWorker]) s.closeAllConnections();
  for (const socket of brokerSockets) socket.destroy();
  await Promise.all([silentWorker, answeringWorker, silentBroker].map((s) => new Promise((r) => s.close(r))));
});

describe('CONNECT_REQUEST_TIMEOUT_MS', () => {
  it('defaults to 30 s and is what ConnectClient.of bounds each request with (a probe may cap it lower)', () => {
    expect(loadInfra({}).connect.requestTimeoutMs).toBe(30_000);
    const infra = loadInfra({ CONNECT_URL: 'http://127.0.0.1:1', CONNECT_REQUEST_TIMEOUT_MS: '300' });
    expect(infra.connect.requestTimeoutMs).toBe(300);
    expect(ConnectClient.of(infra.connect).timeoutMs).toBe(300);
    expect(ConnectClient.of(infra.connect, 100).timeoutMs).toBe(100);
    expect(ConnectClient.of(loadInfra({}).connect, 5000).timeoutMs).toBe(5000);
  });

  it('rejects a call to a worker that never answers within the configured time', async () => {
    const infra = loadInfra({ CONNECT_URL: `http://127.0.0.1:${portOf(silentWorker)}`, CONNECT_REQUEST_TIMEOUT_MS: '300' });
    const t0 = Date.now();
    await expect(ConnectClient.of(infra.connect).list()).rejects.toThrow(/abort|timeout/i);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3000);
  });

  it('asks the next worker when one does not answer in time, and goes to the one that answered first next time', async () => {
    const silent = `http://127.0.0.1:${portOf(silentWorker)}`;
    const answering = `http://127.0.0.1:${portOf(answeringWorker)}`;
    const infra = loadInfra({ CONNECT_URL: `${silent},${answering}`, CONNECT_REQUEST_TIMEOUT_MS: '300' });
    const client = ConnectClient.of(infra.connect);
    const before = silentRequests;
    const t0 = Date.now();
    await expect(client.list()).resolves.toEqual(['catalog-outbox']);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250); // the silent worker was asked first, and waited for
    expect(took).toBeLessThan(3000);
    await expect(client.list()).resolves.toEqual(['catalog-outbox']);
    expect(silentRequests - before).toBe(1);
  });
});

describe('KAFKA_REQUEST_TIMEOUT_MS', () => {
  it("defaults to 30 s and becomes the kafkajs client's requestTimeout", () => {
    expect(loadInfra({}).kafka.requestTimeoutMs).toBe(30_000);
    expect(kafkaClientConfig(loadInfra({}).kafka, 'test').requestTimeout).toBe(30_000);
    const infra = loadInfra({ KAFKA_REQUEST_TIMEOUT_MS: '1234' });
    expect(kafkaClientConfig(infra.kafka, 'test')).toMatchObject({ clientId: 'test', brokers: infra.kafka.brokers, requestTimeout: 1234 });
  });

  it("makes a request to a broker that never answers fail after the configured time, not kafkajs's 30 s", async () => {
    const infra = loadInfra({ KAFKA_BROKERS: `127.0.0.1:${portOf(silentBroker)}`, KAFKA_REQUEST_TIMEOUT_MS: '300' });
    const admin = createKafka(infra.kafka, 'test-request-timeout', undefined, { retry: { retries: 0 } }).admin();
    const t0 = Date.now();
    await expect(admin.connect()).rejects.toThrow(/timed out/i);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(5000);
    await admin.disconnect();
  });
});
