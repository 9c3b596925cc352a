// `style=${cssProps({ background: x, '--prio': y })}`: dynamic styles through the CSSOM only.
// The server's Content Security Policy has no 'unsafe-inline' for styles, so a style="" attribute
// written as text is blocked (CSP Level 3 §6.1.14, style-src-attr) — and Lit's own styleMap writes
// the attribute as text on its first render. Setting properties on `element.style` is not governed
// by style-src, so this directive only ever does that.
import { noChange } from 'lit';
import { Directive, PartType, directive, type AttributePart, type PartInfo } from 'lit/directive.js';

/** CSS property names as in CSS (`border-color`, `--prio`); null or undefined removes one. */
export type CssProps = Readonly<Record<string, string | null | undefined>>;

class CssPropsDirective extends Directive {
  /** What this directive last set, by property (the CSSOM may read a value back normalised). */
  private applied = new Map<string, string>();

  constructor(partInfo: PartInfo) {
    super(partInfo);
    // Alone in the attribute: static text beside it would never be written (nothing is, as text).
    const alone = partInfo.type === PartType.ATTRIBUTE && (partInfo.strings ?? ['', '']).join('') === '' && (partInfo.strings?.length ?? 2) === 2;
    if (!alone || partInfo.name !== 'style') {
      throw new Error('cssProps() must be the whole value of a style attribute: style=${cssProps({...})}');
    }
  }

  render(_props: CssProps): typeof noChange {
    return noChange;
  }

  override update(part: AttributePart, [props]: [CssProps]): typeof noChange {
    const style = (part.element as HTMLElement).style;
    const next = new Map<string, string>();
    for (const [name, value] of Object.entries(props)) {
      if (value === null || value === undefined) continue;
      next.set(name, value);
      if (this.applied.get(name) !== value) style.setProperty(name, value);
    }
    for (const name of this.applied.keys()) if (!next.has(name)) style.removeProperty(name);
    this.applied = next;
    return noChange;
  }
}

export const cssProps = directive(CssPropsDirective);
