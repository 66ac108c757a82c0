import { FLOW_KERNEL, FLOW_LAYERS, FLOWS } from '../rvcArchitecture.ts';
import { int } from './graphBuilder.ts';
import type { Layers } from './synthLayers.ts';

/**
 * RVC's `flow` (ResidualCouplingBlock, mean-only coupling layers with WaveNet-style WN blocks and
 * channel flips) run in reverse, as inference does: prior sample z_p → latent z. Shapes are fixed
 * by RVC: kernel 5, dilation rate 1, 3 WN layers, 4 flows.
 */

export interface FlowShape {
  interChannels: number;
  hiddenChannels: number;
}

/** modules.WN.forward with a speaker condition: gated tanh·sigmoid units with residual and skip sums. */
async function waveNet(l: Layers, prefix: string, x: string, xMask: string, speaker: string, hidden: number): Promise<string> {
  const cond = await l.conv1d(speaker, `${prefix}.cond_layer`);
  const padding = (FLOW_KERNEL - 1) / 2;
  let output: string | null = null;
  let h = x;
  for (let i = 0; i < FLOW_LAYERS; i++) {
    const xIn = await l.conv1d(h, `${prefix}.in_layers.${i}`, { padding: [padding, padding] });
    const gl = l.slice(cond, 1, i * 2 * hidden, (i + 1) * 2 * hidden);
    const inAct = l.add(xIn, gl);
    const acts = l.mul(l.g.op('Tanh', [l.slice(inAct, 1, 0, hidden)]), l.g.op('Sigmoid', [l.slice(inAct, 1, hidden, 2 * hidden)]));
    const resSkip = await l.conv1d(acts, `${prefix}.res_skip_layers.${i}`);
    if (i < FLOW_LAYERS - 1) {
      h = l.mul(l.add(h, l.slice(resSkip, 1, 0, hidden)), xMask);
      const skip = l.slice(resSkip, 1, hidden, 2 * hidden);
      output = output ? l.add(output, skip) : skip; // torch starts from zeros: 0 + a is a
    } else {
      output = output ? l.add(output, resSkip) : resSkip;
    }
  }
  return l.mul(output!, xMask);
}

async function couplingReverse(l: Layers, prefix: string, x: string, xMask: string, speaker: string, shape: FlowShape): Promise<string> {
  const half = shape.interChannels / 2;
  const x0 = l.slice(x, 1, 0, half);
  const x1 = l.slice(x, 1, half, shape.interChannels);
  let h = l.mul(await l.conv1d(x0, `${prefix}.pre`), xMask);
  h = await waveNet(l, `${prefix}.enc`, h, xMask, speaker, shape.hiddenChannels);
  const mean = l.mul(await l.conv1d(h, `${prefix}.post`), xMask);
  // mean_only: logs = 0, so torch's exp(−logs) factor is exactly 1 and is left out.
  const shifted = l.mul(l.g.op('Sub', [x1, mean]), xMask);
  return l.g.op('Concat', [x0, shifted], { axis: int(1) });
}

export async function flowReverse(l: Layers, z: string, xMask: string, speaker: string, shape: FlowShape): Promise<string> {
  return l.g.withinAsync('flow', async () => {
    const flipped = l.g.int64s(
      'flow.flip_index',
      [shape.interChannels],
      Array.from({ length: shape.interChannels }, (_, i) => shape.interChannels - 1 - i),
    );
    let x = z;
    // flows = [coupling 0, flip, coupling 1, flip, …]; reverse order: flip, coupling 3, flip, coupling 2, …
    for (let i = FLOWS - 1; i >= 0; i--) {
      x = l.g.op('Gather', [x, flipped], { axis: int(1) });
      x = await couplingReverse(l, `flow.flows.${2 * i}`, x, xMask, speaker, shape);
    }
    return x;
  });
}
