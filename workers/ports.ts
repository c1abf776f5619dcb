import net from 'node:net';

/**
 * Binds `port` on loopback and releases it at once, giving the port bound: with 0 (the default)
 * one the OS picks, for the SDK's own metrics exporter. Rejects when the port is taken.
 */
export async function freeLoopbackPort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const bound = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}
