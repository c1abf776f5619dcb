import type { Client } from '@temporalio/client';

/**
 * What the `*.api.ts` modules start workflows with: a Temporal client and the task queue the
 * workers poll (TASK_QUEUE). Activity deps and the CLI's provider context both have this shape.
 * Never imported by workflow code.
 */
export interface WorkflowStarter {
  temporal: Client;
  taskQueue: string;
}
