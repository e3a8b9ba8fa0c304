import { connectorStateOf } from './outbox-health';

describe('connectorStateOf', () => {
  const status = (connector: string, ...tasks: string[]) => ({
    connector: { state: connector },
    tasks: tasks.map((state, id) => ({
      id,
      state,
      ...(state === 'FAILED' ? { trace: 'org.apache.kafka.connect.errors.ConnectException: boom\n\tat x' } : {}),
    })),
  });
  it('is FAILED with the first trace line when a task failed, though the connector runs', () => {
    expect(connectorStateOf(status('RUNNING', 'FAILED'))).toEqual({
      state: 'FAILED',
      detail: 'task 0 failed: org.apache.kafka.connect.errors.ConnectException: boom',
    });
  });
  it('is RUNNING only when the connector and every task run', () => {
    expect(connectorStateOf(status('RUNNING', 'RUNNING'))).toEqual({ state: 'RUNNING' });
    expect(connectorStateOf(status('RUNNING')).state).toBe('UNASSIGNED');
    expect(connectorStateOf(status('PAUSED', 'PAUSED')).state).toBe('PAUSED');
  });
});
