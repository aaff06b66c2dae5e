import http from 'node:http';
import { httpsModule } from './https-module.js';

/** Request options that name the addresses the host name resolved to on this request, every one checked by the guard. */
export interface CheckedAddresses {
  checkedAddresses?: string;
}

/** The pool name: Node's own (protocol, host, port, TLS options) plus the checked addresses. */
function nameWith(base: string, options: CheckedAddresses | undefined): string {
  return `${base}|${options?.checkedAddresses ?? ''}`;
}

class CheckedHttpAgent extends http.Agent {
  override getName(options?: http.ClientRequestArgs & CheckedAddresses): string {
    return nameWith(super.getName(options), options);
  }
}

let httpAgent: http.Agent | undefined;
let httpsAgent: http.Agent | undefined;

/**
 * Kept-alive connections for image fetches, pooled per host and the exact set of addresses its name resolved to
 * on this request (each one checked): a socket is reused only for the same checked answer, so a name whose answer
 * changes gets a new connection, opened through the guarded lookup, never an older socket to its former address.
 * Idle sockets close by the server's Keep-Alive hint (Node keeps them a second less) or when the server closes them.
 */
export function keptAliveAgent(protocol: string): http.Agent {
  if (protocol !== 'https:') return (httpAgent ??= new CheckedHttpAgent({ keepAlive: true }));
  if (httpsAgent) return httpsAgent;
  class CheckedHttpsAgent extends httpsModule().Agent {
    override getName(options?: import('node:https').RequestOptions & CheckedAddresses): string {
      return nameWith(super.getName(options), options);
    }
  }
  return (httpsAgent = new CheckedHttpsAgent({ keepAlive: true }));
}
