"""PyTorch's training step on the same GPU, the reference for `breastmnist bench --reference-ms`.

MedMNIST's own ResNet for 28 px images (experiments/MedMNIST2D/models.py: a 3x3 stride-1 stem,
no max-pool, BasicBlocks), at our model sizes' widths and blocks; one grayscale channel, two
classes, Adam 1e-3, cross-entropy, f32 with PyTorch's defaults (as the official recipe runs),
one loss readback a step (as ours does). Prints one line per model and batch:
`torch MODEL bB PARAMS ms/step`, the median of the timed steps after the warm-up.

Usage: python3 torch_bench.py [--models small,resnet18] [--batches 32,128] [--steps 20]
"""

import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = {"tiny": (8, [1, 1, 1, 1]), "small": (16, [1, 1, 1, 1]), "medium": (32, [2, 2, 2, 2]), "resnet18": (64, [2, 2, 2, 2])}


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, width, blocks, in_channels=1, num_classes=2):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        layers, cin = [], width
        for i, n in enumerate(blocks):
            cout = width * 2**i
            for j in range(n):
                layers.append(BasicBlock(cin, cout, 2 if (i > 0 and j == 0) else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def step_ms(model_name, batch, steps, device):
    torch.manual_seed(0)
    model = ResNet(*SIZES[model_name]).to(device)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, 28, 28, device=device)
    y = torch.randint(0, 2, (batch,), device=device)
    times = []
    for i in range(steps + 3):
        start = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()  # one readback a step; it also waits for the GPU
        if i >= 3:
            times.append((time.perf_counter() - start) * 1e3)
    return params, statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="small,resnet18")
    ap.add_argument("--batches", default="32,128")
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
    # Newer PyTorch deprecates the allow_tf32 flags; read them without failing.
    conv_tf32 = getattr(torch.backends.cudnn, "allow_tf32", "?")
    matmul_tf32 = getattr(torch.backends.cuda.matmul, "allow_tf32", "?")
    print(f"torch {torch.__version__} on {name}; cudnn.benchmark={torch.backends.cudnn.benchmark}, "
          f"tf32 conv={conv_tf32} matmul={matmul_tf32}")
    for m in a.models.split(","):
        for b in (int(s) for s in a.batches.split(",")):
            params, ms = step_ms(m, b, a.steps, device)
            print(f"torch {m} b{b} {params} {ms:.2f}")


if __name__ == "__main__":
    main()
