"""scikit-learn's side of `neurodecode bench --only ridge`: Ridge fit + predict on data of the same shapes and kind.

Run by core/bench/reference.ts with the bench's sizes; prints one JSON line. Data: voxels driven by 64 shared
factors plus uniform noise, targets from the same factors plus noise (as plugins/ridge/bench.ts), float32, voxels
z-scored with training statistics beforehand (as Brain-Diffuser does; not timed). Timed: Ridge(alpha).fit on the
training rows, then predict on the test rows — what Brain-Diffuser's regression stage runs per latent. Also
timed: numpy's float32 square matmul (the BLAS's peak on this machine, for the bench's op-count limit).
"""
import argparse, json, platform, sys, time

import numpy as np
import sklearn
from sklearn.linear_model import Ridge

parser = argparse.ArgumentParser()
parser.add_argument("--train-rows", type=int, required=True)
parser.add_argument("--voxels", type=int, required=True)
parser.add_argument("--test-rows", type=int, required=True)
parser.add_argument("--targets", type=str, required=True, help="comma-separated target counts, one fit each")
parser.add_argument("--alpha", type=float, required=True)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--threads", type=int, required=True, help="as many as the bench's own engine uses")
a = parser.parse_args()
try:
    from threadpoolctl import threadpool_info, threadpool_limits
    threadpool_limits(a.threads)
except ImportError:  # threadpoolctl ships with scikit-learn; without it BLAS keeps its own thread count
    threadpool_info = None

rng = np.random.default_rng(a.seed)
rank = 64
n, p, m = a.train_rows, a.voxels, a.test_rows
factors = rng.standard_normal((n + m, rank), dtype=np.float32)


def mix(left, cols, noise):
    out = left @ rng.standard_normal((rank, cols), dtype=np.float32)
    out *= np.float32(1 / np.sqrt(rank))
    out += (rng.random(out.shape, dtype=np.float32) - np.float32(0.5)) * np.float32(noise * np.sqrt(12))
    return out


X = mix(factors, p, 1)
mean, sd = X[:n].mean(0), X[:n].std(0, ddof=1)
sd[sd == 0] = 1
X -= mean
X /= sd
Xtrain, Xtest = X[:n], X[n:]

results = []
for t in [int(v) for v in a.targets.split(",")]:
    Y = mix(factors[:n], t, 2)
    started = time.perf_counter()
    model = Ridge(alpha=a.alpha, fit_intercept=True).fit(Xtrain, Y)
    fitted = time.perf_counter()
    model.predict(Xtest)
    done = time.perf_counter()
    results.append(dict(targets=t, fitSeconds=fitted - started, predictSeconds=done - fitted))
    del model, Y

# The BLAS's own peak on this machine (float32 square matmul, best of 3): the bench's op-count limit uses it too.
size = 4096 if n >= 4096 else 1024
A = rng.standard_normal((size, size), dtype=np.float32)
A @ A
best = float("inf")
for _ in range(3):
    started = time.perf_counter()
    A @ A
    best = min(best, time.perf_counter() - started)
peak_gflops = 2 * size**3 / best / 1e9

blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
        for i in (threadpool_info() if threadpool_info else []) if i.get("user_api") == "blas"]
print(json.dumps(dict(tool=f"scikit-learn {sklearn.__version__}", versions=dict(python=platform.python_version(), numpy=np.__version__,
                      sklearn=sklearn.__version__), blas=blas, peakGflops=peak_gflops, results=results)))
sys.stdout.flush()
