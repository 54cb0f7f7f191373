// The suite on a plain-JavaScript backend that follows backend.ts literally: a failure here is
// a bug in core, autograd or the suite itself, not in a kernel (see reference-backend.ts).
import './reference-backend.js';
import { describeBackendConformance } from '../src/index.js';

describeBackendConformance('reference');
