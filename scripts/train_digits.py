#!/usr/bin/env python3
"""Trains crowdsift's Arabic-Indic digit reader (crates/ocr/src/digits.rs) on the lines of
scripts/make_digits_set.py and measures it on the fonts held out of training.

    pip install torch onnx                 # training only; crowdsift runs the ONNX file with ONNX Runtime
    python3 scripts/make_digits_set.py --out bench/work/digits
    python3 scripts/train_digits.py bench/work/digits models/ocr/arabic_digits.onnx

The net reads a line crop 32 pixels high and any width, standardised inside the net (zero mean, unit
variance, the deviation at least 4 grey levels: ink colour and paper do not matter): five
convolutions with batch norm and ReLU (16, 32, 64, 96, 96 channels; 2x2 max pools after the first
two, 2x1 after the next two, the last 2 high so that one row is left), two convolutions along the
line (5 wide), and one class score per step of 4 pixels; the output is the softmax over the
classes of make_digits_set.ALPHABET with CTC's blank first. CTC loss, AdamW (learning rate 2e-3,
weight decay 1e-4, one-cycle), batches of 64, seed 19, two threads.

Writes the ONNX file (input `image` [N, 1, 32, W] grey 0-255, output `probs` [N, W/4, classes]),
`<name>.training.json` beside it (log, held-out accuracy per font), `<name>.reference.json` (twelve
held-out lines, grey bytes, and the probabilities PyTorch gives them: crates/ocr's tests check that
ONNX Runtime gives the same),
and bench/results/arabic_digits.md.
"""
from __future__ import annotations

import base64
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_digits_set import ALPHABET, H  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLASSES = len(ALPHABET) + 1
EPOCHS = 10
BATCH = 64


