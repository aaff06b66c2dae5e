/** What other modules may use of payments: the gate the pipeline holds, the service adapters and the CLI use. */
export type { PaymentCredentials, PaymentGate, Reservation, BatchCredit, BatchPayment, BatchHold } from './types.js';
export { freeBatch, nothingHeld } from './gate.js';
export { createPayments, type Payments, type PaymentsOptions } from './service.js';
export type { Facilitator } from './facilitator.js';
export type { CallRecordStore, JobRecord } from './store.js';
export { paymentIdentifierOf } from './payload.js';
export { PaymentRequiredError } from './answers.js';
export { parseExpiry } from './tokens.js';
export { credentialsFromHeaders, credentialsFromMcp, presentsX402, x402VersionOfHeaders, type HeaderReader, type Identify } from './who-pays.js';
export { isRefusal } from './payload.js';
