// Axon's conformance suite on the WebGPU backend. If no adapter can be obtained the suite FAILS
// (its first test, "the backend starts", names the reason backends() reports); it never skips.
import '../src/index.js';
import { describeBackendConformance } from '@axon/conformance';

describeBackendConformance('webgpu');
