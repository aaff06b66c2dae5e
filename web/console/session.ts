/**
 * Secrets typed into the console stay in this tab: sessionStorage (gone when the tab closes, never shared with other
 * tabs), sent only as request headers, never put in a URL, a log or the page's markup.
 */
const PAYMENT_TOKEN = (serviceId: string) => `imageseg.payment-token.${serviceId}`;
const ADMIN_TOKEN = 'imageseg.admin-token';

function read(key: string): string {
  try {
    return sessionStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function write(key: string, value: string): void {
  try {
    if (value) sessionStorage.setItem(key, value);
    else sessionStorage.removeItem(key);
  } catch {
    // storage off (private mode): the value lives only in the field
  }
}

/** A payment token is good for one service: each tool's page keeps its own. */
export const paymentToken = {
  get: (serviceId: string) => read(PAYMENT_TOKEN(serviceId)),
  set: (serviceId: string, token: string) => write(PAYMENT_TOKEN(serviceId), token.trim()),
};

export const adminToken = {
  get: () => read(ADMIN_TOKEN),
  set: (token: string) => write(ADMIN_TOKEN, token.trim()),
};
