import { setBackend } from '@axon/core';
import '@axon/backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, describeLayers } from '../src/models.js';

// The demo's models match `axon train --model mlp|cnn` (layers create their weights on WASM).
beforeAll(async () => {
  await setBackend('wasm');
});

describe('models', () => {
  it('describes a model.json', () => {
    const json = {
      config: {
        layers: [
          { className: 'Flatten', config: {} },
          { className: 'Dense', config: { units: 128, activation: 'relu' } },
          { className: 'Dropout', config: { rate: 0.2 } },
          { className: 'Dense', config: { units: 10, activation: 'softmax' } },
        ],
      },
    };
    expect(describeLayers(json)).toBe('Flatten → Dense(128, relu) → Dropout → Dense(10, softmax)');
    expect(describeLayers({})).toBe('model');
  });

  it('builds the MLP and the CNN with the CLI’s layers', () => {
    const mlp = buildModel('mlp');
    expect(mlp.inputShape).toEqual([28, 28]);
    expect(mlp.namedChildren().map(([, l]) => l.className)).toEqual(['Flatten', 'Dense', 'Dropout', 'Dense']);
    const cnn = buildModel('cnn');
    expect(cnn.namedChildren().map(([, l]) => l.className)).toEqual(['Reshape', 'Conv2d', 'ReLU', 'MaxPool2d', 'Conv2d', 'ReLU', 'MaxPool2d', 'Flatten', 'Dropout', 'Dense']);
    const y = cnn.predict(new Float32Array(2 * 784));
    expect(y.shape).toEqual([2, 10]);
    y.dispose();
    mlp.dispose();
    cnn.dispose();
  });
});
