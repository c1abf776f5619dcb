export { usageCycleWorkflow } from './usage-cycle';
export { quarantineGroupWorkflow } from './quarantine-group';
export { onboardProviderWorkflow } from './onboarding';
export { tenantWorkflow } from './tenant';
export { alertingWorkflow } from './alerting';
export { invoiceReconciliationWorkflow } from './invoice-reconciliation';
export { rerateWorkflow } from './rerate';
