import { ProtoWriter, readFields, readInts } from './protobufWire.ts';

/**
 * ONNX's messages (onnx/onnx.proto: ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto) written from plain objects, and read back far enough to look
 * inside a model file: its nodes, their attributes and its initializers. Field numbers are
 * onnx.proto's.
 */

export const ElemType = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10 } as const;
export type ElemTypeName = keyof typeof ElemType;

export type AttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'tensor'; value: TensorValue };

const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

export interface TensorValue {
  name: string;
  elemType: ElemTypeName;
  dims: readonly number[];
  /** Little-endian element bytes (TensorProto.raw_data). */
  raw: Buffer;
}

export interface NodeValue {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  attributes: Readonly<Record<string, AttributeValue>>;
}

export interface ValueInfo {
  name: string;
  elemType: ElemTypeName;
  /** Fixed sizes as numbers, symbolic (dynamic) ones by name. */
  shape: readonly (number | string)[];
}

export interface GraphValue {
  name: string;
  nodes: readonly NodeValue[];
  initializers: readonly TensorValue[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
}

export interface ModelValue {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  metadata: Readonly<Record<string, string>>;
  graph: GraphValue;
}

function tensorProto(t: TensorValue): ProtoWriter {
  return new ProtoWriter().packedInts(1, t.dims).int(2, ElemType[t.elemType]).string(8, t.name).bytes(9, t.raw);
}

function attributeProto(name: string, a: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name).int(20, ATTRIBUTE_TYPE[a.kind]);
  switch (a.kind) {
    case 'float':
      return w.float(2, a.value);
    case 'int':
      return w.int(3, a.value);
    case 'string':
      return w.string(4, a.value);
    case 'tensor':
      return w.message(5, tensorProto(a.value));
    case 'floats':
      return w.packedFloats(7, a.value);
    case 'ints':
      return w.packedInts(8, a.value);
    default:
      return unreachable(a);
  }
}

function unreachable(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

function nodeProto(n: NodeValue): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of n.inputs) w.string(1, input);
  for (const output of n.outputs) w.string(2, output);
  w.string(3, n.name).string(4, n.opType);
  for (const [name, value] of Object.entries(n.attributes)) w.message(5, attributeProto(name, value));
  return w;
}

function valueInfoProto(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const dim of v.shape) shape.message(1, typeof dim === 'number' ? new ProtoWriter().int(1, dim) : new ProtoWriter().string(2, dim));
  const tensorType = new ProtoWriter().int(1, ElemType[v.elemType]).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

function graphProto(g: GraphValue): ProtoWriter {
  const w = new ProtoWriter();
  for (const node of g.nodes) w.message(1, nodeProto(node));
  w.string(2, g.name);
  for (const init of g.initializers) w.message(5, tensorProto(init));
  for (const input of g.inputs) w.message(11, valueInfoProto(input));
  for (const output of g.outputs) w.message(12, valueInfoProto(output));
  return w;
}

/** The encoded model as a list of buffers (write them in order; nothing large is copied). */
export function encodeModel(m: ModelValue): readonly Buffer[] {
  const w = new ProtoWriter().int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion).string(6, m.docString);
  w.message(7, graphProto(m.graph));
  w.message(8, new ProtoWriter().string(1, '').int(2, m.opset));
  for (const [key, value] of Object.entries(m.metadata)) w.message(14, new ProtoWriter().string(1, key).string(2, value));
  return w.parts();
}

// ---- reading --------------------------------------------------------------------------------

const ELEM_NAMES = new Map<number, ElemTypeName>(Object.entries(ElemType).map(([k, v]) => [v, k as ElemTypeName]));

function text(bytes: Buffer | undefined): string {
  return bytes ? bytes.toString('utf8') : '';
}

function readTensor(buffer: Buffer): TensorValue {
  const t: { name: string; elemType: ElemTypeName; dims: number[]; raw: Buffer } = {
    name: '',
    elemType: 'float',
    dims: [],
    raw: Buffer.alloc(0),
  };
  for (const f of readFields(buffer)) {
    if (f.field === 1) t.dims.push(...readInts(f).map(Number));
    else if (f.field === 2) t.elemType = ELEM_NAMES.get(Number(f.varint)) ?? t.elemType;
    else if (f.field === 8) t.name = text(f.bytes);
    else if (f.field === 9) t.raw = f.bytes ?? t.raw;
    else if (f.field === 4 && f.bytes) t.raw = f.bytes; // packed float_data: same little-endian layout
  }
  return t;
}

