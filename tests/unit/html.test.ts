import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw } from '../../web/html';

describe('the html template', () => {
  it('escapes every interpolation by default', () => {
    const hostile = `<script>alert("x")</script>' onmouseover='x' \`&amp;`;
    expect(html`<p title="${hostile}">${hostile}</p>`.toString()).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &#96;&amp;amp;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &#96;&amp;amp;</p>',
    );
  });

  it('nests templates without escaping them twice', () => {
    const inner = html`<em>${'a & b'}</em>`;
    expect(html`<p>${inner}</p>`.toString()).toBe('<p><em>a &amp; b</em></p>');
  });

  it('joins arrays, escaping each item', () => {
    expect(html`<ul>${['<a>', html`<li>${'b'}</li>`]}</ul>`.toString()).toBe('<ul>&lt;a&gt;<li>b</li></ul>');
  });

  it('renders null, undefined and false as nothing, numbers and true as text', () => {
    expect(html`${null}${undefined}${false}${0}${true}`.toString()).toBe('0true');
  });

  it('emits raw() fragments as they are, and only those', () => {
    expect(html`${raw('<hr>')}${'<hr>'}`.toString()).toBe('<hr>&lt;hr&gt;');
  });

  it('escapes the characters that end attributes and elements', () => {
    expect(escapeHtml(`&<>"'\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
    expect(escapeHtml('plain text')).toBe('plain text');
  });
});
