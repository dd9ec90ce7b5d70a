import type { Actor } from '../domain/roles';
import { scriptPath, stylesheetPath } from './assets';
import { html, type Html } from './html';
import { uiPrefix, type NavEntry, type Notice } from './page';

export interface LayoutInput {
  title: string;
  body: Html;
  nav: NavEntry[];
  currentPath: string;
  actor?: Actor | undefined;
  /** For the sign-out form; absent on pages shown to nobody in particular. */
  csrfToken?: string | undefined;
  notice?: Notice | undefined;
}

export function layout({ title, body, nav, currentPath, actor, csrfToken, notice }: LayoutInput): Html {
  const current = (path: string) => currentPath === path || currentPath.startsWith(`${path}/`);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Warden</title>
<link rel="stylesheet" href="${stylesheetPath}">
<script type="module" src="${scriptPath}"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site">
  <div class="bar">
    <a class="brand" href="${uiPrefix}/tasks">Warden</a>
    ${
      actor &&
      html`<nav aria-label="Main"><ul>${nav.filter((item) => !item.roles || item.roles.some((role) => actor.roles.includes(role))).map((item) => html`<li><a href="${item.path}"${current(item.path) ? html` aria-current="page"` : ''}>${item.label}</a></li>`)}</ul></nav>
    <div class="who">
      <span>${actor.displayName} <span class="badge">${actor.roles.join(', ')}</span></span>
      <form method="post" action="${uiPrefix}/sign-out"><input type="hidden" name="_csrf" value="${csrfToken}"><button type="submit">Sign out</button></form>
    </div>`
    }
  </div>
</header>
<main id="main">
${notice && html`<p class="notice ${notice.kind}" role="${notice.kind === 'error' ? 'alert' : 'status'}">${notice.text}</p>`}
${body}
</main>
</body>
</html>`;
}
