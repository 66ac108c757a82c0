"""Writes rmvpe.double.onnx, a test double of RVC's RMVPE pitch model (not RMVPE itself).

It has the real model's signature (input "input": log-mel float32 [1,128,T], output "output":
salience float32 [1,T,360], T dynamic) so src/core/inference/rmvpePitch.ts can be exercised without
the 180 MB original. Its behaviour is chosen so a test knows the answer:

  salience[t, i] = sigmoid(SLOPE * (mean_m mel[m, t] - KNEE)) * exp(-(i - PEAK_BIN)^2 / (2 * WIDTH^2))

so every voiced frame decodes to bin 150, f0 = 10 * 2^((20 * 150 + 1997.3794084376191) / 1200)
≈ 179.32 Hz, and a digitally silent frame (every band at the log-mel floor log(1e-5) ≈ -11.51)
gets a peak of sigmoid(-6.06) ≈ 0.002, under RVC's 0.03 threshold, so it decodes to 0 (unvoiced).
Unlike RMVPE it calls any audible frame voiced, even noise: only digital silence is unvoiced.
Like RMVPE it refuses a T that is not a multiple of 32.

Made with Debian's python3-torch 1.13 (opset 13, no onnxsim), from the repository root:

    /usr/bin/python3 test/doubles/rmvpe/makeRmvpeDouble.py
"""
import os

import torch

PEAK_BIN = 150
WIDTH = 2.0
# A steady harmonic tone leaves most of the 128 bands at the floor, so its mean log-mel is only about
# -9.5 (measured on a 150 Hz tone with two harmonics at 0.3); the knee sits between that and -11.51.
KNEE = -10.5
SLOPE = 6.0


class RmvpeDouble(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        bins = torch.arange(360, dtype=torch.float32)
        self.register_buffer("peak", torch.exp(-((bins - PEAK_BIN) ** 2) / (2 * WIDTH**2)).view(1, 1, 360))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        # RMVPE's U-Net pools five times, so it only takes T a multiple of 32; this reshape fails at
        # run time otherwise, so the double holds callers to the same padding.
        mel = mel.reshape(1, 128, -1, 32).reshape(1, 128, -1)
        energy = mel.mean(dim=1, keepdim=True).transpose(1, 2)  # [1,T,1]
        return torch.sigmoid(SLOPE * (energy - KNEE)) * self.peak


def main() -> None:
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rmvpe.double.onnx")
    torch.onnx.export(
        RmvpeDouble().eval(),
        torch.zeros(1, 128, 64),
        out,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {2: "T"}, "output": {1: "T"}},
        opset_version=13,
        do_constant_folding=True,
    )
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
