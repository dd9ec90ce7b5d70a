import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { wardenSearchAttributes } from '../domain/search-attributes';
import { connectionOptions, type TemporalConnectionSettings } from './connection';

// CommonJS without named exports for Node's ESM loader (see codec.ts).
const IndexedValueType = proto.temporal.api.enums.v1.IndexedValueType;
const indexedTypes = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
} as const;

// gRPC status codes (https://grpc.io/docs/guides/status-codes/).
const grpc = { notFound: 5, alreadyExists: 6, permissionDenied: 7, unimplemented: 12 } as const;

/** How long a namespace Warden registers keeps closed workflows' histories; the audit trail in PostgreSQL keeps the rest. */
export const registeredNamespaceRetentionDays = 30;
// A cluster serves a new namespace once every frontend has refreshed its namespace cache (10 s by default).
const namespaceReadyWithinMs = 30_000;

export interface TemporalSetupReport {
  namespace: string;
  namespaceRegistered: boolean;
  searchAttributesAdded: string[];
}

export class TemporalSetupError extends Error {}

/**
 * Makes a namespace ready for Warden, idempotently, so every deploy may run it: registers the
 * namespace when it is missing and the server lets us (a self-hosted cluster; Temporal Cloud does
 * not), then adds whichever of Warden's Search Attributes it lacks. An attribute that exists with
 * another type is an error: Warden would fail every workflow task that upserts it.
 */
export async function setupTemporalNamespace(
  settings: TemporalConnectionSettings,
  log: (message: string) => void = () => {},
): Promise<TemporalSetupReport> {
  const connection = await Connection.connect(connectionOptions(settings));
  try {
    const { namespace } = settings;
    const namespaceRegistered = await ensureNamespace(connection, namespace, log);
    const searchAttributesAdded = await ensureSearchAttributes(connection, namespace, log);
    return { namespace, namespaceRegistered, searchAttributesAdded };
  } finally {
    await connection.close();
  }
}

async function ensureNamespace(connection: Connection, namespace: string, log: (message: string) => void): Promise<boolean> {
  if (await namespaceExists(connection, namespace)) return false;
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      description: 'ITIL IT Security Management (Warden)',
      workflowExecutionRetentionPeriod: msToTs(`${registeredNamespaceRetentionDays} days`),
    });
    log(`registered namespace ${namespace} (retention ${registeredNamespaceRetentionDays} days)`);
  } catch (error) {
    if (isGrpcServiceError(error) && error.code === grpc.alreadyExists) return false;
    if (isGrpcServiceError(error) && (error.code === grpc.permissionDenied || error.code === grpc.unimplemented)) {
      throw new TemporalSetupError(
        `namespace ${namespace} does not exist and this server does not let Warden register it (${error.details}): ` +
          'create it first (Temporal Cloud: in the Cloud UI or with tcld), then run `warden temporal setup` again',
      );
    }
    throw error;
  }
  // Describing it may succeed before the operator service serves it: wait for the call setup makes next.
  const deadline = Date.now() + namespaceReadyWithinMs;
  for (;;) {
    try {
      await connection.operatorService.listSearchAttributes({ namespace });
      return true;
    } catch (error) {
      if (!isGrpcServiceError(error) || error.code !== grpc.notFound) throw error;
      if (Date.now() > deadline) throw new TemporalSetupError(`namespace ${namespace} was registered but did not become ready`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function namespaceExists(connection: Connection, namespace: string): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch (error) {
    if (isGrpcServiceError(error) && error.code === grpc.notFound) return false;
    throw error;
  }
}

async function ensureSearchAttributes(connection: Connection, namespace: string, log: (message: string) => void): Promise<string[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const existing = customAttributes ?? {};
  const missing = Object.values(wardenSearchAttributes).filter(({ name }) => existing[name] === undefined);
  for (const { name, type } of Object.values(wardenSearchAttributes)) {
    const current = existing[name];
    if (current !== undefined && current !== indexedTypes[type]) {
      throw new TemporalSetupError(
        `Search Attribute ${name} exists in namespace ${namespace} as ${IndexedValueType[current]}, but Warden needs ${type}: ` +
          'remove it or use another namespace',
      );
    }
  }
  if (missing.length === 0) return [];
  const searchAttributes = Object.fromEntries(missing.map(({ name, type }) => [name, indexedTypes[type]]));
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (error) {
    if (isGrpcServiceError(error) && (error.code === grpc.permissionDenied || error.code === grpc.unimplemented)) {
      throw new TemporalSetupError(
        `this server does not let Warden add Search Attributes (${error.details}); add them yourself, then run ` +
          `\`warden temporal setup\` again: ${missing.map(({ name, type }) => `${name} (${type})`).join(', ')}`,
      );
    }
    throw error;
  }
  const names = missing.map(({ name }) => name);
  log(`added Search Attributes to ${namespace}: ${names.join(', ')}`);
  return names;
}
