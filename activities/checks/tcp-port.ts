import { connect } from 'node:net';
import { isOutboundRefused, type OutboundGuard } from '../outbound';
import { CheckNotRunnable, errorCode, errorMessage, type SecurityCheck } from './check';

type PortState = 'open' | 'closed' | 'filtered';

function probe(host: string, port: number, timeoutMs: number, outbound: OutboundGuard): Promise<{ state: PortState; detail: string }> {
  return new Promise((resolve, reject) => {
    try {
      outbound.assertHost(host, 'check');
    } catch (error) {
      return reject(new CheckNotRunnable(`host: ${errorMessage(error)}`));
    }
    const socket = connect({ host, port, timeout: timeoutMs, lookup: outbound.lookup('check') });
    const finish = (state: PortState, detail: string) => {
      socket.destroy();
      resolve({ state, detail });
    };
    socket.once('connect', () => finish('open', 'connection accepted'));
    socket.once('timeout', () => finish('filtered', `no answer within ${timeoutMs} ms`));
    socket.once('error', (error) => {
      if (isOutboundRefused(error)) {
        socket.destroy();
        return reject(new CheckNotRunnable(`host: ${errorMessage(error)}`));
      }
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
  async run(params, context) {
    const { state, detail } = await probe(params.host, params.port, params.timeoutMs, context.outbound);
    const reachable = state === 'open';
    const passed = params.expect === 'open' ? reachable : !reachable;
    return {
      passed,
      summary: `${params.host}:${params.port} is ${state}, expected ${params.expect}`,
      evidence: { host: params.host, port: params.port, expected: params.expect, state, detail },
    };
  },
};
