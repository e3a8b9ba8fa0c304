// A small Kafka Connect REST client: the relay's supervisor, the connector CLI, the stack and the tests use it.
import type { ConnectAuth, Infra } from '../infra/addresses';

export interface ConnectorStatus {
  name: string;
  connector: { state: string; worker_id: string; trace?: string };
  tasks: Array<{ id: number; state: string; worker_id: string; trace?: string }>;
}

export class ConnectError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectError';
  }
}

export class ConnectClient {
  /** The workers' REST URLs: `url` may name several, comma separated (one Connect cluster). */
  readonly urls: string[];
  /** The worker that answered last: requests go there first. */
  private current = 0;

  /**
   * A client of the Connect cluster at `connect.url`, each request bounded by CONNECT_REQUEST_TIMEOUT_MS, or
   * by `capMs` when that is shorter (a status probe should not wait as long as the supervisor may).
   */
  static of(connect: Pick<Infra['connect'], 'url' | 'requestTimeoutMs' | 'auth'>, capMs = Infinity): ConnectClient {
    return new ConnectClient(connect.url, Math.min(connect.requestTimeoutMs, capMs), connect.auth);
  }

  private readonly authorization: string | undefined;

  /**
   * `timeoutMs` bounds each request, on each worker (a readiness probe wants a short one); `auth`, the
   * REST API's basic-auth credentials (CONNECT_USERNAME, CONNECT_PASSWORD), is sent with every request.
   */
  constructor(
    readonly url: string,
    readonly timeoutMs = 30_000,
    auth?: ConnectAuth,
  ) {
    this.authorization = auth && `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    this.urls = url
      .split(',')
      .map((u) => u.trim().replace(/\/$/, ''))
      .filter(Boolean);
    if (this.urls.length === 0) throw new Error('ConnectClient: no URL');
  }

  /**
   * Every worker of a Connect cluster serves the whole REST API (a follower forwards writes to the leader),
   * so a request that gets no answer from one worker (refused, reset, timed out) is sent to the next; an
   * HTTP error answer is the cluster's and is not retried. The calls are idempotent (PUT config, restart,
   * DELETE), so one repeated after a timeout changes nothing.
   */
  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let lastErr: unknown;
    for (let i = 0; i < this.urls.length; i++) {
      const at = (this.current + i) % this.urls.length;
      let res: Response;
      try {
        res = await fetch(`${this.urls[at]}${path}`, {
          method,
          headers: {
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(this.authorization ? { authorization: this.authorization } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        lastErr = err;
        continue;
      }
      this.current = at;
      return this.answer<T>(method, path, res);
    }
    throw lastErr;
  }

  private async answer<T>(method: string, path: string, res: Response): Promise<T> {
    const text = await res.text();
    if (!res.ok) {
      let msg = text;
      try {
        msg = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        /* not JSON */
      }
      throw new ConnectError(res.status, `${method} ${path}: ${res.status} ${msg}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  list(): Promise<string[]> {
    return this.call('GET', '/connectors');
  }
  /** Creates or updates: PUT /connectors/<name>/config is idempotent. */
  put(name: string, config: Record<string, string>): Promise<unknown> {
    return this.call('PUT', `/connectors/${encodeURIComponent(name)}/config`, config);
  }
  /** The configuration as stored: what was PUT (${env:…} placeholders unresolved), plus `name`. */
  config(name: string): Promise<Record<string, string>> {
    return this.call('GET', `/connectors/${encodeURIComponent(name)}/config`);
  }
  status(name: string): Promise<ConnectorStatus> {
    return this.call('GET', `/connectors/${encodeURIComponent(name)}/status`);
  }
  restart(name: string): Promise<unknown> {
    return this.call('POST', `/connectors/${encodeURIComponent(name)}/restart?includeTasks=true`);
  }
  /** Stops the connector (KIP-875): its tasks shut down, its config stays; offsets can then be changed. */
  stop(name: string): Promise<unknown> {
    return this.call('PUT', `/connectors/${encodeURIComponent(name)}/stop`);
  }
  /** Deletes the connector's stored source offsets; the connector must be STOPPED. */
  resetOffsets(name: string): Promise<unknown> {
    return this.call('DELETE', `/connectors/${encodeURIComponent(name)}/offsets`);
  }
  pause(name: string): Promise<unknown> {
    return this.call('PUT', `/connectors/${encodeURIComponent(name)}/pause`);
  }
  resume(name: string): Promise<unknown> {
    return this.call('PUT', `/connectors/${encodeURIComponent(name)}/resume`);
  }
  async delete(name: string): Promise<void> {
    try {
      await this.call('DELETE', `/connectors/${encodeURIComponent(name)}`);
    } catch (err) {
      if (!(err instanceof ConnectError && err.status === 404)) throw err;
    }
  }
  plugins(): Promise<Array<{ class: string; type: string; version?: string }>> {
    return this.call('GET', '/connector-plugins?connectorsOnly=false');
  }
  /** True when the connector and all its tasks are RUNNING. */
  async isRunning(name: string): Promise<boolean> {
    try {
      const s = await this.status(name);
      return s.connector.state === 'RUNNING' && s.tasks.length > 0 && s.tasks.every((t) => t.state === 'RUNNING');
    } catch (err) {
      if (err instanceof ConnectError && err.status === 404) return false;
      throw err;
    }
  }
}
