"""bench:train-step's PyTorch row, a reference only (nothing in slidetriage needs Python): one training step
(forward, backward, Adamax) per image of EfficientNet-B0 or Lite0 with the paper's head, on the CPU with
every core, printing {"msPerImage", "peakMb"}. Usage: python3 torch-train-step.py b0|lite0 (SIZE, BATCH,
STEPS and BN=frozen from the environment; the fastest of STEPS steps after a warm-up, as bench/train-step.ts sets them).

Lite0 is torchvision's B0 with ReLU6 for SiLU and without squeeze-and-excitation, which is what
EfficientNet-Lite0 is at width and depth 1.0 (its stem and head are B0's).
"""
import json
import os
import resource
import sys
import time

import torch
from torch import nn
import torchvision

variant = sys.argv[1]
size = int(os.environ.get("SIZE", 224))
batch = int(os.environ.get("BATCH", 16))
steps = int(os.environ.get("STEPS", 3))
frozen = os.environ.get("BN") == "frozen"
torch.set_num_threads(os.cpu_count() or 1)
torch.manual_seed(1)


def lite(model: nn.Module) -> nn.Module:
    for name, child in model.named_children():
        if isinstance(child, nn.SiLU):
            setattr(model, name, nn.ReLU6(inplace=True))
        elif type(child).__name__ == "SqueezeExcitation":
            setattr(model, name, nn.Identity())
        else:
            lite(child)
    return model


backbone = torchvision.models.efficientnet_b0(weights=None).features
if variant == "lite0":
    backbone = lite(backbone)


class PaperHead(nn.Module):
    """Global max pooling, batch norm, dense 256 (L2 on its kernel, L1 on its bias and activity), dropout 0.2, softmax."""

    def __init__(self, channels: int, classes: int):
        super().__init__()
        self.bn = nn.BatchNorm1d(channels, eps=1e-3, momentum=0.01)
        self.dense = nn.Linear(channels, 256)
        self.drop = nn.Dropout(0.2)
        self.out = nn.Linear(256, classes)

    def forward(self, x):
        h = torch.relu(self.dense(self.bn(torch.amax(x, dim=(2, 3)))))
        return self.out(self.drop(h)), h


model = nn.Sequential(backbone)
head = PaperHead(1280, 4)
params = list(model.parameters()) + list(head.parameters())
optimizer = torch.optim.Adamax(params, lr=0.001)
model.train()
head.train()
if frozen:
    for m in list(model.modules()) + list(head.modules()):
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.eval()
x = torch.rand(batch, 3, size, size)
y = torch.arange(batch) % 4
loss_fn = nn.CrossEntropyLoss()


def step():
    optimizer.zero_grad(set_to_none=True)
    logits, h = head(model(x))
    loss = loss_fn(logits, y) + 0.016 * head.dense.weight.pow(2).sum() + 0.006 * head.dense.bias.abs().sum() + 0.006 * h.abs().sum() / batch
    loss.backward()
    optimizer.step()


step()
best = float("inf")
for _ in range(steps):
    t0 = time.perf_counter()
    step()
    best = min(best, time.perf_counter() - t0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"msPerImage": best * 1000 / batch, "peakMb": peak, "note": f"torch {torch.__version__}, {torch.get_num_threads()} threads, {batch} images a pass"}))
