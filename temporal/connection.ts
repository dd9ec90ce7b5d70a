import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, parseCodecKeys } from './codec';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  codecKeys: string;
}

export function createDataConverter(codecKeys: string): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(parseCodecKeys(codecKeys))] };
}

export interface TemporalClientHandle {
  client: Client;
  taskQueue: string;
  close(): Promise<void>;
}

export async function connectTemporalClient(settings: TemporalSettings): Promise<TemporalClientHandle> {
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace, dataConverter: createDataConverter(settings.codecKeys) });
  return { client, taskQueue: settings.taskQueue, close: () => connection.close() };
}
