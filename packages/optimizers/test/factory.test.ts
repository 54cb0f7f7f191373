/** The optimizer(name | config) factory the Keras front end calls. */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor } from '@axon/core';
import { Adadelta, Adagrad, Adam, Adamax, AdamW, KERAS_DEFAULTS, NAdam, OPTIMIZER_NAMES, RAdam, RMSprop, SGD, optimizer } from '../src/index.js';
import { expectClose, param, setGrad, useTestBackend, values } from './helpers.js';
import { type RefState, refAdam } from './reference.js';

beforeAll(async () => {
  await useTestBackend();
});

function withParam(fn: (p: Tensor) => void): void {
  const p = param([1, -1], [2]);
  try {
    fn(p);
  } finally {
    p.dispose();
  }
}

describe('optimizer()', () => {
  it('builds each class from a case-insensitive name', () => {
    withParam((p) => {
      const classes = { sgd: SGD, adam: Adam, adamw: AdamW, rmsprop: RMSprop, adagrad: Adagrad, adamax: Adamax, nadam: NAdam, radam: RAdam, adadelta: Adadelta };
      for (const name of OPTIMIZER_NAMES) {
        for (const spelled of [name, name.toUpperCase(), name[0]!.toUpperCase() + name.slice(1)]) {
          const opt = optimizer(spelled, [p]);
          expect(opt).toBeInstanceOf(classes[name]);
          opt.dispose();
        }
      }
      const o = optimizer('RMSProp', [p]);
      expect(o.name).toBe('RMSprop');
      o.dispose();
    });
  });

  it('is typed by literal name', () => {
    withParam((p) => {
      const a: Adam = optimizer('adam', [p]);
      const s: SGD = optimizer({ name: 'sgd', momentum: 0.9 }, [p]);
      expect(a.paramGroups[0]!.betas).toEqual([0.9, 0.999]);
      expect(s.paramGroups[0]!.momentum).toBe(0.9);
      a.dispose();
      s.dispose();
    });
  });

  it('uses Keras defaults by name, PyTorch defaults on request', () => {
    withParam((p) => {
      const adam = optimizer('adam', [p]);
      expect(adam.paramGroups[0]).toMatchObject({ lr: 0.001, eps: 1e-7, betas: [0.9, 0.999], weightDecay: 0 });
      const sgd = optimizer('sgd', [p]);
      expect(sgd.lr).toBe(0.01);
      const adamw = optimizer('adamw', [p]);
      expect(adamw.paramGroups[0]).toMatchObject({ weightDecay: 0.004, eps: 1e-7 });
      const rms = optimizer('rmsprop', [p]);
      expect(rms.paramGroups[0]).toMatchObject({ lr: 0.001, alpha: 0.9, eps: 1e-7 });
      const ada = optimizer('adagrad', [p]);
      expect(ada.paramGroups[0]).toMatchObject({ lr: 0.001, initialAccumulatorValue: 0.1, eps: 1e-7 });
      // Keras 3's Adamax, Nadam and Adadelta; TensorFlow Addons' RectifiedAdam
      const made = (['adamax', 'nadam', 'radam', 'adadelta'] as const).map((n) => optimizer(n, [p]));
      expect(made.map((o) => o.paramGroups[0])).toMatchObject([
        { lr: 0.001, betas: [0.9, 0.999], eps: 1e-7, weightDecay: 0, maximize: false },
        { lr: 0.001, betas: [0.9, 0.999], eps: 1e-7, weightDecay: 0, momentumDecay: 4e-3 },
        { lr: 0.001, betas: [0.9, 0.999], eps: 1e-7, weightDecay: 0 },
        { lr: 0.001, rho: 0.95, eps: 1e-7, weightDecay: 0, maximize: false },
      ]);
      // PyTorch's defaults on request
      const torchMade = (['adamax', 'nadam', 'radam', 'adadelta'] as const).map((n) => optimizer({ name: n, defaults: 'pytorch' }, [p]));
      expect(torchMade.map((o) => o.paramGroups[0])).toMatchObject([
        { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8 },
        { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, momentumDecay: 4e-3 },
        { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8 },
        { lr: 1, rho: 0.9, eps: 1e-6 },
      ]);
      // Keras spellings: rho is Adadelta's own rho (RMSprop's alpha elsewhere), beta1/beta2 the betas
      const dd = optimizer({ name: 'adadelta', rho: 0.8, epsilon: 1e-5, learningRate: 0.5 }, [p]);
      expect(dd.paramGroups[0]).toMatchObject({ rho: 0.8, eps: 1e-5, lr: 0.5 });
      const nd = optimizer({ name: 'nadam', beta1: 0.8, momentumDecay: 0.01 }, [p]);
      expect(nd.paramGroups[0]).toMatchObject({ betas: [0.8, 0.999], momentumDecay: 0.01 });
      expect(() => optimizer({ name: 'radam', maximize: true }, [p])).toThrow(/'maximize' is not an option of radam/);
      expect(() => optimizer({ name: 'adadelta', beta1: 0.9 }, [p])).toThrow(/'beta1' is not an option of adadelta/);
      for (const o of [...made, ...torchMade, dd, nd]) {
        // getConfig round-trips through the factory
        const again = optimizer(o.getConfig(), [p]);
        expect(again.constructor).toBe(o.constructor);
        expect(again.paramGroups[0]).toEqual(o.paramGroups[0]);
        again.dispose();
        o.dispose();
      }
      const torchAdam = optimizer({ name: 'adam', defaults: 'pytorch' }, [p]);
      expect(torchAdam.paramGroups[0]).toMatchObject({ lr: 1e-3, eps: 1e-8 });
      const torchW = optimizer({ name: 'adamw', defaults: 'pytorch' }, [p]);
      expect(torchW.paramGroups[0]).toMatchObject({ weightDecay: 1e-2 });
      for (const o of [adam, sgd, adamw, rms, ada, torchAdam, torchW]) o.dispose();
      expect(Object.keys(KERAS_DEFAULTS).sort()).toEqual([...OPTIMIZER_NAMES].sort());
    });
  });

  it('accepts Keras and PyTorch option spellings', () => {
    withParam((p) => {
      const a = optimizer({ name: 'Adam', learningRate: 0.1, beta1: 0.8, epsilon: 1e-6, clipnorm: 2 }, [p]);
      expect(a.paramGroups[0]).toMatchObject({ lr: 0.1, betas: [0.8, 0.999], eps: 1e-6 });
      expect(a.clip).toEqual({ clipNorm: 2 });
      const r = optimizer({ name: 'rmsprop', rho: 0.95, momentum: 0.9, centered: true, globalClipnorm: 1 }, [p]);
      expect(r.paramGroups[0]).toMatchObject({ alpha: 0.95, momentum: 0.9, centered: true });
      expect(r.clip).toEqual({ globalClipNorm: 1 });
      const s = optimizer({ name: 'sgd', lr: 0.5, momentum: 0.9, nesterov: true, clipvalue: 1 }, [p]);
      expect(s.paramGroups[0]).toMatchObject({ lr: 0.5, momentum: 0.9, nesterov: true });
      for (const o of [a, r, s]) o.dispose();
    });
  });

  it('a factory-built Adam follows the Adam update with its options', () => {
    withParam((p) => {
      const opt = optimizer({ name: 'adam', learningRate: 0.1 }, [p]);
      let ref = [1, -1];
      const st: RefState = { step: 0 };
      for (let i = 0; i < 3; i++) {
        setGrad(p, [0.5, -0.25]);
        opt.step();
        ref = refAdam(ref, [0.5, -0.25], st, { lr: 0.1, eps: 1e-7 });
      }
      expectClose(values(p), ref, 1e-5);
      opt.dispose();
    });
  });

  it('returns an Optimizer instance unchanged, and allows params later', () => {
    withParam((p) => {
      const inst = new SGD([p]);
      expect(optimizer(inst)).toBe(inst);
      inst.dispose();
      const late = optimizer('adam');
      expect(late.params).toEqual([]);
      late.addParamGroup({ params: [p] });
      expect(late.params).toEqual([p]);
      late.dispose();
    });
  });

  it('getConfig() round-trips through the factory', () => {
    withParam((p) => {
      for (const opt of [
        new SGD([p], { lr: 0.2, momentum: 0.9, nesterov: true, clipValue: 1 }),
        new Adam([p], { betas: [0.8, 0.9], amsgrad: true }),
        new AdamW([p], { weightDecay: 0.3, globalClipNorm: 2 }),
        new RMSprop([p], { centered: true }),
        new Adagrad([p], { lrDecay: 0.1 }),
      ]) {
        const config = JSON.parse(JSON.stringify(opt.getConfig())) as ReturnType<typeof opt.getConfig>;
        const again = optimizer(config, [p]);
        expect(again.constructor).toBe(opt.constructor);
        expect(again.defaults).toEqual(opt.defaults);
        expect(again.clip).toEqual(opt.clip);
        opt.dispose();
        again.dispose();
      }
    });
  });

  it('rejects unknown names, options that do not apply, duplicates', () => {
    withParam((p) => {
      expect(() => optimizer('lion', [p])).toThrow(/unknown optimizer 'lion'/);
      expect(() => optimizer({ name: 'adam', momentum: 0.9 }, [p])).toThrow(/'momentum' is not an option of adam/);
      expect(() => optimizer({ name: 'sgd', beta1: 0.9 }, [p])).toThrow(AxonError);
      expect(() => optimizer({ name: 'adam', lr: 0.1, learningRate: 0.2 }, [p])).toThrow(/both 'lr' and 'learningRate'/);
      expect(() => optimizer({ name: 'adam', betas: [0.9, 0.9], beta1: 0.8 }, [p])).toThrow(/either 'betas'/);
      expect(() => optimizer({ name: 'adam', clipnorm: 1, clipvalue: 1 }, [p])).toThrow(/only one of/);
      expect(() => optimizer(42 as never)).toThrow(AxonError);
    });
  });
});
