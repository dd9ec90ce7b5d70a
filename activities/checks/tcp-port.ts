import { connect } from 'node:net';
import { errorCode, type SecurityCheck } from './check';

type PortState = 'open' | 'closed' | 'filtered';

function probe(host: string, port: number, timeoutMs: number): Promise<{ state: PortState; detail: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const finish = (state: PortState, detail: string) => {
      socket.destroy();
      resolve({ state, detail });
    };
    socket.once('connect', () => finish('open', 'connection accepted'));
    socket.once('timeout', () => finish('filtered', `no answer within ${timeoutMs} ms`));
    socket.once('error', (error) => {
      const code = errorCode(error);
      finish(code === 'ECONNREFUSED' ? 'closed' : 'filtered', code);
    });
  });
}

/**
 * A port is open or closed as the control says. A port that does not answer (filtered) is
 * unreachable, so it counts as closed.
 */
export const tcpPort: SecurityCheck<'tcp_port'> = {
  type: 'tcp_port',
  async run(params) {
    const { state, detail } = await probe(params.host, params.port, params.timeoutMs);
    const reachable = state === 'open';
    const passed = params.expect === 'open' ? reachable : !reachable;
    return {
      passed,
      summary: `${params.host}:${params.port} is ${state}, expected ${params.expect}`,
      evidence: { host: params.host, port: params.port, expected: params.expect, state, detail },
    };
  },
};
