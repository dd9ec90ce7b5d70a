import { meanInterval } from './mean-interval';

export const mttr = meanInterval({ id: 'mttr', title: 'Mean time to resolve (MTTR)', start: 'reported_at', end: 'resolved_at' });
