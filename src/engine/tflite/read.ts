// A TensorFlow Lite file as plain records: tensors (with their constant data dequantized on request) and
// operators in execution order. The flatbuffer is read by the `flatbuffers` runtime through code that flatc
// generated from tflite-subset.fbs (schema_generated.ts).
import * as flatbuffers from 'flatbuffers';
import * as schema from './schema_generated.js';

export class TfliteImportError extends Error {
  override name = 'TfliteImportError';
}

/** The builtin operators an import can meet, by code (the rest keep their number in messages). */
const OPERATOR_NAMES: Record<number, string> = {
  0: 'ADD',
  1: 'AVERAGE_POOL_2D',
  3: 'CONV_2D',
  4: 'DEPTHWISE_CONV_2D',
  6: 'DEQUANTIZE',
  9: 'FULLY_CONNECTED',
  14: 'LOGISTIC',
  17: 'MAX_POOL_2D',
  18: 'MUL',
  19: 'RELU',
  21: 'RELU6',
  22: 'RESHAPE',
  25: 'SOFTMAX',
  34: 'PAD',
  39: 'TRANSPOSE',
  40: 'MEAN',
  57: 'MINIMUM',
  114: 'QUANTIZE',
};

export type Activation = 'NONE' | 'RELU' | 'RELU6' | 'OTHER';

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: keyof typeof schema.TensorType;
  /** The constant's raw bytes; null for activations. */
  data: Uint8Array | null;
  quantization: { scale: Float32Array; zeroPoint: number[]; axis: number } | null;
}

export interface TfliteOperator {
  index: number;
  /** CONV_2D, DEPTHWISE_CONV_2D, …, or the code's number for operators this reader does not name. */
  op: string;
  inputs: number[];
  outputs: number[];
  stride?: [number, number];
  padding?: 'SAME' | 'VALID';
  activation?: Activation;
}

export interface TfliteGraph {
  tensors: TfliteTensor[];
  operators: TfliteOperator[];
  inputs: number[];
  outputs: number[];
}

/**
 * The flatbuffers runtime trusts its input: an offset past the end reads `undefined` as 0 and a damaged
 * vector length can ask for billions of entries. Every read here is checked against the file instead.
 */
class CheckedByteBuffer extends flatbuffers.ByteBuffer {
  private check(offset: number, width: number): void {
    if (!(offset >= 0 && offset + width <= this.capacity())) throw new TfliteImportError(`an offset (${offset}) points past the end of the file (${this.capacity()} bytes)`);
  }
  override readUint8(offset: number): number {
    this.check(offset, 1);
    return super.readUint8(offset);
  }
  override readUint16(offset: number): number {
    this.check(offset, 2);
    return super.readUint16(offset);
  }
  override readInt32(offset: number): number {
    this.check(offset, 4);
    return super.readInt32(offset);
  }
  override __vector_len(offset: number): number {
    const length = super.__vector_len(offset);
    // Every element takes at least one byte after the length field.
    if (length < 0 || length > this.capacity()) throw new TfliteImportError(`a vector claims ${length} entries in a file of ${this.capacity()} bytes`);
    return length;
  }
}

/** Parses a .tflite file's bytes; anything that is not a readable TFLite model gets a TfliteImportError. */
export function readTflite(bytes: Uint8Array, file = 'the file'): TfliteGraph {
  if (bytes.length < 8) throw new TfliteImportError(`${file} is ${bytes.length} bytes: too short to be a TFLite model`);
  const bb = new CheckedByteBuffer(bytes);
  if (!schema.Model.bufferHasIdentifier(bb)) throw new TfliteImportError(`${file} is not a TFLite model (no "TFL3" identifier at byte 4)`);
  try {
    return graphOf(schema.Model.getRootAsModel(bb), bytes.length);
  } catch (err) {
    // Offsets past the end (a truncated or damaged file) surface here, or as RangeErrors from typed-array views.
    throw new TfliteImportError(`${file} is damaged or truncated: ${(err as Error).message}`);
  }
}

function graphOf(model: schema.Model, size: number): TfliteGraph {
  if (model.version() !== 3) throw new TfliteImportError(`schema version ${model.version()}; only version 3 (every TFLite file since 2018) is supported`);
  if (model.subgraphsLength() !== 1) throw new TfliteImportError(`the model has ${model.subgraphsLength()} subgraphs; only single-graph models are supported`);
  const graph = model.subgraphs(0)!;
  const codes = Array.from({ length: model.operatorCodesLength() }, (_, i) => {
    const c = model.operatorCodes(i)!;
    return Math.max(c.deprecatedBuiltinCode(), c.builtinCode());
  });
  const tensors = Array.from({ length: graph.tensorsLength() }, (_, i) => tensorOf(graph.tensors(i)!, i, model, size));
  const operators = Array.from({ length: graph.operatorsLength() }, (_, i) => operatorOf(graph.operators(i)!, i, codes));
  const ints = (a: Int32Array | null) => Array.from(a ?? []);
  return { tensors, operators, inputs: ints(graph.inputsArray()), outputs: ints(graph.outputsArray()) };
}

