import { createHmac } from 'node:crypto';

/**
 * Aidge's open-platform (IOP) request signature: every parameter but `sign`, system (`app_key`, `timestamp`,
 * `sign_method`) and business alike, sorted by name (byte order), written as name then value with nothing between,
 * after the API path; HMAC-SHA256 with the app secret, upper-case hex.
 */
export function signIopRequest(apiPath: string, parameters: Readonly<Record<string, string>>, appSecret: string): string {
  const text = Object.keys(parameters)
    .filter((name) => name !== 'sign')
    .sort()
    .map((name) => `${name}${parameters[name]}`)
    .join('');
  return createHmac('sha256', appSecret).update(`${apiPath}${text}`, 'utf8').digest('hex').toUpperCase();
}
