/** One element with its properties and children: the pages build their DOM with this, never from HTML strings. */
export function element<Tag extends keyof HTMLElementTagNameMap>(
  tag: Tag,
  properties: Partial<Omit<HTMLElementTagNameMap[Tag], 'style'>> = {},
  children: Array<Node | string> = [],
): HTMLElementTagNameMap[Tag] {
  const created = Object.assign(document.createElement(tag), properties);
  created.append(...children);
  return created;
}

/** A message in plain words, with what to do next; `role="alert"` so screen readers say it. */
export function notice(kind: 'error' | 'info' | 'working', title: string, body: Array<Node | string> = []): HTMLElement {
  const box = element('div', { className: `notice notice-${kind}` }, [element('strong', { textContent: title }), ...body.map((part) => (typeof part === 'string' ? element('p', { textContent: part }) : part))]);
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  return box;
}
