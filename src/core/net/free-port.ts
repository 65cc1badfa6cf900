import net from 'node:net';

/** The first port at or above `from` that nothing listens on (loopback), for local servers we start. */
export async function findFreePort(from: number): Promise<number> {
  for (let port = from; port < from + 200; port += 1) {
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port in ${from}-${from + 199}`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
