// Reads the tables back out of a rendered IT Security Report, so a test can compare the Markdown
// and HTML forms with the JSON one cell by cell. Each table is keyed by the heading above it.

export type Tables = Map<string, string[][]>;

const unescapeMarkdown = (text: string) => text.replace(/\\\|/g, '|').trim();

export function markdownTables(markdown: string): Tables {
  const tables: Tables = new Map();
  let heading = '';
  for (const line of markdown.split('\n')) {
    if (line.startsWith('#')) heading = line.replace(/^#+ /, '');
    else if (line.startsWith('| ')) {
      const cells = line
        .slice(2, -2)
        .split(/ (?<!\\)\| /)
        .map(unescapeMarkdown);
      tables.set(heading, [...(tables.get(heading) ?? []), cells]);
    }
  }
  return tables;
}

const unescapeHtml = (text: string) => text.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));

export function htmlTables(html: string): Tables {
  const tables: Tables = new Map();
  for (const [, heading, body] of html.matchAll(/<h[23]>([^<]*)<\/h[23]>\s*<table>(.*?)<\/table>/gs)) {
    const rows = [...(body as string).matchAll(/<tr[^>]*>(.*?)<\/tr>/gs)].map(([, cells]) =>
      [...(cells as string).matchAll(/<t[hd]>(.*?)<\/t[hd]>/gs)].map(([, text]) => unescapeHtml(text as string)),
    );
    tables.set(unescapeHtml(heading as string), rows);
  }
  return tables;
}
