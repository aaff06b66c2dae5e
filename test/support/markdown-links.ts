import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** A relative link as written on a page: `target` is the path part (empty for `#anchor`), `anchor` the part after `#`. */
export interface RelativeLink {
  page: string;
  line: number;
  href: string;
  /** The file it names, relative to the repository root, with `/` separators. */
  target: string;
  anchor?: string;
}

/** README.md and every docs/*.md page, as repository paths. */
export function documentationPages(root = '.'): string[] {
  const docs = path.join(root, 'docs');
  const pages = existsSync(docs) ? readdirSync(docs).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`) : [];
  return ['README.md', ...pages];
}

/** The page's lines, with fenced code blocks blanked: nothing in them is a link or a heading. */
function proseLines(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const opening = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (opening && opening[0] === fence[0] && opening.length >= fence.length && line.trim() === opening) fence = undefined;
      return '';
    }
    if (opening) {
      fence = opening;
      return '';
    }
    return line;
  });
}

const withoutCodeSpans = (line: string) => line.replace(/(`+)[^`]*?\1/g, (span) => ' '.repeat(span.length));
const hasScheme = (href: string) => /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//');

/** Every relative link on `page` (inline `[text](href)`, images, and `[label]: href` definitions), outside code. */
export function relativeLinks(page: string, root = '.'): RelativeLink[] {
  const links: RelativeLink[] = [];
  proseLines(readFileSync(path.join(root, page), 'utf8')).forEach((raw, index) => {
    const line = withoutCodeSpans(raw);
    const hrefs = [...line.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g), ...line.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/g)].map((match) => match[1]);
    for (const href of hrefs) {
      if (href === undefined || hasScheme(href)) continue;
      const hash = href.indexOf('#');
      const file = hash < 0 ? href : href.slice(0, hash);
      const anchor = hash < 0 ? undefined : decodeURIComponent(href.slice(hash + 1));
      const target = file === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURIComponent(file)));
      links.push({ page, line: index + 1, href, target: target.replace(/\/$/, ''), ...(anchor === undefined ? {} : { anchor }) });
    }
  });
  return links;
}

/**
 * The anchor GitHub gives a heading: its text as rendered (code, links and emphasis markers dropped), lower-cased,
 * without punctuation other than `-` and `_`, each space a `-` (github-slugger's rule).
 */
export function githubSlug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[`*~]/g, '');
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor the page's headings get, repeated headings numbered `-1`, `-2`, … as GitHub numbers them. */
export function headingAnchors(page: string, root = '.'): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(readFileSync(path.join(root, page), 'utf8'))) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** What is wrong with a link, or undefined when it resolves: the file exists (inside the repository), and so does the heading. */
export function brokenLink(link: RelativeLink, root = '.'): string | undefined {
  const where = `${link.page}:${link.line}: ${link.href}`;
  if (link.target.startsWith('../') || path.posix.isAbsolute(link.target)) return `${where}: points outside the repository`;
  const file = path.join(root, link.target);
  if (!existsSync(file)) return `${where}: ${link.target} does not exist`;
  if (link.anchor === undefined) return undefined;
  if (statSync(file).isDirectory() || !link.target.endsWith('.md')) return `${where}: an anchor into ${link.target}, which is no markdown page`;
  if (!headingAnchors(link.target, root).has(link.anchor)) return `${where}: ${link.target} has no heading #${link.anchor}`;
  return undefined;
}

/** Every file or folder a link on README.md or a docs/ page points to, the pages themselves included. */
export function linkedPaths(root = '.'): string[] {
  const pages = documentationPages(root);
  return [...new Set([...pages, ...pages.flatMap((page) => relativeLinks(page, root).map((link) => link.target))])].sort();
}
