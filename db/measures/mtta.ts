import { meanInterval } from './mean-interval';

export const mtta = meanInterval({ id: 'mtta', title: 'Mean time to acknowledge (MTTA)', start: 'reported_at', end: 'acknowledged_at' });
