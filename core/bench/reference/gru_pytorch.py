"""PyTorch's side of `neurodecode bench --only gru-epoch`: one training epoch of the same BiGRU mapper.

Run by core/bench/reference.ts with the bench's sizes; prints one JSON line. The network is plugins/gru's (seed
000, Veronese et al.): BiGRU(voxels -> 100 per direction) -> LayerNorm -> Dropout(0.2) -> BiGRU(200 -> 100 per
direction) -> LayerNorm -> Linear(200 -> 200) -> BatchNorm1d -> ReLU -> Dropout(0.2) -> Linear(200 -> targets), on
input (batch, 1, voxels); Adam (lr 1e-3), MSE, shuffled batches. Data: unit-variance uniform noise (as the bench).
Timed: the epoch only (not data generation).
"""
import argparse, json, platform, sys, time

import torch
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--train-rows", type=int, required=True)
parser.add_argument("--voxels", type=int, required=True)
parser.add_argument("--targets", type=int, required=True)
parser.add_argument("--batch-size", type=int, required=True)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--threads", type=int, required=True, help="as many as the bench's own engine uses")
a = parser.parse_args()
torch.manual_seed(a.seed)
torch.set_num_threads(a.threads)


class GruMapper(nn.Module):
    def __init__(self, voxels, targets, hidden=100, dense=200, dropout=0.2):
        super().__init__()
        self.gru1 = nn.GRU(voxels, hidden, batch_first=True, bidirectional=True)
        self.norm1 = nn.LayerNorm(2 * hidden)
        self.dropout1 = nn.Dropout(dropout)
        self.gru2 = nn.GRU(2 * hidden, hidden, batch_first=True, bidirectional=True)
        self.norm2 = nn.LayerNorm(2 * hidden)
        self.fc1 = nn.Linear(2 * hidden, dense)
        self.bn1 = nn.BatchNorm1d(dense)
        self.dropout2 = nn.Dropout(dropout)
        self.fc2 = nn.Linear(dense, targets)

    def forward(self, x):
        h = self.dropout1(self.norm1(self.gru1(x)[0]))
        h = self.norm2(self.gru2(h)[0])[:, -1]
        return self.fc2(self.dropout2(torch.relu(self.bn1(self.fc1(h)))))


def noise(rows, cols):
    return (torch.rand(rows, cols) - 0.5) * (12 ** 0.5)


X, Y = noise(a.train_rows, a.voxels), noise(a.train_rows, a.targets)
model = GruMapper(a.voxels, a.targets)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.MSELoss()
model.train()
started = time.perf_counter()
for batch in torch.randperm(a.train_rows).split(a.batch_size):
    optimizer.zero_grad()
    loss = loss_fn(model(X[batch].unsqueeze(1)), Y[batch])
    loss.backward()
    optimizer.step()
seconds = time.perf_counter() - started
print(json.dumps(dict(tool=f"PyTorch {torch.__version__}", versions=dict(python=platform.python_version(), torch=torch.__version__),
                      threads=torch.get_num_threads(), parameters=sum(p.numel() for p in model.parameters()), epochSeconds=seconds)))
sys.stdout.flush()
