import type { Response } from 'express';

/** A signal that aborts when the client goes away before its answer is written: the call then stops, uncharged. */
export function abortOnClose(response: Response): AbortSignal {
  const controller = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) controller.abort(new Error('client went away'));
  });
  return controller.signal;
}
