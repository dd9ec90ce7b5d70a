import { z } from 'zod';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, Role } from '../domain/roles';
import type { HumanTask } from '../db/database';
import type { Html } from './html';
import type { FormLookups } from './task-form';

export const uiPrefix = '/ui';
/** Where people start: My tasks. */
export const inboxPath = `${uiPrefix}/tasks`;

/** What one resource contributes to the inbox: a navigation entry, its pages, how to link its records. */
export interface WebPage {
  /** Absent for records reached only from another page (a test run from its control). */
  nav?: NavEntry;
  /** Records of this type (a task's subject, a linked record) link to their page here. */
  subject?: {
    type: string;
    path(id: string): string;
    /** Human labels for records the actor may see ("#12 Phishing on payroll"); others keep their id. */
    labels?(app: FastifyInstance, actor: Actor, ids: string[]): Promise<Map<string, string>>;
  };
  routes(app: FastifyInstance, web: WebContext): Promise<void>;
}

/** A navigation entry; shown only to the roles given, when given (the roles its page admits). */
export interface NavEntry {
  label: string;
  path: string;
  roles?: readonly Role[];
}

export interface Notice {
  kind: 'success' | 'error';
  text: string;
}

export interface View {
  title: string;
  body: Html;
  status?: number;
  notice?: Notice | undefined;
}

/** What the inbox plugin gives each page: the layout and cross-resource links. */
export interface WebContext {
  render(request: FastifyRequest, reply: FastifyReply, view: View): FastifyReply;
  /** A link to the record's page, or its label as text where no page shows that type. */
  linkTo(subject: { type: string; id: string }, label?: string): Html;
  /** Labels for subjects, keyed `type/id`, from the pages that show them. */
  subjectLabels(actor: Actor, subjects: { type: string; id: string }[]): Promise<Map<string, string>>;
  /** What the forms of these tasks look up (configuration items by name), read once for the page. */
  formLookups(tasks: HumanTask[]): Promise<FormLookups>;
}

/** Options every inbox page route shares: session cookie, not bearer; never in the OpenAPI document. */
export function pageRoute(roles: readonly Role[]) {
  return { config: { roles, credentials: ['session'] as const } };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The ids a page can look up in a uuid column: a task's subject id may be anything, and a cast error is a 500. */
export const uuidsOnly = (ids: readonly string[]) => ids.filter((id) => uuidPattern.test(id));

export const subjectKey = (subject: { type: string; id: string }) => `${subject.type}/${subject.id}`;

/** A same-inbox path to return to after a form, never another site (no open redirect). */
export function safeReturnPath(path: string | undefined, fallback = `${uiPrefix}/tasks`): string {
  return path && /^\/ui(\/[\w\-/]*)?(\?[\w\-=&%.]*)?$/.test(path) ? path : fallback;
}

/** Secure cookies when people reach Warden over https (the public URL says how they do). */
export const secureCookies = (publicUrl: string | undefined) => publicUrl?.startsWith('https:') ?? false;

/** A filter form sends every field, empty when unset. */
export const blankIsUnset = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
