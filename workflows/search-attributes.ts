import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Search attributes admins use to find things in the Web UI ("CspProviderId = 'p-…'"). */
export const CSP_PROVIDER_ID = defineSearchAttributeKey('CspProviderId', SearchAttributeType.KEYWORD);
export const CSP_CYCLE_STATUS = defineSearchAttributeKey('CspCycleStatus', SearchAttributeType.KEYWORD);
export const CSP_QUARANTINE_REASON = defineSearchAttributeKey('CspQuarantineReason', SearchAttributeType.KEYWORD);
export const CSP_TENANT_ID = defineSearchAttributeKey('CspTenantId', SearchAttributeType.KEYWORD);
export const CSP_CARRIER = defineSearchAttributeKey('CspCarrier', SearchAttributeType.KEYWORD);
export const CSP_SERVICE_ID = defineSearchAttributeKey('CspServiceId', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [
  CSP_PROVIDER_ID,
  CSP_CYCLE_STATUS,
  CSP_QUARANTINE_REASON,
  CSP_TENANT_ID,
  CSP_CARRIER,
  CSP_SERVICE_ID,
];

/** The carrier label domain.md fixes for the misc quarantine. */
export const CARRIER_LABEL = 'Rhipe - Microsoft';
