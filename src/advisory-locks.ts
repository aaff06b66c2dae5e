/**
 * PostgreSQL advisory lock keys, one list so no two uses share a key: each schema's creation, so two first starts do
 * not race, and the sweep, so one replica sweeps at a time.
 */
export const ADVISORY_LOCKS = {
  ledgerSchema: 402_2019_1230,
  tasksSchema: 402_2019_1231,
  resultsSchema: 402_2019_1232,
  countersSchema: 402_2019_1233,
  sweep: 402_2019_1234,
} as const;
