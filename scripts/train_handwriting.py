#!/usr/bin/env python3
"""Trains crowdsift's handwriting classifier (crates/ocr/src/style.rs) on the crops of
scripts/make_handwriting_set.py and measures it on the fonts held out of training.

    pip install torch safetensors          # training only; crowdsift runs the net with candle
    python3 scripts/make_handwriting_set.py --out bench/work/handwriting
    python3 scripts/train_handwriting.py bench/work/handwriting models/ocr/handwriting.safetensors
    python3 scripts/train_handwriting.py --eval-only DIR WEIGHTS   # measure trained weights again

The net is the one crates/ocr/src/style.rs runs: four 3x3 convolutions (8, 16, 32, 32 channels,
padding 1) with ReLU, 2x2 max pools after the first three, global average pooling, one logit. Each
crop (32 x 128, grey) is standardised on its own (zero mean, unit variance, the deviation at
least 4 grey levels), as the Rust side does. AdamW (learning rate 2e-3, weight decay 1e-4, cosine
decay), batches of 128, 8 epochs, binary cross-entropy, seed 17, two threads.

Writes the weights (safetensors: conv{i}.weight, conv{i}.bias, fc.weight, fc.bias), the training
log beside them (`<name>.training.json`, what --eval-only reports with a new evaluation split), beside them
`<name>.reference.json` (twelve held-out crops, grey bytes, and the probabilities PyTorch gives them:
crates/ocr's tests check that candle gives the same), and bench/results/handwriting.md with the
held-out accuracy per font.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

H, W = 32, 128
ROOT = Path(__file__).resolve().parent.parent
# Faces whose crops are seen this many times an epoch (none in the shipped model). Measured
# 2026-12-06: the handwriting-style faces of the scripts other than Latin (kalam, amita, galada,
# atma, aref-ruqaa(-ink), charm, sriracha, itim, mali) three times over brought the held-out
# Devanagari hand (Dekko) from 0.25 to 0.47 and Latin hands from 0.82 to 0.84, but took typed
# Bengali from 0.985 to 0.925, and in bench/pii_leak.py two handwritten values of one note were
# released (0 without it): not shipped.
OVERSAMPLED: dict = {}


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        chans = [1, 8, 16, 32, 32]
        self.convs = torch.nn.ModuleList(torch.nn.Conv2d(a, b, 3, padding=1) for a, b in zip(chans, chans[1:]))
        self.fc = torch.nn.Linear(32, 1)

    def forward(self, x):
        for i, c in enumerate(self.convs):
            x = torch.relu(c(x))
            if i < len(self.convs) - 1:
                x = torch.nn.functional.max_pool2d(x, 2)
        return self.fc(x.mean(dim=(2, 3))).squeeze(1)


def load(d: Path, split: str):
    x = np.frombuffer((d / f"{split}.bin").read_bytes(), dtype=np.uint8).reshape(-1, 1, H, W).astype(np.float32)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    sd = np.maximum(x.std(axis=(1, 2, 3), keepdims=True), 4.0)
    x = (x - mean) / sd
    y = np.frombuffer((d / f"{split}.labels").read_bytes(), dtype=np.uint8).astype(np.float32)
    f = np.frombuffer((d / f"{split}.fonts").read_bytes(), dtype="<u2")
    return torch.from_numpy(x), torch.from_numpy(y), f


def load_weights(path: Path) -> Net:
    from safetensors.torch import load_file

    t = load_file(str(path))
    net = Net()
    state = {f"convs.{i}.{k}": t[f"conv{i}.{k}"] for i in range(4) for k in ("weight", "bias")}
    state.update({"fc.weight": t["fc.weight"], "fc.bias": t["fc.bias"]})
    net.load_state_dict(state)
    return net


def main():
    args = [a for a in sys.argv[1:] if a != "--eval-only"]
    if len(args) < 2:
        raise SystemExit(__doc__)
    d, out = Path(args[0]), Path(args[1])
    torch.manual_seed(17)
    torch.set_num_threads(2)
    xe, ye, fe = load(d, "eval")
    fonts = json.loads((d / "fonts.json").read_text())
    log_path = out.with_suffix(".training.json")
    if "--eval-only" in sys.argv:
        net = load_weights(out)
        net.eval()
        with torch.no_grad():
            pe = torch.sigmoid(torch.cat([net(xe[i:i + 1024]) for i in range(0, len(ye), 1024)]))
        training = json.loads(log_path.read_text())
        report(d, out, net, xe, ye, fe, pe, fonts, training)
        return
    epochs = int(args[2]) if len(args) > 2 else 8
    xt, yt, ft = load(d, "train")
    # Each epoch's order: every crop once, the oversampled faces' crops again.
    extra = [i for i, f in enumerate(ft.tolist()) for _ in range(OVERSAMPLED.get(fonts[f]["font"], 1) - 1)]
    pool = torch.cat([torch.arange(len(yt)), torch.tensor(extra, dtype=torch.long)])
    net = Net()
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = epochs * ((len(pool) + 127) // 128)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen = torch.Generator().manual_seed(17)
    started = time.time()
    log = []
    for epoch in range(epochs):
        net.train()
        order = pool[torch.randperm(len(pool), generator=gen)]
        total = 0.0
        for i in range(0, len(order), 128):
            idx = order[i:i + 128]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        net.eval()
        with torch.no_grad():
            pe = torch.sigmoid(torch.cat([net(xe[i:i + 1024]) for i in range(0, len(ye), 1024)]))
        acc = ((pe >= 0.5).float() == ye).float().mean().item()
        log.append((epoch + 1, total / len(order), acc))
        print(f"epoch {epoch + 1}: loss {total / len(order):.4f}, held-out accuracy {acc:.4f} ({time.time() - started:.0f} s)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for i, c in enumerate(net.convs):
        tensors[f"conv{i}.weight"] = c.weight.detach().contiguous()
        tensors[f"conv{i}.bias"] = c.bias.detach().contiguous()
    tensors["fc.weight"] = net.fc.weight.detach().contiguous()
    tensors["fc.bias"] = net.fc.bias.detach().contiguous()
    save_file(tensors, str(out))
    training = {"epochs": epochs, "seconds": round(time.time() - started), "train_crops": len(yt),
                "train_fonts": sum(f["split"] == "train" for f in fonts), "log": log}
    log_path.write_text(json.dumps(training, indent=1))
    report(d, out, net, xe, ye, fe, pe, fonts, training)


def report(d, out, net, xe, ye, fe, pe, fonts, training):
    """The reference crops for the Rust side and bench/results/handwriting.md."""
    # Reference crops for the Rust side: six of each style, as bytes, with PyTorch's probabilities.
    raw = np.frombuffer((d / "eval.bin").read_bytes(), dtype=np.uint8).reshape(-1, H, W)
    # (from the Debian fonts the generated sets are written in: the sanity check the Rust side
    # runs on them expects most of the twelve right)
    debian = [i for i in range(len(ye)) if fonts[fe[i]]["font"].startswith("debian:")]
    pick = [i for i in debian if ye[i] == 1][:6] + [i for i in debian if ye[i] == 0][:6]
    import base64
    ref = {"height": H, "width": W,
           "crops": [{"grey": base64.b64encode(raw[i].tobytes()).decode(), "label": int(ye[i].item()),
                      "p": float(pe[i])} for i in pick]}
    out.with_suffix(".reference.json").write_text(json.dumps(ref, indent=1))
    # The held-out result per font.
    pe = pe.numpy()
    rows = []
    for fid in sorted(set(fe.tolist())):
        m = fe == fid
        label = fonts[fid]["label"]
        right = ((pe[m] >= 0.5) == (label == 1)).mean()
        rows.append((fonts[fid]["font"], "handwriting" if label else "typed", int(m.sum()), right, pe[m].mean()))
    hand = ye.numpy() == 1
    recall = (pe[hand] >= 0.5).mean()
    typed_fp = (pe[~hand] >= 0.5).mean()
    lines = [
        "# Handwriting classifier (crates/ocr/src/style.rs): held-out fonts",
        "",
        f"Trained by scripts/train_handwriting.py on {training['train_crops']} crops of {training['train_fonts']} "
        "fonts (scripts/make_handwriting_set.py: handwriting-style and typed fonts of npm @fontsource packages and "
        f"Debian's Liberation fonts), {training['epochs']} epochs, {training['seconds']} s on 2 cores. Measured on "
        f"{len(ye)} crops of {len(set(fe.tolist()))} fonts it never saw: the Debian handwriting-style, "
        "Noto and DejaVu fonts that crowdsift's generated OCR and personal-data sets are written in, and a "
        "Devanagari handwriting-style face (npm Dekko).",
        "",
        f"Held out: accuracy {((pe >= 0.5) == hand).mean():.3f}; handwriting recall {recall:.3f}; "
        f"typed lines taken for handwriting {typed_fp:.3f} (threshold 0.5).",
        "",
        "| font | style | crops | right | mean p(handwriting) |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {f} | {s} | {n} | {r:.3f} | {p:.3f} |" for f, s, n, r, p in rows]
    lines += ["", "| epoch | training loss | held-out accuracy |", "|---|---|---|"]
    lines += [f"| {e} | {lo:.4f} | {a:.4f} |" for e, lo, a in training["log"]]
    (ROOT / "bench" / "results" / "handwriting.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
