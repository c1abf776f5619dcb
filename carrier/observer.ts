/** One HTTP exchange with the carrier, as observers see it: no bodies, headers, URLs or tokens. */
export interface CarrierExchange {
  endpoint: string;
  status: number | 'timeout' | 'network';
  seconds: number;
}

let exchangeObserver: ((e: CarrierExchange) => void) | undefined;

/** Metrics hook: told about every request this process sends to the carrier, faults included. */
export function observeCarrier(observer: ((e: CarrierExchange) => void) | undefined): void {
  exchangeObserver = observer;
}

export function observed(endpoint: string, status: CarrierExchange['status'], started: number): void {
  try {
    exchangeObserver?.({ endpoint, status, seconds: (performance.now() - started) / 1000 });
  } catch {
    // An observer's fault never fails a carrier call.
  }
}
