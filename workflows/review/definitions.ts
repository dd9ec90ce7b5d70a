import { defineQuery } from '@temporalio/workflow';
import type { ReviewState } from '../../domain/security-review';

export const reviewStateQuery = defineQuery<ReviewState>('reviewStateQuery');
