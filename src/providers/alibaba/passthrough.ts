/**
 * Which image URLs Alibaba can fetch as they are (IMAGESEG_PASSTHROUGH_HOSTS). A pattern is a host name or IP,
 * optionally `*.` (any subdomain, not the name itself) and optionally `:port`; a pattern without a port matches
 * every port, because the host decides whether Alibaba accepts the URL, not the port. Names compare without case.
 */
interface HostPattern {
  host: string;
  wildcard: boolean;
  port?: string;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

function parsePattern(pattern: string): HostPattern {
  let text = pattern.trim().toLowerCase();
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    text = bracketed[1]!;
    port = bracketed[2];
  } else if (/^[^:]+:\d+$/.test(text)) {
    // exactly one colon: host:port (a bare IPv6 address has several)
    [text, port] = text.split(':') as [string, string];
  }
  const wildcard = text.startsWith('*.');
  return { host: (wildcard ? text.slice(2) : text).replace(/\.$/, ''), wildcard, ...(port ? { port } : {}) };
}

function matches(pattern: HostPattern, host: string, port: string): boolean {
  if (pattern.port !== undefined && pattern.port !== port) return false;
  return pattern.wildcard ? host.endsWith(`.${pattern.host}`) : host === pattern.host;
}

/** A predicate over http(s) URLs built once from the configured patterns. */
export function passthroughMatcher(patterns: readonly string[]): (url: string) => boolean {
  const parsed = patterns.filter((pattern) => pattern.trim()).map(parsePattern);
  return (url) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return false;
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return false;
    const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
    const port = target.port || DEFAULT_PORTS[target.protocol];
    return parsed.some((pattern) => matches(pattern, host, port));
  };
}
