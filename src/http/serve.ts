import type { Server } from 'node:http';
import type { AppContext } from '../app.js';
import { createHttpApp } from './app.js';

export function serveHttp(context: AppContext): Promise<Server> {
  const { host, port } = context.config.http;
  const app = createHttpApp(context);
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => {
      context.sweeper.start();
      resolve(server);
    });
    server.once('error', reject);
  });
}
