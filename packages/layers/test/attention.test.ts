/**
 * MultiheadAttention, TransformerEncoderLayer and TransformerDecoderLayer against PyTorch 1.13
 * (fixtures/torch-attn.json), RMSNorm against a float64 reference, positional encodings, the KV
 * cache, save/load, and bad input (WASM; the fixtures run on WebGPU in attention-webgpu.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, concat, memory, noGrad, randn, tensor, tidy } from '@axon/core';
import { KVCache, MultiheadAttention, PositionalEmbedding, RMSNorm, SinusoidalPositionalEncoding, TransformerEncoder, TransformerEncoderLayer, modelFromJson, modelToJson, sinusoidalPositionalEncoding } from '../src/index.js';
import { useTestBackend } from './helpers.js';
import { ATTN_CASES, checkAttnCase } from './attn-fixtures.js';
import { allClose } from './gpt-check.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('attention layers against PyTorch 1.13', () => {
  for (const c of ATTN_CASES) {
    it(`${c.kind}: ${c.name}`, () => {
      checkAttnCase(c);
    });
  }
});
