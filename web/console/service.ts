import { element } from '../shared/dom.js';
import { pageData, type ServicePageData } from './api.js';
import { mountTryIt } from './try-it.js';

/** A Copy button on each example and schema: the code as the page shows it. */
function addCopyButtons(): void {
  if (!navigator.clipboard) return;
  for (const block of document.querySelectorAll<HTMLPreElement>('.example pre, .schema pre')) {
    const button = element('button', { type: 'button', className: 'secondary copy', textContent: 'Copy' });
    button.addEventListener('click', () => {
      void navigator.clipboard.writeText(block.textContent ?? '').then(
        () => (button.textContent = 'Copied'),
        () => (button.textContent = 'Copy failed'),
      );
      window.setTimeout(() => (button.textContent = 'Copy'), 2000);
    });
    const wrapper = element('div', { className: 'code-block' });
    block.replaceWith(wrapper);
    wrapper.append(block, button);
  }
}

/** /services/<serviceId>: the try-it form from the page's data, and Copy buttons on the examples. */
export function enhanceService(): void {
  const data = pageData<ServicePageData>('service-data');
  const root = document.getElementById('try-it');
  if (data && root) mountTryIt(root, data);
  addCopyButtons();
}
