import type { WebPage } from '../page';
import { accessRequestsPage, accessReviewsPage } from './access';
import { advisoriesPage } from './advisories';
import { auditPage } from './audit';
import { changesPage } from './changes';
import { incidentsPage } from './incidents';
import { kpisPage } from './kpis';
import { policiesPage } from './policies';
import { problemsPage } from './problems';
import { reviewsPage } from './reviews';
import { risksPage } from './risks';
import { securityAlertsPage } from './security-alerts';
import { tasksPage } from './tasks';
import { testingSchedulePage, testRunPage } from './testing-schedule';
import { trainingPage } from './training';
import { vulnerabilityFindingsPage } from './vulnerability-findings';

/**
 * The inbox's pages, in navigation order. A resource adds its list and detail as one module in
 * web/pages/<resource>.ts and one line here; its records then link from tasks and other pages.
 */
export const pages: WebPage[] = [
  tasksPage,
  incidentsPage,
  problemsPage,
  changesPage,
  advisoriesPage,
  vulnerabilityFindingsPage,
  securityAlertsPage,
  accessRequestsPage,
  accessReviewsPage,
  testingSchedulePage,
  testRunPage,
  risksPage,
  policiesPage,
  trainingPage,
  reviewsPage,
  kpisPage,
  auditPage,
];