class Net(nn.Module):
    def __init__(self):
        super().__init__()

        def block(a, b, k=3, pool=None):
            layers = [nn.Conv2d(a, b, k, padding=(1, 1) if k == 3 else 0), nn.BatchNorm2d(b), nn.ReLU()]
            if pool:
                layers.append(nn.MaxPool2d(pool))
            return layers

        self.cnn = nn.Sequential(*block(1, 16, pool=(2, 2)), *block(16, 32, pool=(2, 2)), *block(32, 64, pool=(2, 1)),
                                 *block(64, 96, pool=(2, 1)), *block(96, 96, k=(2, 1)))
        self.seq = nn.Sequential(nn.Conv2d(96, 96, (1, 5), padding=(0, 2)), nn.ReLU(),
                                 nn.Conv2d(96, 96, (1, 5), padding=(0, 2)), nn.ReLU(), nn.Conv2d(96, CLASSES, 1))

    def forward(self, x):
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        std = ((x - mean) ** 2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp(min=4.0)
        x = self.seq(self.cnn((x - mean) / std))  # [N, C, 1, T]
        return x.squeeze(2).permute(0, 2, 1)  # logits [N, T, C]


class Exported(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image):
        return self.net(image).softmax(-1)


def greedy(probs: np.ndarray) -> str:
    best = probs.argmax(-1)
    out, prev = [], 0
    for c in best:
        if c != prev and c != 0:
            out.append(ALPHABET[c - 1])
        prev = c
    return "".join(out)


def truth(t, n) -> str:
    return "".join(ALPHABET[c - 1] for c in t[:n])


def numbers(s: str) -> str:
    """A reading as the OCR stage uses it: each run of letters one `X` (the reader says where words
    are, how many letters they have does not matter)."""
    return re.sub("X+", "X", s)


def arabic_digits(s: str) -> int:
    return sum("٠" <= c <= "٩" for c in s)


def evaluate(net, d, index):
    """Per font [lines, numbers right, lines with Arabic-Indic digits, of them right, lines
    without, of them read with four or more Arabic-Indic digits]."""
    net.eval()
    per_font: dict = {}
    with torch.no_grad():
        for i in range(0, len(d["images"]), 256):
            # (Lines are edge-padded to the set's width: the padding reads as blank.)
            x = torch.from_numpy(d["images"][i:i + 256]).float().unsqueeze(1)
            probs = net(x).softmax(-1).numpy()
            for j, p in enumerate(probs):
                k = i + j
                w = int(d["widths"][k]) // 4
                read, want = greedy(p[:w + 1]), truth(d["targets"][k], d["lengths"][k])
                ok = numbers(read) == numbers(want)
                a = per_font.setdefault(index[int(d["fonts"][k])]["font"], [0] * 6)
                a[0] += 1
                a[1] += ok
                if arabic_digits(want):
                    a[2] += 1
                    a[3] += ok
                else:
                    a[4] += 1
                    a[5] += arabic_digits(read) >= 4
    net.train()
    total = np.sum(list(per_font.values()), axis=0)
    return total, per_font


def main():
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    torch.manual_seed(19)
    torch.set_num_threads(2)
    rng = np.random.default_rng(19)
    train = dict(np.load(data / "train.npz"))
    test = dict(np.load(data / "eval.npz"))
    index = json.loads((data / "fonts.json").read_text())
    net = Net()
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = EPOCHS * (len(train["images"]) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.15)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    log = []
    start = time.time()
    for epoch in range(1, EPOCHS + 1):
        # Batches of lines of like width, cut to the widest of them: half the work of padding
        # every line to the set's width.
        order = rng.permutation(len(train["images"]))
        batches = []
        for c in range(0, len(order), BATCH * 32):
            chunk = sorted(order[c:c + BATCH * 32], key=lambda k: train["widths"][k])
            batches += [chunk[i:i + BATCH] for i in range(0, len(chunk), BATCH) if len(chunk[i:i + BATCH]) == BATCH]
        rng.shuffle(batches)
        losses = []
        for idx in batches:
            w = int(train["widths"][idx].max())
            w += (-w) % 4
            x = torch.from_numpy(train["images"][idx][:, :, :w]).float().unsqueeze(1)
            logp = net(x).log_softmax(-1).permute(1, 0, 2)  # [T, N, C]
            t = torch.from_numpy(train["targets"][idx]).long()
            n = torch.from_numpy(train["lengths"][idx]).long()
            steps_in = torch.full((len(idx),), logp.shape[0], dtype=torch.long)
            loss = ctc(logp, t, steps_in, n)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        total, _ = evaluate(net, test, index)
        acc = total[1] / total[0]
        log.append([epoch, round(float(np.mean(losses)), 4), round(acc, 4)])
        print(f"epoch {epoch}: loss {np.mean(losses):.4f}, held-out numbers right {acc:.4f}, {time.time() - start:.0f} s",
              flush=True)
    total, per_font = evaluate(net, test, index)
    acc = total[1] / total[0]
    net.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    # (The wrapper is put in eval mode too: export leaves a module in the mode it found it in, and
    # the new wrapper's mode is training, which would put the batch norms back to batch statistics.)
    exported = Exported(net).eval()
    dummy = torch.full((1, 1, H, 160), 200.0)
    torch.onnx.export(exported, (dummy,), str(out), input_names=["image"], output_names=["probs"],
                      dynamic_axes={"image": {0: "n", 3: "w"}, "probs": {0: "n", 1: "t"}}, opset_version=17,
                      dynamo=False)
    exported.eval()
    torch.save(net.state_dict(), data / "arabic_digits.pt")  # to measure again without training
    # Reference lines: the first twelve held-out lines with Arabic-Indic digits in their truth.
    refs = []
    for k in range(len(test["images"])):
        t = truth(test["targets"][k], test["lengths"][k])
        if any("٠" <= c <= "٩" for c in t):
            w = int(test["widths"][k])
            img = test["images"][k][:, : w + (-w) % 4]
            with torch.no_grad():
                p = exported(torch.from_numpy(img).float()[None, None]).numpy()[0]
            refs.append({"width": img.shape[1], "grey": base64.b64encode(img.astype(np.uint8).tobytes()).decode(),
                         "truth": t, "read": greedy(p), "max_probs": [round(float(v), 5) for v in p.max(-1)]})
        if len(refs) == 12:
            break
    side = out.with_name(out.stem + ".training.json")
    side.write_text(json.dumps({"epochs": EPOCHS, "seconds": round(time.time() - start), "train_lines": len(train["images"]),
                                "eval_lines": len(test["images"]), "alphabet": ALPHABET, "log": log,
                                "held_out_numbers_right": round(acc, 4),
                                "per_font": {f: [int(v) for v in a] for f, a in per_font.items()}}, indent=1,
                               ensure_ascii=False))
    out.with_name(out.stem + ".reference.json").write_text(json.dumps({"lines": refs}, ensure_ascii=False))
    def share(a, b):
        return f"{a / b:.3f}" if b else "–"

    rows = "\n".join(f"| {f} | {a[0]} | {share(a[1], a[0])} | {a[2]} | {share(a[3], a[2])} | {a[4]} | {a[5]} |"
                     for f, a in sorted(per_font.items()))
    (ROOT / "bench/results/arabic_digits.md").write_text(
        "# Arabic-Indic digit reader: held-out fonts\n\n"
        f"`python3 scripts/make_digits_set.py --out bench/work/digits && python3 scripts/train_digits.py "
        f"bench/work/digits {out}`: {len(train['images'])} training lines in fonts of npm's @fontsource, "
        f"{len(test['images'])} evaluation lines in the fonts crowdsift's generated sets draw with (never trained on). "
        "A line's numbers are right when every digit and separator read is right, in display order, and its words "
        "are where they are (each run of letters is one `X`). Latin lines misread: lines without Arabic-Indic digits "
        "read with four or more (the OCR stage would take them).\n\n"
        f"After {EPOCHS} epochs: numbers right on **{share(total[1], total[0])}** of the lines, "
        f"**{share(total[3], total[2])}** of those in Arabic-Indic digits; "
        f"**{int(total[5])}** of {int(total[4])} lines without them read with four or more.\n\n"
        "| font | lines | numbers right | lines in Arabic-Indic digits | right | lines without | read with 4+ |\n"
        f"|---|---|---|---|---|---|---|\n{rows}\n")
    print(f"held-out numbers right {acc:.4f}; wrote {out} and {side}")


if __name__ == "__main__":
    main()
