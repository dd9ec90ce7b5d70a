/** The cheapest activity: the floor's one step, so the floor counts a workflow plus one activity round trip. */
export async function noopActivity(): Promise<void> {}
