export type DeadlineState = 'overdue' | 'soon' | 'later';
export declare const soonMs: number;
export declare function timeLeft(deadlineMs: number, nowMs: number): { state: DeadlineState; text: string; label: string };
