import { expect } from 'vitest';
import type { AlibabaEmulator } from '../emulator/index.js';
import type { LoopbackFacilitator } from '../facilitator/index.js';
import { emulatorEnvironment } from './server.js';

export const ADMIN_TOKEN = 'operator-secret';
export const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Payments on against the emulator and the loopback facilitator; PostgreSQL when TEST_DATABASE_URL points at one. */
export function paidEnvironment(emulator: AlibabaEmulator, facilitator: LoopbackFacilitator, payTo: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...emulatorEnvironment(emulator),
    PAYMENTS: 'required',
    X402_PAY_TO: payTo,
    X402_FACILITATOR_URL: facilitator.url,
    ADMIN_TOKEN,
    ...(process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : {}),
    ...extra,
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, any>;
}

export async function jsonRequest(base: string, method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

/** An operator-minted payment token, through the admin route as an operator would. */
export async function mintToken(base: string, serviceId: string, calls = 1): Promise<string> {
  const minted = await jsonRequest(base, 'POST', '/api/admin/tokens', { serviceId, calls }, admin);
  expect(minted.status).toBe(201);
  return minted.body.paymentToken as string;
}
