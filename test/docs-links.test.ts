import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { brokenLink, documentationPages, githubSlug, headingAnchors, relativeLinks } from './support/markdown-links.js';

// test/package.test.ts checks the other half: every file these links point to ships in the npm package.
describe('the links in README.md and docs/', () => {
  const pages = documentationPages();

  it('finds README and the pages it sends readers to', () => {
    expect(pages).toEqual(expect.arrayContaining(['README.md', 'docs/desktop.md', 'docs/payments.md', 'docs/http-api.md', 'docs/operators.md', 'docs/providers.md', 'docs/performance.md', 'docs/models-and-licences.md']));
    const fromReadme = new Set(relativeLinks('README.md').map((link) => link.target));
    for (const page of pages.filter((page) => page !== 'README.md')) expect(fromReadme, `README.md links to ${page}`).toContain(page);
  });

  it('lead to files that exist and, with a #fragment, to a heading of that page', () => {
    const links = pages.flatMap((page) => relativeLinks(page));
    expect(links.length).toBeGreaterThan(50);
    expect(links.filter((link) => link.anchor !== undefined).length).toBeGreaterThan(20);
    expect(links.map((link) => brokenLink(link)).filter((problem) => problem !== undefined)).toEqual([]);
  });

  it('name headings by the anchors GitHub gives them', () => {
    expect(githubSlug('Your first call (right after `npm start`)')).toBe('your-first-call-right-after-npm-start');
    expect(githubSlug('When to use `PAYMENTS=off`')).toBe('when-to-use-paymentsoff');
    expect(githubSlug('Remote agents: streamable HTTP')).toBe('remote-agents-streamable-http');
    expect(githubSlug('[Local models](x.md) and licences')).toBe('local-models-and-licences');
    expect(githubSlug('async_job_result, x402 v1')).toBe('async_job_result-x402-v1');
  });

  describe('a broken link', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'imageseg-docs-links-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(path.join(root, 'docs'));
    writeFileSync(path.join(root, 'README.md'), '# Title\n\n## Setup\n\n## Setup\n\nSee [setup](#setup-1), [the guide](docs/guide.md#install-it) and `[not a link](nowhere.md)`.\n\n```md\n[in code](nowhere.md)\n```\n');
    writeFileSync(path.join(root, 'docs/guide.md'), '# Guide\n\n## Install `it`\n\nBack to [README](../README.md#title), on to [missing](missing.md), [no heading](../README.md#nothing) and [out](../../x.md).\n');
    const problems = documentationPages(root).flatMap((page) => relativeLinks(page, root)).map((link) => brokenLink(link, root));

    it('is named with its page, line and what is missing, while links that resolve and code pass', () => {
      expect(headingAnchors('README.md', root)).toEqual(new Set(['title', 'setup', 'setup-1']));
      expect(headingAnchors('docs/guide.md', root)).toEqual(new Set(['guide', 'install-it']));
      expect(problems.filter((problem) => problem !== undefined)).toEqual([
        'docs/guide.md:5: missing.md: docs/missing.md does not exist',
        'docs/guide.md:5: ../README.md#nothing: README.md has no heading #nothing',
        'docs/guide.md:5: ../../x.md: points outside the repository',
      ]);
    });
  });
});
