import { Runtime, type LogLevel, type LogMetadata, type Logger as TemporalLogger } from '@temporalio/worker';
import type { Logger } from 'pino';

/** Temporal SDK and worker logs go through the same pino logger (JSON, redacted) as ours. */
class PinoLogger implements TemporalLogger {
  constructor(private readonly pino: Logger) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const method =
      level === 'TRACE'
        ? 'trace'
        : level === 'DEBUG'
          ? 'debug'
          : level === 'INFO'
            ? 'info'
            : level === 'WARN'
              ? 'warn'
              : 'error';
    this.pino[method]({ ...(meta ?? {}), temporal: true }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.pino.trace(meta ?? {}, message);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.pino.debug(meta ?? {}, message);
  }
  info(message: string, meta?: LogMetadata): void {
    this.pino.info(meta ?? {}, message);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.pino.warn(meta ?? {}, message);
  }
  error(message: string, meta?: LogMetadata): void {
    this.pino.error(meta ?? {}, message);
  }
}

let installed = false;

/**
 * Call once, before any connection or worker is created. SIGINT/SIGTERM then drain the workers.
 * With `sdkMetricsAddress` the SDK serves its own Prometheus metrics there (read by
 * workers/metrics-server.ts), with Prometheus-conventional names (_total, _seconds).
 */
export function installTemporalRuntime(
  log: Logger,
  sdkMetricsAddress?: string,
  shutdownSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'],
): void {
  if (installed) return;
  Runtime.install({
    logger: new PinoLogger(log),
    shutdownSignals,
    ...(sdkMetricsAddress
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: sdkMetricsAddress,
                countersTotalSuffix: true,
                unitSuffix: true,
                useSecondsForDurations: true,
              },
            },
          },
        }
      : {}),
  });
  installed = true;
}
