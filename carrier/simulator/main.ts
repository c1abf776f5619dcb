/** `npm run simulator -- [--port 8787] [--records 2000] [--seed 42] [--month YYYY-MM] [--shape numeric]`: the carrier simulator alone. */
import { Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { startSimulator } from './server';
import { SHAPE_PROFILES, type ShapeProfile } from './shape';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};

const program = new Command('simulator')
  .description('Carrier simulator speaking the Rhipe PRISM API on loopback')
  .option('--port <n>', 'port', int('port'), 8787)
  .option('--records <n>', 'usage lines per provider', int('records'), 2000)
  .option('--seed <n>', 'seed of the generated world', int('seed'), 42)
  .option('--month <yyyy-mm>', 'current usage month')
  .option('--token-ttl <seconds>', 'access token lifetime', int('token-ttl'), 3600)
  .option(
    '--shape <profile>',
    `JSON dialect: ${SHAPE_PROFILES.join(' | ')} (numeric: ids as 19-digit numbers, nulls, reordered fields)`,
    (v: string) => {
      if (!SHAPE_PROFILES.includes(v as ShapeProfile))
        throw new InvalidArgumentError(`one of ${SHAPE_PROFILES.join(', ')}`);
      return v as ShapeProfile;
    },
    'documented',
  )
  .parse();

const o = program.opts();
startSimulator({
  port: o.port,
  usageRecords: o.records,
  seed: o.seed,
  usageMonth: o.month,
  tokenTtlSeconds: o.tokenTtl,
  shape: o.shape,
})
  .then((sim) => {
    process.stdout.write(
      JSON.stringify({
        simulator: sim.url,
        providers: sim.dataset.providers.map((p) => ({
          name: p.name,
          clientId: p.clientId,
          usageRecords: p.usageRecords,
        })),
      }) + '\n',
    );
    const stop = () => void sim.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  })
  .catch((err: Error) => {
    process.stderr.write(`simulator: ${err.message}\n`);
    process.exit(1);
  });