function tensorOf(t: schema.Tensor, index: number, model: schema.Model, size: number): TfliteTensor {
  const bufferIndex = t.buffer();
  if (bufferIndex >= model.buffersLength()) throw new TfliteImportError(`tensor ${index} refers to buffer ${bufferIndex} of ${model.buffersLength()}`);
  const data = model.buffers(bufferIndex)?.dataArray() ?? null;
  if (data && data.byteOffset + data.length > size) throw new TfliteImportError(`tensor ${index}'s data runs past the end of the file`);
  const q = t.quantization();
  const scale = q?.scaleArray() ?? null;
  const quantization =
    scale && scale.length ? { scale: Float32Array.from(scale), zeroPoint: Array.from({ length: q!.zeroPointLength() }, (_, i) => Number(q!.zeroPoint(i) ?? 0)), axis: q!.quantizedDimension() } : null;
  const type = schema.TensorType[t.type()] as keyof typeof schema.TensorType | undefined;
  if (!type) throw new TfliteImportError(`tensor ${index} has unknown type ${t.type()}`);
  return { index, name: t.name() ?? `tensor ${index}`, shape: Array.from(t.shapeArray() ?? []), type, data: data && data.length ? data : null, quantization };
}

function activationOf(code: schema.ActivationFunctionType): Activation {
  const name = schema.ActivationFunctionType[code];
  return name === 'NONE' || name === 'RELU' || name === 'RELU6' ? name : 'OTHER';
}

function operatorOf(o: schema.Operator, index: number, codes: number[]): TfliteOperator {
  const code = codes[o.opcodeIndex()];
  if (code === undefined) throw new TfliteImportError(`operator ${index} has opcode index ${o.opcodeIndex()} of ${codes.length}`);
  const base: TfliteOperator = { index, op: OPERATOR_NAMES[code] ?? String(code), inputs: Array.from(o.inputsArray() ?? []), outputs: Array.from(o.outputsArray() ?? []) };
  const type = o.builtinOptionsType();
  if (type === schema.BuiltinOptions.Conv2DOptions || type === schema.BuiltinOptions.DepthwiseConv2DOptions) {
    const opts = o.builtinOptions(type === schema.BuiltinOptions.Conv2DOptions ? new schema.Conv2DOptions() : new schema.DepthwiseConv2DOptions()) as schema.Conv2DOptions;
    return { ...base, stride: [opts.strideH(), opts.strideW()], padding: opts.padding() === schema.Padding.SAME ? 'SAME' : 'VALID', activation: activationOf(opts.fusedActivationFunction()) };
  }
  if (type === schema.BuiltinOptions.FullyConnectedOptions || type === schema.BuiltinOptions.AddOptions) {
    const opts = o.builtinOptions(type === schema.BuiltinOptions.AddOptions ? new schema.AddOptions() : new schema.FullyConnectedOptions()) as schema.AddOptions;
    return { ...base, activation: activationOf(opts.fusedActivationFunction()) };
  }
  return base;
}

/** A constant tensor's values as float32: int8/uint8/int32 dequantized per tensor or per channel. */
export function constantValues(t: TfliteTensor): Float32Array {
  if (!t.data) throw new TfliteImportError(`${t.name} is not a constant`);
  const { data } = t;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = t.shape.reduce((a, b) => a * b, 1);
  const raw = (width: number, get: (offset: number) => number) => {
    if (data.byteLength < count * width) throw new TfliteImportError(`${t.name}: ${data.byteLength} bytes for ${count} values of ${width} bytes`);
    return Float64Array.from({ length: count }, (_, i) => get(i * width));
  };
  let values: Float64Array;
  if (t.type === 'FLOAT32') values = raw(4, (o) => view.getFloat32(o, true));
  else if (t.type === 'INT8') values = raw(1, (o) => view.getInt8(o));
  else if (t.type === 'UINT8') values = raw(1, (o) => view.getUint8(o));
  else if (t.type === 'INT32') values = raw(4, (o) => view.getInt32(o, true));
  else throw new TfliteImportError(`${t.name}: constants of type ${t.type} are not supported`);
  if (t.type === 'FLOAT32' || !t.quantization) return Float32Array.from(values);
  return dequantize(values, t.shape, t.quantization);
}

function dequantize(q: Float64Array, shape: number[], { scale, zeroPoint, axis }: NonNullable<TfliteTensor['quantization']>): Float32Array {
  if (scale.length === 1) return Float32Array.from(q, (v) => scale[0] * (v - (zeroPoint[0] ?? 0)));
  if (shape[axis] !== scale.length) throw new TfliteImportError(`${scale.length} scales for dimension ${axis} of size ${shape[axis]}`);
  // The channel of flat index i along `axis`: (i / inner) mod channels.
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return Float32Array.from(q, (v, i) => {
    const c = Math.floor(i / inner) % scale.length;
    return scale[c] * (v - (zeroPoint[c] ?? 0));
  });
}
