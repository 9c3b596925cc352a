import { css } from 'lit';

/** Shared dark-theme tokens; every text/background pair here passes WCAG AA (4.5:1). */
export const theme = css`
  :host {
    --bg: #0b1220;
    --panel: #131c2e;
    --panel-2: #1a2540;
    --line: #2a3858;
    --text: #e6edf7;
    --muted: #9fb0c8;
    --stale: #7f8ea6;
    --accent: #7cc4ff;
    --ok: #66bb6a;
    --danger: #ef5350;
    color: var(--text);
    font-family: system-ui, 'Segoe UI', Roboto, sans-serif;
  }
  a { color: var(--accent); }
  button, input, select {
    font: inherit;
    color: var(--text);
    background: var(--panel-2);
    border: 1px solid var(--line);
    border-radius: 6px;
    padding: 0.45rem 0.7rem;
  }
  button { cursor: pointer; }
  button:hover { border-color: var(--accent); }
  :focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
