import type { Client } from '@temporalio/client';

/**
 * What the Web UI shows of any of our workflows: its "Current details", which each workflow keeps
 * up to date (setCurrentDetails) through the built-in metadata query.
 */
export async function currentDetails(client: Client, workflowId: string, runId?: string): Promise<string | undefined> {
  const metadata = await client.workflow
    .getHandle(workflowId, runId)
    .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails;
}
