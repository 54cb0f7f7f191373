// Axon's conformance suite on the WebGPU backend. If no adapter can be obtained the suite FAILS
// (its first test, "the backend starts", names the reason backends() reports); it never skips.
// (The sort test used to be skipped on lavapipe with fusion off — `driverCrashes` — because the
// thousands of dispatches of core's bitonic network crashed the driver's queue thread; the `sort`
// primitive makes it a handful of dispatches, and the test runs everywhere.)
import '../src/index.js';
import { describeBackendConformance } from '@axon/conformance';

describeBackendConformance('webgpu');
