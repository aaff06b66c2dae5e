import { renderCompare } from '../shared/compare.js';

void renderCompare;
