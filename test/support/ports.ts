/** A port free on loopback right now (the OS picks it); the same helper the worker uses for the SDK's exporter. */
export { freeLoopbackPort as freePort } from '../../workers/ports';
