/** A fragment of HTML that is safe to emit as is: escaped text, or markup we wrote ourselves. */
export class Html {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (char) => entities[char] as string);
}

/** Trusted markup, emitted unescaped. Never pass it anything a person or another system typed. */
export const raw = (markup: string) => new Html(markup);

export type Interpolation = Html | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * A tagged template that escapes every interpolation unless it is already `Html` (another `html`
 * template or `raw()`); arrays are joined, and null, undefined and false render as nothing, so
 * `${cond && html`…`}` and `${items.map(…)}` read naturally.
 */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}
