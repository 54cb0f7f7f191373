/**
 * `@axon/autograd`: reverse-mode automatic differentiation over `@axon/core` ops.
 * Importing it installs the tape into core, so `loss.backward()` works; it knows no backend.
 * @packageDocumentation
 */
export { gradients, install, type Group, type Node } from './engine.js';
export { rules, groupRules, sumToShape, ruleNames, type GradRule, type GroupRule, type GroupRuleContext, type RuleContext } from './rules.js';
export { grad, valueAndGrad, gradcheck, gradcheckAsync, type ScalarFn, type GradcheckOptions, type GradcheckResult } from './functional.js';
export { customGrad, type CustomBackward, type CustomGradOptions } from './custom.js';
export { noGrad, isGradEnabled } from '@axon/core';
