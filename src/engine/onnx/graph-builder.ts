// Collects ONNX nodes and initializers under unique names, and writes the model file.
import { AttributeType, DataType, encodeModel, type AttributeMessage, type NodeMessage, type TensorMessage, type ValueInfoMessage } from './proto.js';

export const OPSET = 17;
const IR_VERSION = 8;

export type Attr = { int: number } | { ints: number[] } | { float: number } | { floats: number[] } | { string: string };

function attribute(name: string, a: Attr): AttributeMessage {
  if ('int' in a) return { name, type: AttributeType.INT, i: a.int };
  if ('ints' in a) return { name, type: AttributeType.INTS, ints: a.ints };
  if ('float' in a) return { name, type: AttributeType.FLOAT, f: a.float };
  if ('floats' in a) return { name, type: AttributeType.FLOATS, floats: a.floats };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.string) };
}

function bytesOf(view: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

export class GraphBuilder {
  readonly nodes: NodeMessage[] = [];
  readonly initializers: TensorMessage[] = [];
  readonly inputs: ValueInfoMessage[] = [];
  readonly outputs: ValueInfoMessage[] = [];
  private readonly used = new Set<string>();

  /** A name not used yet, based on `base` (layer names stay readable in the graph). */
  unique(base: string): string {
    let name = base;
    for (let n = 1; this.used.has(name); n++) name = `${base}_${n}`;
    this.used.add(name);
    return name;
  }

  floats(base: string, data: Float32Array, dims: number[]): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims, data_type: DataType.FLOAT, raw_data: bytesOf(data) });
    return name;
  }

  int64s(base: string, values: number[]): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims: [values.length], data_type: DataType.INT64, raw_data: bytesOf(BigInt64Array.from(values.map(BigInt))) });
    return name;
  }

  /** Adds one node; returns its output names (`outputs` of them, named after `base`). */
  node(op: string, inputs: string[], base: string, attrs: Record<string, Attr> = {}, outputs = 1): string[] {
    const names = Array.from({ length: outputs }, (_, i) => this.unique(outputs === 1 ? base : `${base}:${i}`));
    this.nodes.push({ name: this.unique(`${base}/${op}`), op_type: op, input: inputs, output: names, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return names;
  }

  /** `value` reshaped to constant `dims` (-1 and 0 as ONNX reads them), named `base`. */
  reshape(value: string, dims: number[], base: string): string {
    return this.op('Reshape', [value, this.int64s(`${base}_shape`, dims)], base);
  }

  /** One-output node. */
  op(op: string, inputs: string[], base: string, attrs: Record<string, Attr> = {}): string {
    return this.node(op, inputs, base, attrs)[0];
  }

  input(name: string, dims: Array<number | string>): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /** Marks `value` as a graph output called `name` (an Identity when the names differ). */
  output(value: string, name: string, dims: Array<number | string>): void {
    if (value !== name) this.nodes.push({ name: this.unique(`${name}/Identity`), op_type: 'Identity', input: [value], output: [name], attribute: [] });
    this.used.add(name);
    this.outputs.push(valueInfo(name, dims));
  }

  encode(graphName: string, metadata: Record<string, string>, producerVersion: string): Uint8Array {
    return encodeModel({
      ir_version: IR_VERSION,
      opset_import: [{ domain: '', version: OPSET }],
      producer_name: 'slidetriage',
      producer_version: producerVersion,
      graph: { name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
      metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
  }
}

function valueInfo(name: string, dims: Array<number | string>): ValueInfoMessage {
  return {
    name,
    type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}
