/** Every suite the CLI knows, in the order `--suite all` runs them. Add new suites here. */

import type { Suite } from '../suite.js';
import { matmulSuite } from './matmul.js';
import { mlpSuite } from './mlp.js';
import { cnnSuite } from './cnn.js';
import { webgpuSuite } from './webgpu.js';
import { gptSuite } from './gpt.js';
import { attentionSuite } from './attention.js';

export const SUITES: readonly Suite[] = [matmulSuite, mlpSuite, cnnSuite, gptSuite, attentionSuite, webgpuSuite];
