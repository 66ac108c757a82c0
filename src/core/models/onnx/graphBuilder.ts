import type { AttributeValue, ElemTypeName, GraphValue, NodeValue, TensorValue, ValueInfo } from './onnxProto.ts';

/**
 * Collects nodes and initializers with unique value names, so graph code reads like the forward
 * pass it mirrors: `const y = g.op('Conv', [x, w, b], { pads: ints([3, 3]) })`.
 */

export const int = (value: number): AttributeValue => ({ kind: 'int', value });
export const float = (value: number): AttributeValue => ({ kind: 'float', value });
export const ints = (value: readonly number[]): AttributeValue => ({ kind: 'ints', value });

export class GraphBuilder {
  private readonly nodes: NodeValue[] = [];
  private readonly initializers: TensorValue[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly used = new Set<string>();
  private readonly scalarCache = new Map<string, string>();
  private counter = 0;
  private scope = '';
  private readonly graphName: string;

  constructor(graphName: string) {
    this.graphName = graphName;
  }

  /** Runs `body` with node and value names prefixed by the module path, as torch's exporter names them. */
  async withinAsync<T>(scope: string, body: () => Promise<T>): Promise<T> {
    const outer = this.scope;
    this.scope = outer ? `${outer}/${scope}` : scope;
    try {
      return await body();
    } finally {
      this.scope = outer;
    }
  }

  private unique(base: string): string {
    let name = base;
    while (this.used.has(name)) name = `${base}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, elemType: ElemTypeName, shape: readonly (number | string)[]): string {
    this.used.add(name);
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  /** Declares `value` (an existing node output) as the graph output `name`, renaming it. */
  output(value: string, name: string, elemType: ElemTypeName, shape: readonly (number | string)[]): void {
    const node = this.nodes.find((n) => n.outputs.includes(value));
    if (!node) throw new Error(`no node produces ${value}`);
    (node.outputs as string[])[node.outputs.indexOf(value)] = name;
    this.outputs.push({ name, elemType, shape });
  }

  initializer(name: string, elemType: ElemTypeName, dims: readonly number[], raw: Buffer): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, elemType, dims, raw });
    return unique;
  }

  floats(name: string, dims: readonly number[], data: Float32Array): string {
    return this.initializer(name, 'float', dims, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  int64s(name: string, dims: readonly number[], data: readonly number[]): string {
    return this.initializer(name, 'int64', dims, Buffer.from(BigInt64Array.from(data.map(BigInt)).buffer));
  }

  /** A float32 scalar (rank 0) shared by every node that needs the same value. */
  scalar(value: number): string {
    return this.cached(`f:${value}`, () => this.floats('const_f', [], Float32Array.of(value)));
  }

  /** An int64 scalar (rank 0), e.g. Range's bounds. */
  scalarInt(value: number): string {
    return this.cached(`s:${value}`, () => this.int64s('const_s', [], [value]));
  }

  /** An int64 1-D constant, shared by equal uses (shapes, axes, slice bounds). */
  vector(values: readonly number[]): string {
    return this.cached(`i:${values.join(',')}`, () => this.int64s('const_i', [values.length], values));
  }

  private cached(key: string, make: () => string): string {
    let name = this.scalarCache.get(key);
    if (!name) {
      name = make();
      this.scalarCache.set(key, name);
    }
    return name;
  }

  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}): string {
    return this.opN(opType, inputs, 1, attributes)[0]!;
  }

  opN(opType: string, inputs: readonly string[], outputCount: number, attributes: Record<string, AttributeValue> = {}): string[] {
    const base = this.scope ? `/${this.scope}/${opType}` : `/${opType}`;
    const name = this.unique(base);
    const outputs = Array.from({ length: outputCount }, (_, i) => this.unique(`${name}_output_${i}`));
    this.nodes.push({ opType, inputs, outputs, name, attributes });
    return outputs;
  }

  build(): GraphValue {
    return { name: this.graphName, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs };
  }
}
