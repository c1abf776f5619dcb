/**
 * Bundles the workflow code once, ahead of time, so workers start without webpack (faster, and
 * without webpack's memory peak). `WORKFLOW_BUNDLE=<path>` makes a worker load it; without it a
 * worker bundles in-process. Usage: node --import tsx workers/bundle.ts [out-path]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WORKFLOWS_PATH } from './worker';
import { PROJECT_ROOT } from '../config';

export const DEFAULT_BUNDLE_PATH = path.join(PROJECT_ROOT, '.data', 'workflow-bundle.js');

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? DEFAULT_BUNDLE_PATH);
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  process.stderr.write(`workflow bundle written to ${out} (${Math.round(code.length / 1024)} KiB)\n`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`bundle: ${err.message}\n`);
    process.exit(1);
  });
}
