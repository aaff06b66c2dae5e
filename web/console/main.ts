import { enhanceCatalog } from './catalog.js';
import { enhanceOperator } from './operator.js';
import { enhanceService } from './service.js';

/** One script for every console page: each page says which it is (`<body data-page>`), and works without it. */
const pages: Record<string, () => void> = { catalog: enhanceCatalog, service: enhanceService, operator: enhanceOperator };

pages[document.body.dataset.page ?? '']?.();
