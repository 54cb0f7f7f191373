/**
 * Messages between the GPT page (./main.ts) and its training worker (./gpt-worker.ts). As on the MNIST
 * page, everything that touches Axon (backend, tokenizer, model, optimizer) lives in the worker.
 */
import type { BackendChoice, Reply as MnistReply, TrainState } from '../protocol.js';

export type { BackendChoice, TrainState };

/** The GPT's shape and how it trains. */
export interface GptTrainParams {
  /** Embedding width `D`. */
  readonly width: number;
  /** Attention heads (divides `width`). */
  readonly heads: number;
  /** Transformer blocks. */
  readonly layers: number;
  /** Tokens per training window, and the longest context the model sees. */
  readonly contextLength: number;
  /** Windows per batch. */
  readonly batchSize: number;
  /** Peak learning rate (AdamW, linear warm-up then cosine decay to a tenth over `steps`). */
  readonly learningRate: number;
  /** Training steps. */
  readonly steps: number;
  /** Steps between two samples of text (and validation losses); 0: none while training. */
  readonly sampleEvery: number;
  /** Characters in each sample. */
  readonly sampleLength: number;
  /** Seed of the weights, the batches and the samples. */
  readonly seed: number;
}

/** Options of one generation. */
export interface GenerateParams {
  readonly maxTokens: number;
  /** 0: greedy. */
  readonly temperature: number;
  /** 0: no top-k. */
  readonly topK: number;
  readonly seed: number;
}

/** Page → worker. */
export type GptRequest =
  | { type: 'init'; backend: BackendChoice }
  | { type: 'setBackend'; name: string }
  | { type: 'train'; text: string; params: GptTrainParams }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'generate'; id: number; prompt: string; params: GenerateParams };

/** Worker → page. */
export type GptReply =
  | Extract<MnistReply, { type: 'backends' | 'status' | 'cspViolation' }>
  | {
      type: 'progress';
      step: number;
      steps: number;
      /** Mean training loss (nats per character) since the last progress message. */
      loss: number;
      /** The learning rate of the last step. */
      lr: number;
      tokensPerSec: number;
      /** Training time so far, pauses excluded (seconds). */
      seconds: number;
    }
  | { type: 'eval'; step: number; valLoss: number }
  | { type: 'sample'; step: number; prompt: string; text: string }
  | { type: 'model'; description: string; params: number; vocabSize: number; trainTokens: number; valTokens: number; unigramEntropy: number }
  | { type: 'done'; stopped: boolean; steps: number }
  | { type: 'generated'; id: number; prompt: string; text: string; seconds: number }
  | { type: 'error'; op: string; message: string; id?: number };
