/**
 * RVC's analysis grid: everything before the synthesizer (input decoding, high-pass, pitch,
 * ContentVec features, chunk cuts) runs on 16 kHz mono audio in frames of 160 samples, 100 per
 * second. One home for both numbers, so the stages cannot drift apart.
 */
export const ANALYSIS_RATE = 16000;
/** Samples per f0/feature frame at ANALYSIS_RATE (100 frames/s). */
export const FRAME_HOP = 160;
