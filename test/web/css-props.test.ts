// @vitest-environment happy-dom
// The cssProps directive: dynamic styles set through the CSSOM only (web/src/directives/css-props.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { html, render } from 'lit';
import { cssProps, type CssProps } from '../../web/src/directives/css-props.ts';

describe('cssProps', () => {
  let host: HTMLElement;
  beforeEach(() => {
    host = document.createElement('div');
    document.body.append(host);
  });
  afterEach(() => host.remove());

  const view = (props: CssProps) => html`<span style=${cssProps(props)}>x</span>`;
  const span = () => host.querySelector('span')!;

  // (That no style attribute is written as text — which the CSP would block — is proven in real
  // Chromium by test/e2e/tls.e2e.test.ts: happy-dom itself implements the CSSOM through the attribute.)
  it('sets, changes and removes properties through element.style, custom properties included', () => {
    render(view({ background: '#c62828', '--prio': '#d32f2f', color: null }), host);
    expect(span().style.getPropertyValue('--prio')).toBe('#d32f2f');
    expect(span().style.getPropertyValue('background')).not.toBe('');
    expect(span().style.getPropertyValue('color')).toBe('');
    render(view({ background: '#2e7d32', color: '#ffffff' }), host);
    expect(span().style.getPropertyValue('--prio')).toBe('');
    expect(span().style.getPropertyValue('color')).not.toBe('');
    render(view({ background: undefined }), host);
    expect(span().style.getPropertyValue('background')).toBe('');
    expect(span().style.getPropertyValue('color')).toBe('');
  });

  it('must be the whole style attribute', () => {
    expect(() => render(html`<span class=${cssProps({ color: 'red' })}>x</span>`, host)).toThrow(/whole value of a style attribute/);
    expect(() => render(html`<span style="margin:0;${cssProps({ color: 'red' })}">x</span>`, host)).toThrow(/whole value of a style attribute/);
    expect(() => render(html`<span>${cssProps({ color: 'red' })}</span>`, host)).toThrow(/whole value of a style attribute/);
  });
});
