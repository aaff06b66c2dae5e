import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';

/** Address ranges a user-supplied URL must never reach: loopback, private, link-local, CGNAT, multicast, metadata. */
// Two lists: a single BlockList holding IPv6 rules also matches IPv4 addresses through their mapped form.
const blockedV4 = new BlockList();
const blockedV6 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blockedV4.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  // ::ffff:0:0/96 (IPv4-mapped), 64:ff9b::/96 (NAT64) and 2002::/16 (6to4) embed IPv4 addresses; refusing them
  // whole is simpler and safer than unpacking every form.
  ['::', 128], ['::1', 128], ['::', 96], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64],
  ['2001::', 32], ['2001:db8::', 32], ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) blockedV6.addSubnet(network, prefix, 'ipv6');

/** True only for a literal IP address on the public internet. */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return !blockedV4.check(bare, 'ipv4');
  if (family === 6) return !blockedV6.check(bare, 'ipv6');
  return false;
}

export function addressRefusal(address: string): Error {
  return Object.assign(new Error(`refusing to fetch from non-public address ${address}`), { code: 'ADDRESS_REFUSED' });
}

/** Every address a host name resolves to; injectable so tests can give made-up names addresses. */
export type HostResolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: HostResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface LookupGuard {
  allowPrivateUrls: boolean;
  /** default: the system resolver (getaddrinfo) */
  resolve?: HostResolver;
}

/** The answers, copied, when there is one and every one is public (or private ones are allowed); else the error. */
function checkAnswers(hostname: string, answers: Array<{ address: string; family: number }>, guard: LookupGuard): Array<{ address: string; family: number }> {
  if (answers.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
  const refused = guard.allowPrivateUrls ? undefined : answers.find((answer) => !isPublicAddress(answer.address));
  if (refused) throw addressRefusal(refused.address);
  return answers.map(({ address, family }) => ({ address, family }));
}

/** Every address a host name resolves to, checked: refused (ADDRESS_REFUSED) when any one is not public. */
export async function resolveChecked(hostname: string, guard: LookupGuard): Promise<Array<{ address: string; family: number }>> {
  return checkAnswers(hostname, await (guard.resolve ?? systemResolver)(hostname), guard);
}

/**
 * A DNS lookup for http.request that refuses non-public answers, so the address that is checked is the
 * address that is connected to (no DNS rebinding between check and connect). Node's connection code asks for
 * `{ all: true }` (happy eyeballs) and gets every address, each checked: one private address refuses the name.
 * Node skips `lookup` for IP literals, so callers check those with isPublicAddress first.
 */
export function guardedLookup(guard: LookupGuard): LookupFunction {
  const resolve = guard.resolve ?? systemResolver;
  return (hostname, options, callback) => {
    const done = callback;
    resolve(hostname).then(
      (answers) => {
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        let wanted: Array<{ address: string; family: number }>;
        try {
          wanted = checkAnswers(hostname, family === 4 || family === 6 ? answers.filter((answer) => answer.family === family) : answers, guard);
        } catch (error) {
          return done(error as NodeJS.ErrnoException, '', 0);
        }
        if (options.all) return done(null, wanted);
        done(null, wanted[0].address, wanted[0].family);
      },
      (error: NodeJS.ErrnoException) => done(error, '', 0),
    );
  };
}
