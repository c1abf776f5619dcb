import { readFileSync } from 'node:fs';
import { freeLoopbackPort } from '../../workers/ports';

/**
 * Ports for the servers tests start (PostgreSQL, Temporal, the simulator, the console), below the
 * kernel's ephemeral range: a port inside it can be the local end of any outgoing connection at
 * the moment a server binds it, which no check beforehand can rule out (CI failed once so, with
 * PostgreSQL on 55146: "Address already in use"). `[low, high)`.
 */
export function serverPortRange(rangeFile = '/proc/sys/net/ipv4/ip_local_port_range'): [number, number] {
  let ephemeralLow = 32768;
  try {
    const low = Number(readFileSync(rangeFile, 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 2048) ephemeralLow = low;
  } catch {
    // No such file (not Linux): the range's usual low end.
  }
  return [Math.min(20000, Math.floor(ephemeralLow / 2)), ephemeralLow];
}

function canListen(port: number): Promise<boolean> {
  return freeLoopbackPort(port).then(
    () => true,
    () => false,
  );
}

/** A port on loopback, below the ephemeral range, that nothing listens on right now. */
export async function freePort(range = serverPortRange()): Promise<number> {
  const [low, high] = range;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 in ${low}..${high - 1} after 100 tries`);
}