function readAttribute(buffer: Buffer): [string, AttributeValue | null] {
  let name = '';
  let value: AttributeValue | null = null;
  const intList: number[] = [];
  for (const f of readFields(buffer)) {
    if (f.field === 1) name = text(f.bytes);
    else if (f.field === 2 && f.fixed) value = { kind: 'float', value: f.fixed.readFloatLE(0) };
    else if (f.field === 3 && f.varint !== undefined) value = { kind: 'int', value: Number(BigInt.asIntN(64, f.varint)) };
    else if (f.field === 4) value = { kind: 'string', value: text(f.bytes) };
    else if (f.field === 5 && f.bytes) value = { kind: 'tensor', value: readTensor(f.bytes) };
    else if (f.field === 8) {
      intList.push(...readInts(f).map(Number));
      value = { kind: 'ints', value: intList };
    }
  }
  return [name, value];
}

function readNode(buffer: Buffer): NodeValue {
  const node = { opType: '', inputs: [] as string[], outputs: [] as string[], name: '', attributes: {} as Record<string, AttributeValue> };
  for (const f of readFields(buffer)) {
    if (f.field === 1) node.inputs.push(text(f.bytes));
    else if (f.field === 2) node.outputs.push(text(f.bytes));
    else if (f.field === 3) node.name = text(f.bytes);
    else if (f.field === 4) node.opType = text(f.bytes);
    else if (f.field === 5 && f.bytes) {
      const [name, value] = readAttribute(f.bytes);
      if (value) node.attributes[name] = value;
    }
  }
  return node;
}

function readValueInfo(buffer: Buffer): ValueInfo {
  const info = { name: '', elemType: 'float' as ElemTypeName, shape: [] as (number | string)[] };
  for (const f of readFields(buffer)) {
    if (f.field === 1) info.name = text(f.bytes);
    else if (f.field === 2 && f.bytes) {
      for (const typeField of readFields(f.bytes)) {
        if (typeField.field !== 1 || !typeField.bytes) continue;
        for (const t of readFields(typeField.bytes)) {
          if (t.field === 1) info.elemType = ELEM_NAMES.get(Number(t.varint)) ?? info.elemType;
          else if (t.field === 2 && t.bytes) info.shape = readShape(t.bytes);
        }
      }
    }
  }
  return info;
}

function readShape(buffer: Buffer): (number | string)[] {
  const dims: (number | string)[] = [];
  for (const d of readFields(buffer)) {
    if (d.field !== 1 || !d.bytes) continue;
    let dim: number | string = '?';
    for (const v of readFields(d.bytes)) {
      if (v.field === 1 && v.varint !== undefined) dim = Number(v.varint);
      else if (v.field === 2) dim = text(v.bytes);
    }
    dims.push(dim);
  }
  return dims;
}

function readGraph(buffer: Buffer): GraphValue {
  const g = {
    name: '',
    nodes: [] as NodeValue[],
    initializers: [] as TensorValue[],
    inputs: [] as ValueInfo[],
    outputs: [] as ValueInfo[],
  };
  for (const f of readFields(buffer)) {
    if (!f.bytes) continue;
    if (f.field === 1) g.nodes.push(readNode(f.bytes));
    else if (f.field === 2) g.name = text(f.bytes);
    else if (f.field === 5) g.initializers.push(readTensor(f.bytes));
    else if (f.field === 11) g.inputs.push(readValueInfo(f.bytes));
    else if (f.field === 12) g.outputs.push(readValueInfo(f.bytes));
  }
  return g;
}

/** Decodes a whole model file; throws (a plain Error) on bytes that are not an ONNX model. */
export function decodeModel(buffer: Buffer): ModelValue {
  const m = {
    irVersion: 0,
    opset: 0,
    producerName: '',
    producerVersion: '',
    docString: '',
    metadata: {} as Record<string, string>,
    graph: null as GraphValue | null,
  };
  for (const f of readFields(buffer)) {
    if (f.field === 1) m.irVersion = Number(f.varint ?? 0n);
    else if (f.field === 2) m.producerName = text(f.bytes);
    else if (f.field === 3) m.producerVersion = text(f.bytes);
    else if (f.field === 6) m.docString = text(f.bytes);
    else if (f.field === 7 && f.bytes) m.graph = readGraph(f.bytes);
    else if (f.field === 8 && f.bytes) {
      for (const o of readFields(f.bytes)) if (o.field === 2) m.opset = Math.max(m.opset, Number(o.varint ?? 0n));
    } else if (f.field === 14 && f.bytes) {
      let key = '';
      let value = '';
      for (const e of readFields(f.bytes)) {
        if (e.field === 1) key = text(e.bytes);
        else if (e.field === 2) value = text(e.bytes);
      }
      m.metadata[key] = value;
    }
  }
  if (!m.graph) throw new Error('no graph');
  return { ...m, graph: m.graph };
}
