/**
 * The Axon PyTorch-front twins of fixtures/interop/torch_models.py: the same state-dict keys,
 * shapes and forward computation (eval mode), for the safetensors round trips of interop.test.ts.
 */
import { maxPool2d, type Tensor } from '@axon/core';
import { BatchNorm2d, Conv2d, Embedding, LayerNorm, Linear, LSTM, Module, TransformerEncoderLayer } from '../src/index.js';

export const MODEL_NAMES = ['mlp', 'cnn', 'lstm', 'transformer', 'bncnn'] as const;
export type InteropModelName = (typeof MODEL_NAMES)[number];

const VOCAB = 50;

export class MLP extends Module {
  fc1 = new Linear(784, 128);
  fc2 = new Linear(128, 10);
  forward(x: Tensor): Tensor {
    return this.fc2.call(this.fc1.call(x).relu());
  }
}

export class CNN extends Module {
  conv1 = new Conv2d(1, 32, 3);
  conv2 = new Conv2d(32, 64, 3);
  fc = new Linear(1600, 10);
  forward(x: Tensor): Tensor {
    const h = maxPool2d(this.conv1.call(x).relu(), 2);
    const g = maxPool2d(this.conv2.call(h).relu(), 2);
    return this.fc.call(g.flatten(1));
  }
}

export class LSTMClassifier extends Module {
  emb = new Embedding(VOCAB, 16);
  lstm = new LSTM(16, 32, { numLayers: 2, batchFirst: true });
  fc = new Linear(32, 5);
  forward(tokens: Tensor): Tensor {
    const [out] = this.lstm.forward(this.emb.call(tokens));
    const [b, t, h] = out.shape as [number, number, number];
    return this.fc.call(out.slice([0, t - 1, 0], [b, 1, h]).reshape([b, h]));
  }
}

export class TinyTransformer extends Module {
  emb = new Embedding(VOCAB, 32);
  layers = [0, 1].map(() => new TransformerEncoderLayer(32, 4, { dimFeedforward: 64, dropout: 0, batchFirst: true }));
  norm = new LayerNorm(32);
  fc = new Linear(32, VOCAB);
  forward(tokens: Tensor): Tensor {
    let x = this.emb.call(tokens);
    for (const layer of this.layers) x = layer.call(x);
    return this.fc.call(this.norm.call(x));
  }
}

export class BNCNN extends Module {
  conv = new Conv2d(1, 4, 3);
  bn = new BatchNorm2d(4);
  fc = new Linear(4 * 13 * 13, 3);
  forward(x: Tensor): Tensor {
    return this.fc.call(maxPool2d(this.bn.call(this.conv.call(x)).relu(), 2).flatten(1));
  }
}

/** A fresh twin of the PyTorch model `name`. */
export function twin(name: InteropModelName): Module {
  switch (name) {
    case 'mlp':
      return new MLP();
    case 'cnn':
      return new CNN();
    case 'lstm':
      return new LSTMClassifier();
    case 'transformer':
      return new TinyTransformer();
    case 'bncnn':
      return new BNCNN();
  }
}
