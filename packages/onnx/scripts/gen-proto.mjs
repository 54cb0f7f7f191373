#!/usr/bin/env node
// Regenerates src/generated/onnx-pb.js from proto/onnx.json (the ONNX messages @axon/onnx reads and
// writes: names and field numbers from onnx.proto) with protobufjs's own code generator, pbjs, as a
// static module: plain encode/decode functions over protobufjs/minimal, no `new Function` at run
// time, so the package works under a Content-Security-Policy without 'unsafe-eval' (the demo site's).
//   node packages/onnx/scripts/gen-proto.mjs
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(
  'npx',
  ['--yes', '--package=protobufjs-cli@2.7.1', '--package=protobufjs@8.8.1', 'pbjs', '-t', 'static-module', '-w', 'es6', '--no-verify', '--no-delimited', '--no-convert', '--no-service', '--no-comments',
    '-o', join(root, 'src/generated/onnx-pb.js'), join(root, 'proto/onnx.json')],
  { stdio: 'inherit' },
);
console.log('wrote src/generated/onnx-pb.js');
