// Run as its own process: the Temporal runtime installs once per process, and the test process has
// installed its own already. Installs the runtime with the Prometheus exporter, polls one task queue
// briefly, prints the exporter's /metrics, and exits.
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { installTemporalRuntimeLogger } from '../../worker';

const [address, metricsAddress, workflowBundlePath] = process.argv.slice(2) as [string, string, string];
installTemporalRuntimeLogger(pino({ level: 'silent' }), { metricsAddress });
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  taskQueue: `metrics-probe-${process.pid}`,
  workflowBundle: { codePath: workflowBundlePath },
});
// The exporter reports the pollers once the worker polls: wait for that, not for a fixed time.
await worker.runUntil(async () => {
  const deadline = Date.now() + 15_000;
  let text = '';
  while (!text.includes('temporal_num_pollers') && Date.now() < deadline) {
    text = await fetch(`http://${metricsAddress}/metrics`)
      .then((response) => response.text())
      .catch(() => '');
    if (!text.includes('temporal_num_pollers')) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.stdout.write(text);
});
await connection.close();
