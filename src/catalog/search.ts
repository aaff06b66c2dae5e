import type { Capability } from './capability.js';

export interface SearchHit {
  capability: Capability;
  score: number;
}

function tokenize(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Field weights: an id or Action hit says more than a word somewhere in the summary. */
const WEIGHTS = { title: 8, action: 8, keywords: 5, summary: 2 } as const;

function scoreField(queryTokens: string[], fieldText: string, weight: number): number {
  const fieldTokens = tokenize(fieldText);
  const joined = fieldText.toLowerCase();
  let score = 0;
  for (const token of queryTokens) {
    if (fieldTokens.includes(token)) score += weight;
    else if (fieldTokens.some((fieldToken) => fieldToken.startsWith(token) && token.length >= 3)) score += weight / 2;
    else if (/\p{Script=Han}/u.test(token) && joined.includes(token)) score += weight;
  }
  return score;
}

/**
 * Ranks capabilities for a free-text query over title, summary, keywords and Action; an exact id,
 * tool name or Action ranks first. An empty query lists everything in catalog order.
 */
export function searchCapabilities(capabilities: readonly Capability[], query: string): SearchHit[] {
  const trimmed = query.trim().toLowerCase();
  if (!trimmed) return capabilities.map((capability) => ({ capability, score: 0 }));
  const queryTokens = tokenize(query);
  const hits: SearchHit[] = [];
  for (const capability of capabilities) {
    const ids = [capability.serviceId, capability.tool, capability.action, ...capability.legacyIds].map((id) => id.toLowerCase());
    let score = ids.includes(trimmed) ? 100 : 0;
    score += scoreField(queryTokens, capability.title, WEIGHTS.title);
    score += scoreField(queryTokens, capability.action, WEIGHTS.action);
    score += scoreField(queryTokens, capability.keywords.join(' '), WEIGHTS.keywords);
    score += scoreField(queryTokens, capability.summary, WEIGHTS.summary);
    if (score > 0) hits.push({ capability, score });
  }
  return hits.sort((a, b) => b.score - a.score);
}
