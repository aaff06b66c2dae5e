import { applyDocumentTheme, applyHostFonts, type McpUiHostContext, type McpUiStyleVariableKey } from '@modelcontextprotocol/ext-apps';

/** Our variables (web/shared/styles.css) from the host's standard ones, where the host gives them. */
const FROM_HOST: Array<[ours: string, host: McpUiStyleVariableKey]> = [
  ['--bg', '--color-background-primary'],
  ['--surface', '--color-background-secondary'],
  ['--fg', '--color-text-primary'],
  ['--muted', '--color-text-secondary'],
  ['--border', '--color-border-primary'],
  ['--danger', '--color-text-danger'],
  ['--ok', '--color-text-success'],
  ['--radius', '--border-radius-md'],
];

/** The stage leaves this much of the host's height to the controls. */
const CONTROLS_HEIGHT = 190;

/**
 * The host's theme (light or dark: `data-theme`, which styles.css follows), colours, font and height, as far as it
 * gives them; the rest keeps our defaults. Called with the initial context and each change.
 */
export function applyHostContext(context: McpUiHostContext | undefined): void {
  if (!context) return;
  const root = document.documentElement;
  if (context.theme) applyDocumentTheme(context.theme);
  const variables = context.styles?.variables;
  if (variables) {
    for (const [ours, host] of FROM_HOST) {
      const value = variables[host];
      if (value) root.style.setProperty(ours, value);
    }
    if (variables['--font-sans']) root.style.fontFamily = variables['--font-sans'];
  }
  if (context.styles?.css?.fonts) applyHostFonts(context.styles.css.fonts);
  const dimensions: { height?: number; maxHeight?: number } | undefined = context.containerDimensions;
  const height = dimensions?.height ?? dimensions?.maxHeight;
  if (height) root.style.setProperty('--stage-max-height', `${Math.max(160, height - CONTROLS_HEIGHT)}px`);
}
