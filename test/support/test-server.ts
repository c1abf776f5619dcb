/** The PostgreSQL server a test run shares (`test/run.ts`). */
import { startEmbeddedPostgres, type RunningDatabase } from '../../db/embedded';

/**
 * Starts the embedded server on the first of `ports` still free when PostgreSQL binds it: a port
 * free a moment ago can be taken before the server binds it.
 */
export async function startTestServer(dataDir: string, ports: number[]): Promise<RunningDatabase & { port: number }> {
  const tried: string[] = [];
  for (const port of ports) {
    try {
      return { ...(await startEmbeddedPostgres(dataDir, port)), port };
    } catch (err) {
      const message = (err as Error).message;
      if (!/already in use/i.test(message)) throw err;
      tried.push(`${port} (${message.slice(0, 300)})`);
    }
  }
  throw new Error(`no free port for the test database; tried ${tried.join('; ')}`);
}
