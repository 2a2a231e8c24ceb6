import { createServer } from 'node:net';

/**
 * A port on 127.0.0.1 that was free a moment ago (the OS picks it). There is a
 * window between closing and the component binding it; ports come from the
 * ephemeral range, so collisions with parallel runs are unlikely.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}
