"""The images every parity/reference.py scores: 20 smooth random 64x64 scenes (truth) and noisy copies (pred),
8-bit as PNG files would hold them, saved as truth.npy and pred.npy in the working folder for the TypeScript side."""
import numpy as np


def parity_images(n=20, size=64):
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:size, 0:size] / size
    wave = lambda: 0.5 + 0.4 * np.sin(2 * np.pi * (rng.uniform(.5, 3) * xx + rng.uniform(.5, 3) * yy) + rng.uniform(0, 6))
    truth = np.stack([np.stack([wave() for _ in range(3)], -1) for _ in range(n)])
    pred = np.clip(truth + 0.9 * rng.standard_normal(truth.shape), 0, 1)
    q = lambda a: np.round(np.clip(a, 0, 1) * 255).astype(np.uint8)
    truth8, pred8 = q(truth), q(pred)
    np.save('truth.npy', truth8)
    np.save('pred.npy', pred8)
    return truth8, pred8
