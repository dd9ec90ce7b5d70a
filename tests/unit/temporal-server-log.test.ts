import { expect, it } from 'vitest';
import { temporalServerLogLine } from '../../cli/dev-server';

it("turns the dev server's JSON log lines into a level, a message and fields", () => {
  const line =
    '{"time":"2026-12-02T10:20:47.672106757Z","level":"WARN","msg":"Failed to poll for task.","service":"worker","Namespace":"temporal-system","Error":"closing transport"}';
  expect(temporalServerLogLine(line)).toEqual({
    level: 'warn',
    msg: 'Failed to poll for task.',
    fields: { service: 'worker', Namespace: 'temporal-system', Error: 'closing transport', serverTime: '2026-12-02T10:20:47.672106757Z' },
  });
  expect(temporalServerLogLine('{"level":"ERROR","msg":"x"}')?.level).toBe('error');
  expect(temporalServerLogLine('{"level":"DPANIC","msg":"x"}')?.level).toBe('fatal');
  expect(temporalServerLogLine('{"level":"INFO","msg":"x"}')?.level).toBe('info');
});

it('leaves what is not a JSON log line (the CLI banner, broken lines) to be logged as text', () => {
  expect(temporalServerLogLine('Server:  localhost:7233')).toBeUndefined();
  expect(temporalServerLogLine('{"level":"WARN","msg":')).toBeUndefined();
  expect(temporalServerLogLine('[1,2]')).toBeUndefined();
});
