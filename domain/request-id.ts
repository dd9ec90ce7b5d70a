/**
 * The Temporal header carrying the id of the HTTP request that started or signalled a workflow
 * (its X-Request-Id), from the API's client to the workflow and from the workflow to its
 * activities, whose log lines then carry it as `reqId`, the key Fastify's request lines use. It is
 * a contract on the wire: recorded histories hold it under this name.
 */
export const requestIdHeader = 'warden-request-id';
