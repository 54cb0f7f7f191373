// The conformance suite on the WASM backend. If the backend cannot start, the suite fails
// (it does not skip), naming the backend and what backends() reports.
import '@axon/backend-wasm';
import { describeBackendConformance } from '../src/index.js';

describeBackendConformance('wasm');
