import { defineSignal } from '@temporalio/workflow';

/** Completions were recorded: the campaign looks again at who is outstanding, and ends when no one is. */
export const completionsRecordedSignal = defineSignal('completionsRecorded');
