/**
 * The GPT page's training step: the model's forward pass, the cross-entropy of its next-character
 * predictions and the gradients of every parameter, wrapped in core's `compile` — traced on the
 * first step, replayed on the next ones without their JavaScript. The worker runs it; the unit
 * test checks that it trains to the same values as the uncompiled step on WASM and WebGPU.
 */
import { type Compiled, type Tensor, compile } from '@axon/core';
import { gradients } from '@axon/autograd';
import { crossEntropy } from '@axon/layers';
import type { LanguageModel } from './model.js';

/** `(x int32 [B, T], y int32 [B, T], ...parameters) → [loss (a scalar), ...gradients]`, one per parameter. */
export type GptStep = Compiled<[Tensor, Tensor, ...Tensor[]], Tensor[]>;

/**
 * The compiled step of `model` (vocabulary of `vocabSize`): the loss comes back detached, and a
 * parameter the loss does not reach gets a zero gradient. `fallback`: a step that turns out not to
 * be compilable runs uncompiled, with the same results. Call it in `tidy` (its inputs are
 * temporaries; the loss and the gradients it returns outlive the scope).
 */
export function gptStep(model: LanguageModel, vocabSize: number): GptStep {
  return compile(
    (x: Tensor, y: Tensor, ...ps: Tensor[]): Tensor[] => {
      const logits = model.forward(x);
      const loss = crossEntropy(logits.reshape([-1, vocabSize]), y.reshape([-1]), { validate: false });
      return [loss.detach(), ...gradients(loss, ps).map((g, i) => g ?? ps[i]!.mul(0))];
    },
    { fallback: true, name: 'gptStep' },
  );
}
