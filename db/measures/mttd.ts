import { meanInterval } from './mean-interval';

export const mttd = meanInterval({ id: 'mttd', title: 'Mean time to detect (MTTD)', start: 'occurred_at', end: 'detected_at' });
