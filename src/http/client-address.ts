import { BlockList, isIP } from 'node:net';
import type { Request } from 'express';

const plain = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');

/** IMAGESEG_TRUSTED_PROXIES: addresses and CIDRs (`10.0.0.0/8`, `fd00::/8`) of the proxies in front of us. */
export function trustedProxyList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const family = isIP(plain(address)) === 6 ? 'ipv6' : 'ipv4';
    if (!isIP(plain(address))) throw new Error(`IMAGESEG_TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR`);
    if (bits === undefined) list.addAddress(plain(address), family);
    else list.addSubnet(plain(address), Number(bits), family);
  }
  return list;
}

const trusted = (proxies: BlockList, address: string) => {
  const family = isIP(address);
  return family !== 0 && proxies.check(address, family === 6 ? 'ipv6' : 'ipv4');
};

/**
 * The client's address: the peer's, unless the peer is a trusted proxy; then X-Forwarded-For is read from the right,
 * skipping trusted proxies, and the first address that is not one is the client (anything left of it could be forged).
 */
export function clientAddressOf(request: Request, proxies: BlockList): string {
  let address = plain(request.socket.remoteAddress ?? 'unknown');
  if (!trusted(proxies, address)) return address;
  const forwarded = (request.get('x-forwarded-for') ?? '').split(',').map((hop) => plain(hop.trim())).filter(Boolean);
  while (forwarded.length > 0 && trusted(proxies, address)) address = forwarded.pop()!;
  return address;
}
