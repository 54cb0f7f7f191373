import { defineConfig } from 'tsup';
import { axonTsup } from '@axon/config/tsup';
// The declarations use WebGPU's types (GPUDevice, …): keep the reference that pulls them in
// (@webgpu/types is a dependency), which the declaration bundler would otherwise drop.
export default defineConfig(axonTsup({ dts: { banner: '/// <reference types="@webgpu/types" />' } }));
