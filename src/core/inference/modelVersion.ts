import { isPthModel } from '../models/exportCache.ts';
import { openRvcModel } from '../models/rvcCheckpoint.ts';
import { inspectModel } from './onnxModel.ts';

/**
 * A voice model's RVC version, read from the file: a .pth's own `version` field, an ONNX graph's
 * feature width (v1 takes 256-d ContentVec features, v2 768-d). Decides which ContentVec it needs.
 */
export async function readModelVersion(file: string): Promise<'v1' | 'v2'> {
  if (isPthModel(file)) {
    const model = await openRvcModel(file);
    await model.close();
    return model.version;
  }
  return (await inspectModel(file)).featureSize === 256 ? 'v1' : 'v2';
}
