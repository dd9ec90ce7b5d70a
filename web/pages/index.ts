import type { WebPage } from '../page';
import { auditPage } from './audit';
import { changesPage } from './changes';
import { incidentsPage } from './incidents';
import { reviewsPage } from './reviews';
import { tasksPage } from './tasks';
import { testingSchedulePage, testRunPage } from './testing-schedule';

/**
 * The inbox's pages, in navigation order. A resource adds its list and detail as one module in
 * web/pages/<resource>.ts and one line here; its records then link from tasks and other pages.
 */
export const pages: WebPage[] = [tasksPage, incidentsPage, changesPage, testingSchedulePage, testRunPage, reviewsPage, auditPage];
