#!/usr/bin/env python3
"""scikit-learn baseline for cryptanet-detect, on exactly the rows the Rust
benchmark used (split indices written by `detect-bench adbench --out DIR`).

Runs IsolationForest, LocalOutlierFactor(novelty) and OneClassSVM with PyOD's
default settings, then prints them beside the Rust figures (RESULT lines of
`detect-bench`) with ratios. Usage:

    detect_baseline.py --data DIR --splits DIR --rust RESULTS.tsv [--seeds 1,2,3]
"""
import argparse
import statistics
import time

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import OneClassSVM


def load_csv(path):
    raw = np.loadtxt(path, delimiter=",", skiprows=1)
    return raw[:, :-1], raw[:, -1].astype(int)


def detectors(seed):
    return {
        "iforest": lambda: IsolationForest(n_estimators=100, max_samples="auto", random_state=seed),
        "lof": lambda: LocalOutlierFactor(n_neighbors=20, novelty=True),
        "ocsvm": lambda: OneClassSVM(kernel="rbf", nu=0.5, gamma="auto"),
    }


def timed(f):
    t = time.perf_counter()
    v = f()
    return v, time.perf_counter() - t


def adbench(args, results):
    for name in ["shuttle", "satellite"]:
        x, y = load_csv(f"{args.data}/{name}.csv")
        acc = {}
        for seed in args.seeds:
            tr = np.loadtxt(f"{args.splits}/{name}_seed{seed}_train.txt", dtype=int)
            te = np.loadtxt(f"{args.splits}/{name}_seed{seed}_test.txt", dtype=int)
            sc = MinMaxScaler().fit(x[tr])
            xtr, xte = sc.transform(x[tr]), sc.transform(x[te])
            for det, make in detectors(seed).items():
                if det in args.skip:
                    continue
                m, fit_s = timed(lambda: make().fit(xtr))
                s, score_s = timed(lambda: -m.score_samples(xte))
                a = acc.setdefault(det, [[], [], [], []])
                a[0].append(roc_auc_score(y[te], s))
                a[1].append(average_precision_score(y[te], s))
                a[2].append(fit_s)
                a[3].append(score_s)
        for det, a in acc.items():
            results[(name, det)] = tuple(statistics.mean(v) for v in a)


def speed(args, results):
    x = np.loadtxt(f"{args.splits}/speed_100k_x8.csv", delimiter=",")
    fits, scores = [], []
    for seed in range(7):
        m, t = timed(lambda: IsolationForest(n_estimators=100, random_state=seed).fit(x))
        fits.append(t)
    for _ in range(7):
        _, t = timed(lambda: m.score_samples(x))
        scores.append(t)
    one = []
    for i in range(200):
        _, t = timed(lambda: m.score_samples(x[i : i + 1]))
        one.append(t)
    results[("speed100k", "iforest")] = (float("nan"), float("nan"), statistics.median(fits), statistics.median(scores))
    results[("verdict", "verdict")] = (float("nan"), float("nan"), float("nan"), statistics.median(one))


def read_rust(path):
    out = {}
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) == 7 and p[0] == "RESULT":
                out[(p[1], p[2].removeprefix("rust_"))] = tuple(float(v) for v in p[3:])
    return out


def ratio(a, b):
    return a / b if b and b == b and a == a and b > 0 else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/datasets")
    ap.add_argument("--splits", required=True)
    ap.add_argument("--rust", required=True)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--skip", default="", help="comma-separated sklearn detectors to skip")
    args = ap.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.skip = set(filter(None, args.skip.split(",")))
    sk = {}
    adbench(args, sk)
    speed(args, sk)
    rust = read_rust(args.rust)
    import sklearn

    print(f"# scikit-learn {sklearn.__version__} vs cryptanet-detect, same splits, same machine, same run")
    hdr = f"{'data':<10} {'detector':<9} {'sk ROC':>7} {'rs ROC':>7} {'Δ':>7} {'sk PR':>7} {'rs PR':>7} {'sk fit s':>9} {'rs fit s':>9} {'sk/rs':>6} {'sk score s':>10} {'rs score s':>10} {'sk/rs':>7}"
    print(hdr)
    for (data, det), s in sk.items():
        r = rust.get((data, det if det != "verdict" else "verdict_for_default"))
        if r is None:
            continue
        print(
            f"{data:<10} {det:<9} {s[0]:>7.4f} {r[0]:>7.4f} {r[0]-s[0]:>+7.4f} {s[1]:>7.4f} {r[1]:>7.4f} "
            f"{s[2]:>9.4f} {r[2]:>9.4f} {ratio(s[2], r[2]):>6.1f} {s[3]:>10.6f} {r[3]:>10.6f} {ratio(s[3], r[3]):>7.1f}"
        )
    for (data, det), r in rust.items():
        if (data, det) in sk or (data, det) == ("verdict", "verdict_for_default") or data == "speed100k":
            continue
        print(f"{data:<10} {det:<9} {'-':>7} {r[0]:>7.4f} {'':>7} {'-':>7} {r[1]:>7.4f} {'-':>9} {r[2]:>9.4f} {'':>6} {'-':>10} {r[3]:>10.6f}")
    print("# speed100k: IsolationForest on the same 100000 x 8 matrix; verdict rows: sklearn one-row IsolationForest.score_samples vs Rust one-row verdict_for (features+score+explanation+rules) of the default and the all-members model")


if __name__ == "__main__":
    main()
