// Run as its own process: the Temporal runtime installs once per process, and the test process has
// installed its own already. Installs the runtime with the Prometheus exporter, polls one task queue
// briefly, prints the exporter's /metrics, and exits.
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { installTemporalRuntimeLogger } from '../../worker';

const [address, metricsAddress, workflowBundlePath] = process.argv.slice(2) as [string, string, string];
installTemporalRuntimeLogger(pino({ level: 'silent' }), { metricsAddress });
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({ connection, taskQueue: `metrics-probe-${process.pid}`, workflowBundle: { codePath: workflowBundlePath } });
await worker.runUntil(async () => {
  await new Promise((resolve) => setTimeout(resolve, 1500));
  process.stdout.write(await (await fetch(`http://${metricsAddress}/metrics`)).text());
});
await connection.close();
