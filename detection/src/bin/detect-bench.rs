//! Benchmarks for `cryptanet-detect`. Heavy runs live here, not in tests.
//!
//! ```text
//! detect-bench adbench [--data DIR] [--out DIR] [--seeds 1,2,3]
//! detect-bench speed   [--out DIR]
//! detect-bench sim
//! ```
//! `adbench`: ADBench protocol (stratified 70/30 split, min-max scaling fit
//! on the training part) on shuttle and satellite; ROC-AUC, PR-AUC, fit and
//! score time per detector and for the ensemble. `--out` also writes the
//! split indices (and, for `speed`, the 100k × 8 matrix) so
//! `scripts/detect_baseline.py` can run scikit-learn on the same rows.
//! `speed`: isolation-forest fit and batch scoring on 100k × 8, one-row
//! verdict latency. `sim`: detection quality per anomaly type on simulator data.

use anyhow::{bail, Context, Result};
use cryptanet_detect::data::{stratified_split, Labelled, Matrix, MinMaxScaler};
use cryptanet_detect::default_model::{
    all_members_model, dataset, default_config, train_default, DEFAULT_SEED,
};
use cryptanet_detect::density::{DbscanDensity, DensityParams};
use cryptanet_detect::detector::Detector;
use cryptanet_detect::ensemble;
use cryptanet_detect::features::Reading;
use cryptanet_detect::features::FEATURE_NAMES;
use cryptanet_detect::iforest::{IForestParams, IsolationForest};
use cryptanet_detect::lof::{Lof, LofParams};
use cryptanet_detect::metrics::{pr_auc, prf, roc_auc};
use cryptanet_detect::model::fit_candidates;
use cryptanet_detect::ocsvm::{Ocsvm, OcsvmParams};
use cryptanet_detect::rng::Rng;
use cryptanet_detect::robust::{RobustZ, ZAggregate};
use cryptanet_detect::sim::{AnomalyKind, Shipment, SimConfig};
use cryptanet_detect::ReadingContext;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

struct Args {
    mode: String,
    data: PathBuf,
    out: Option<PathBuf>,
    seeds: Vec<u64>,
}

fn parse_args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let mode = it.next().unwrap_or_else(|| "all".into());
    let mut a = Args {
        mode,
        data: PathBuf::from("/work/shared/datasets"),
        out: None,
        seeds: vec![1, 2, 3],
    };
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--data" => a.data = v.into(),
            "--out" => a.out = Some(v.into()),
            "--seeds" => {
                a.seeds = v
                    .split(',')
                    .map(|s| s.parse::<u64>())
                    .collect::<Result<_, _>>()?
            }
            _ => bail!("unknown flag {flag}"),
        }
    }
    Ok(a)
}

/// On-CPU time of this thread in seconds (Linux `schedstat`), so that
/// figures are not inflated by other processes on a shared machine.
fn cpu_now() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}

/// Runs `f`, returning (value, wall seconds, on-CPU seconds).
fn timed_cpu<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let c0 = cpu_now();
    let t = Instant::now();
    let v = f();
    let wall = t.elapsed().as_secs_f64();
    let cpu = match (c0, cpu_now()) {
        (Some(a), Some(b)) => b - a,
        _ => f64::NAN,
    };
    (v, wall, cpu)
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed().as_secs_f64())
}

#[derive(Default)]
struct Acc {
    roc: Vec<f64>,
    pr: Vec<f64>,
    fit: Vec<f64>,
    score: Vec<f64>,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn write_idx(path: &Path, idx: &[usize]) -> Result<()> {
    let mut s = String::with_capacity(idx.len() * 6);
    for i in idx {
        writeln!(s, "{i}")?;
    }
    std::fs::write(path, s)?;
    Ok(())
}

fn fit_detector(name: &str, x: &Matrix, seed: u64) -> Result<Detector> {
    Ok(match name {
        "iforest" => Detector::IForest(IsolationForest::fit(
            x,
            IForestParams {
                seed,
                ..Default::default()
            },
        )?),
        "lof" => Detector::Lof(Lof::fit(
            x,
            LofParams {
                k: 20,
                seed,
                ..Default::default()
            },
        )?),
        "ocsvm" => Detector::Ocsvm(Ocsvm::fit(
            x,
            OcsvmParams {
                seed,
                ..Default::default()
            },
        )?),
        "dbscan" => Detector::Density(DbscanDensity::fit(
            x,
            DensityParams {
                seed,
                ..Default::default()
            },
        )?),
        "robust_z" => Detector::RobustZ(RobustZ::fit(x, ZAggregate::Rms)?),
        "robust_zmax" => Detector::RobustZ(RobustZ::fit(x, ZAggregate::Max)?),
        _ => bail!("unknown detector {name}"),
    })
}

const DETECTORS: [&str; 6] = [
    "iforest",
    "lof",
    "ocsvm",
    "dbscan",
    "robust_z",
    "robust_zmax",
];

fn adbench(a: &Args) -> Result<()> {
    println!(
        "# ADBench protocol: stratified 70/30 split, min-max scaling fit on train, seeds {:?}",
        a.seeds
    );
    println!("# lof k=20 on all training rows (k-d tree); ocsvm rbf gamma=1/d nu=0.5 trained on a 2000-row subsample; dbscan min_points=10 on a 2000-row subsample");
    println!("# ensemble: members/weights chosen on a stratified 30% validation part of the training split (labels used there only), then applied to the detectors fitted on the whole training split");
    for name in ["shuttle", "satellite"] {
        let text = std::fs::read_to_string(a.data.join(format!("{name}.csv")))
            .with_context(|| format!("reading {name}.csv"))?;
        let table = Labelled::parse_csv(&text)?;
        let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
        let mut chosen = Vec::new();
        for &seed in &a.seeds {
            let (tr, te) = stratified_split(&table.y, 0.7, seed);
            if let Some(out) = &a.out {
                std::fs::create_dir_all(out)?;
                write_idx(&out.join(format!("{name}_seed{seed}_train.txt")), &tr)?;
                write_idx(&out.join(format!("{name}_seed{seed}_test.txt")), &te)?;
            }
            let train = table.select(&tr);
            let test = table.select(&te);
            let scaler = MinMaxScaler::fit(&train.x);
            let xtr = scaler.transform(&train.x);
            let xte = scaler.transform(&test.x);
            let mut full = Vec::new();
            for d in DETECTORS {
                let (det, fit_s) = timed(|| fit_detector(d, &xtr, seed));
                let det = det?;
                let (s, score_s) = timed(|| det.score_batch(&xte));
                let s = s?;
                let e = acc.entry(d.to_string()).or_default();
                e.roc.push(roc_auc(&s, &test.y).unwrap_or(f64::NAN));
                e.pr.push(pr_auc(&s, &test.y).unwrap_or(f64::NAN));
                e.fit.push(fit_s);
                e.score.push(score_s);
                full.push(det);
            }
            // Ensemble selection on an inner validation split of the training part.
            let (sel_res, sel_s) = timed(|| -> Result<_> {
                let (fit_idx, val_idx) = stratified_split(&train.y, 0.7, seed + 1000);
                let fit_x = xtr.select(&fit_idx);
                let val = train.select(&val_idx);
                let val_x = scaler.transform(&val.x);
                let mut ts = Vec::new();
                let mut vs = Vec::new();
                for d in DETECTORS {
                    let det = fit_detector(d, &fit_x, seed)?;
                    ts.push(det.train_scores(&fit_x)?);
                    vs.push(det.score_batch(&val_x)?);
                }
                let sel = ensemble::select(
                    &ts,
                    &vs,
                    &val.y,
                    ensemble::SelectParams {
                        max_rounds: 10,
                        min_gain: 1e-4,
                        metric: ensemble::SelectMetric::RocAuc,
                    },
                )?;
                Ok((sel.weights, sel.kind))
            });
            let (weights, kind) = sel_res?;
            let sel = ensemble::Selection {
                kind,
                weights: weights.clone(),
                metric: ensemble::SelectMetric::RocAuc,
                val_score: 0.0,
                single_val_score: Vec::new(),
            };
            let train_scores: Vec<Vec<f64>> = full
                .iter()
                .map(|d| d.train_scores(&xtr))
                .collect::<cryptanet_detect::Result<_>>()?;
            let ens = ensemble::build(full, &train_scores, &sel);
            let fit_s: f64 = sel_s
                + ens
                    .members
                    .iter()
                    .filter_map(|m| {
                        DETECTORS
                            .iter()
                            .position(|d| *d == m.detector.kind().name())
                    })
                    .map(|i| acc[DETECTORS[i]].fit.last().copied().unwrap_or(0.0))
                    .sum::<f64>();
            let (s, score_s) = timed(|| ens.score_batch(&xte));
            let s = s?;
            let e = acc.entry("ensemble".into()).or_default();
            e.roc.push(roc_auc(&s, &test.y).unwrap_or(f64::NAN));
            e.pr.push(pr_auc(&s, &test.y).unwrap_or(f64::NAN));
            e.fit.push(fit_s);
            e.score.push(score_s);
            chosen.push(format!(
                "seed {seed}: {:?} {}",
                kind,
                DETECTORS
                    .iter()
                    .zip(&weights)
                    .filter(|(_, &w)| w > 0)
                    .map(|(d, w)| format!("{d}×{w}"))
                    .collect::<Vec<_>>()
                    .join(" + ")
            ));
        }
        println!(
            "\n## {name}: {} rows × {} features, {} anomalies",
            table.x.rows(),
            table.x.cols(),
            table.y.iter().filter(|&&v| v == 1).count()
        );
        println!(
            "{:<10} {:>8} {:>8} {:>10} {:>10}",
            "detector", "ROC-AUC", "PR-AUC", "fit s", "score s"
        );
        let mut order: Vec<&str> = DETECTORS.to_vec();
        order.push("ensemble");
        for d in order {
            let e = &acc[d];
            println!(
                "{:<10} {:>8.4} {:>8.4} {:>10.4} {:>10.4}",
                d,
                mean(&e.roc),
                mean(&e.pr),
                mean(&e.fit),
                mean(&e.score)
            );
            println!(
                "RESULT\t{name}\trust_{d}\t{:.6}\t{:.6}\t{:.6}\t{:.6}",
                mean(&e.roc),
                mean(&e.pr),
                mean(&e.fit),
                mean(&e.score)
            );
        }
        for c in chosen {
            println!("ensemble {c}");
        }
    }
    Ok(())
}

fn speed(a: &Args) -> Result<()> {
    let (n, d) = (100_000, 8);
    let mut rng = Rng::new(42);
    let data: Vec<f64> = (0..n * d).map(|_| rng.f64()).collect();
    let x = Matrix::new(n, d, data)?;
    if let Some(out) = &a.out {
        std::fs::create_dir_all(out)?;
        let mut s = String::with_capacity(n * d * 20);
        for i in 0..n {
            let r: Vec<String> = x.row(i).iter().map(|v| format!("{v:.17}")).collect();
            writeln!(s, "{}", r.join(","))?;
        }
        std::fs::write(out.join("speed_100k_x8.csv"), s)?;
    }
    let mut fits = Vec::new();
    let mut fits_cpu = Vec::new();
    let mut forest = None;
    for seed in 0..7 {
        let (f, t, c) = timed_cpu(|| {
            IsolationForest::fit(
                &x,
                IForestParams {
                    seed,
                    ..Default::default()
                },
            )
        });
        fits.push(t);
        fits_cpu.push(c);
        forest = Some(f?);
    }
    let forest = forest.context("no forest")?;
    let (fit_med, fit_cpu) = (median(&mut fits), median(&mut fits_cpu));
    println!("# isolation forest, 100 trees, psi 256, 100000 x 8 uniform rows, one thread, median of 7 (wall and on-CPU time; the machine is shared)");
    println!("fit   wall {:.4} s   cpu {:.4} s", fit_med, fit_cpu);
    // Batch scoring: the flat layout (what `score_batch` uses) and, as the
    // baseline in the same run, the generic walk over the serialised arrays.
    let flat = batch_timing(|| forest.score_batch(&x))?;
    let reference = batch_timing(|| forest.score_batch_reference(&x))?;
    // Uncontended estimate: the fastest 2048-row slice over 5 sweeps.
    let chunks: Vec<Matrix> = x
        .as_slice()
        .chunks(2048 * d)
        .map(|c| Matrix::new(c.len() / d, d, c.to_vec()))
        .collect::<Result<_, _>>()?;
    let best_flat = best_rows_per_s(&chunks, |m| forest.score_batch(m))?;
    let best_ref = best_rows_per_s(&chunks, |m| forest.score_batch_reference(m))?;
    for (label, t, best) in [
        ("flat layout (score_batch)", &flat, best_flat),
        ("baseline: generic walk  ", &reference, best_ref),
    ] {
        println!(
            "score {label}  wall {:.4} s = {:.0} rows/s   cpu {:.4} s = {:.0} rows/s   fastest 2048-row slice {:.0} rows/s",
            t.0,
            n as f64 / t.0,
            t.1,
            n as f64 / t.1,
            best
        );
    }
    println!(
        "score goal: 1000000 rows/s on one core; flat / baseline = {:.2}x (wall), {:.2}x (cpu)",
        reference.0 / flat.0,
        reference.1 / flat.1
    );
    println!(
        "RESULT\tspeed100k\trust_iforest\tnan\tnan\t{fit_med:.6}\t{:.6}",
        flat.0
    );

    // One-row verdicts with explanation: the default model and the model
    // holding every detector kind.
    let (model, _) = train_default(DEFAULT_SEED)?;
    let heavy = all_members_model(DEFAULT_SEED)?;
    let (ships, _) = dataset(DEFAULT_SEED + 7, 60, SimConfig::default())?;
    let mut cases = Vec::new();
    for s in &ships {
        let rd: Vec<_> = s.readings.iter().map(|r| r.reading).collect();
        for i in 0..rd.len() {
            cases.push((s, rd.clone(), i));
        }
    }
    for (label, m) in [("default", &model), ("all-members", &heavy)] {
        let members: Vec<String> = m
            .body()
            .ensemble
            .members
            .iter()
            .map(|x| format!("{}×{}", x.detector.kind().name(), x.weight))
            .collect();
        let verdict = |(s, rd, i): &(&Shipment, Vec<Reading>, usize)| -> Result<()> {
            let ctx = ReadingContext {
                spec: &s.spec,
                previous: &rd[..*i],
                current: &rd[*i],
            };
            std::hint::black_box(m.verdict_for(&ctx)?);
            Ok(())
        };
        let mut per_call = Vec::new();
        let mut per_call_cpu = Vec::new();
        for _ in 0..5 {
            let (r, wall, cpu) = timed_cpu(|| -> Result<()> {
                for c in &cases {
                    verdict(c)?;
                }
                Ok(())
            });
            r?;
            per_call.push(wall / cases.len() as f64);
            per_call_cpu.push(cpu / cases.len() as f64);
        }
        let best = best_per_item(&cases, verdict)?;
        println!(
            "# {label} model ({}), {} readings",
            members.join(" + "),
            cases.len()
        );
        println!(
            "verdict_for (features + score + explanation + rules): wall {:.2} µs/call, cpu {:.2} µs/call (median of 5 passes); fastest 64-call slice {:.2} µs/call; goal < 20 µs",
            median(&mut per_call) * 1e6,
            median(&mut per_call_cpu) * 1e6,
            best * 1e6
        );
        println!(
            "RESULT\tverdict\trust_verdict_for_{label}\tnan\tnan\tnan\t{:.9}",
            median(&mut per_call)
        );
        // Per member: score + explanation on scaled rows, the load-time
        // layouts against the reference paths (baseline) in the same run.
        let rows: Vec<Vec<f64>> = cases
            .iter()
            .take(640)
            .map(|(s, rd, i)| {
                let mut v =
                    cryptanet_detect::features::from_readings(&s.spec, &rd[..*i], &rd[*i])?.values;
                m.body().scaler.apply_row(&mut v);
                Ok(v)
            })
            .collect::<Result<_>>()?;
        for mem in &m.body().ensemble.members {
            let det = &mem.detector;
            let fast = best_per_item(&rows, |r| {
                std::hint::black_box(det.score_explain(r)?);
                Ok(())
            })?;
            let slow = best_per_item(&rows, |r| {
                std::hint::black_box(det.score_explain_reference(r)?);
                Ok(())
            })?;
            println!(
                "  member {:<12} score+explain {:.3} µs/row; baseline (reference path) {:.3} µs/row (fastest 64-row slice)",
                det.kind().name(),
                fast * 1e6,
                slow * 1e6
            );
        }
    }
    Ok(())
}

/// Median of `v` (sorts it).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Median wall and on-CPU seconds of 7 runs of `f`.
fn batch_timing<T>(f: impl Fn() -> cryptanet_detect::Result<T>) -> Result<(f64, f64)> {
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let (v, w, c) = timed_cpu(&f);
        std::hint::black_box(v?);
        wall.push(w);
        cpu.push(c);
    }
    Ok((median(&mut wall), median(&mut cpu)))
}

/// Rows per second of the fastest matrix of `chunks` over 5 sweeps: what the
/// code does when no other process interrupts it.
fn best_rows_per_s<T>(
    chunks: &[Matrix],
    f: impl Fn(&Matrix) -> cryptanet_detect::Result<T>,
) -> Result<f64> {
    let mut best = 0.0f64;
    for _ in 0..5 {
        for c in chunks {
            let t = Instant::now();
            std::hint::black_box(f(c)?);
            best = best.max(c.rows() as f64 / t.elapsed().as_secs_f64());
        }
    }
    Ok(best)
}

/// Seconds per item of the fastest slice of 64 consecutive items over 5 sweeps.
fn best_per_item<T>(items: &[T], mut f: impl FnMut(&T) -> Result<()>) -> Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        for slice in items.chunks(64) {
            let t = Instant::now();
            for it in slice {
                f(it)?;
            }
            best = best.min(t.elapsed().as_secs_f64() / slice.len() as f64);
        }
    }
    Ok(best)
}

fn sim(_a: &Args) -> Result<()> {
    let seed = DEFAULT_SEED;
    let (trained, fit_s) = timed(|| train_default(seed));
    let (model, report) = trained?;
    println!("# default model: seed {seed}, trained in {fit_s:.2} s; candidates {:?}; weights {:?}; normaliser {:?}; validation {:?} {:.4} (singles {:?})",
        report.candidates, report.selection.weights, report.selection.kind, report.selection.metric, report.selection.val_score,
        report.selection.single_val_score.iter().map(|v| format!("{v:.4}")).collect::<Vec<_>>());
    println!(
        "# threshold {} ppm (best validation F1); members {}",
        model.body().threshold_ppm,
        model.body().ensemble.members.len()
    );
    let (ships, test) = dataset(seed + 2, 400, SimConfig::default())?;
    // Ensemble vs single detectors on held-out simulator data (ROC-AUC).
    let (_, train) = dataset(
        seed,
        cryptanet_detect::default_model::TRAIN_SHIPMENTS,
        SimConfig::default(),
    )?;
    let scaler = MinMaxScaler::fit(&train.x);
    let xs = scaler.transform(&train.x);
    let xt = scaler.transform(&test.x);
    let cands = fit_candidates(&xs, &default_config(seed))?;
    println!(
        "\n## simulator test stream: {} shipments, {} readings, {} anomalous",
        ships.len(),
        test.x.rows(),
        test.y.iter().filter(|&&v| v == 1).count()
    );
    println!("{:<10} {:>8} {:>8}", "detector", "ROC-AUC", "PR-AUC");
    for c in &cands {
        let s = c.score_batch(&xt)?;
        println!(
            "{:<10} {:>8.4} {:>8.4}",
            c.kind().name(),
            roc_auc(&s, &test.y).unwrap_or(f64::NAN),
            pr_auc(&s, &test.y).unwrap_or(f64::NAN)
        );
    }
    // The model's own verdicts (one-row deterministic path).
    let mut scores = Vec::new();
    let mut flags = Vec::new();
    let mut model_flags = Vec::new();
    let mut top_ok: BTreeMap<AnomalyKind, (usize, usize)> = BTreeMap::new();
    let mut k = 0;
    for s in &ships {
        let rd: Vec<_> = s.readings.iter().map(|r| r.reading).collect();
        for i in 0..rd.len() {
            let ctx = ReadingContext {
                spec: &s.spec,
                previous: &rd[..i],
                current: &rd[i],
            };
            let v = model.verdict_for(&ctx)?;
            scores.push(v.score_ppm as f64);
            flags.push(v.is_anomaly);
            model_flags.push(v.score_ppm >= v.threshold_ppm);
            if let (true, Some(kind)) = (v.score_ppm >= v.threshold_ppm, test.kinds[k]) {
                if let Some(feats) = kind.injected_features() {
                    let e = top_ok.entry(kind).or_default();
                    e.1 += 1;
                    if let Some(c) = v.contributions.first() {
                        if feats.iter().any(|&f| FEATURE_NAMES[f] == c.feature) {
                            e.0 += 1;
                        }
                    }
                }
            }
            k += 1;
        }
    }
    println!(
        "{:<10} {:>8.4} {:>8.4}   (model verdict path)",
        "ensemble",
        roc_auc(&scores, &test.y).unwrap_or(f64::NAN),
        pr_auc(&scores, &test.y).unwrap_or(f64::NAN)
    );
    let all = prf(&model_flags, &test.y);
    println!(
        "\nmodel score >= threshold:           precision {:.3} recall {:.3} F1 {:.3} (tp {} fp {} fn {})",
        all.precision, all.recall, all.f1, all.tp, all.fp, all.fn_
    );
    let all = prf(&flags, &test.y);
    println!(
        "verdict is_anomaly (score or rule): precision {:.3} recall {:.3} F1 {:.3} (tp {} fp {} fn {})",
        all.precision, all.recall, all.f1, all.tp, all.fp, all.fn_
    );
    println!("\nper anomaly type: precision/F1 on that type's readings + all normal readings; model score | score or rule");
    println!(
        "{:<20} {:>5} {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6} {:>16}",
        "type", "n", "recall", "prec", "F1", "recall", "prec", "F1", "top feature ok"
    );
    let (mut ok_sum, mut det_sum) = (0, 0);
    for kind in AnomalyKind::ALL {
        let sel: Vec<usize> = (0..test.y.len())
            .filter(|&i| test.kinds[i].is_none() || test.kinds[i] == Some(kind))
            .collect();
        let f: Vec<bool> = sel.iter().map(|&i| flags[i]).collect();
        let fm: Vec<bool> = sel.iter().map(|&i| model_flags[i]).collect();
        let y: Vec<u8> = sel.iter().map(|&i| test.y[i]).collect();
        let n = y.iter().filter(|&&v| v == 1).count();
        let p = prf(&f, &y);
        let pm = prf(&fm, &y);
        let top = match top_ok.get(&kind) {
            Some(&(ok, det)) => {
                ok_sum += ok;
                det_sum += det;
                format!("{ok}/{det} = {:.1}%", 100.0 * ok as f64 / det.max(1) as f64)
            }
            None => "n/a".into(),
        };
        println!(
            "{:<20} {:>5} {:>6.3} {:>6.3} {:>6.3} | {:>6.3} {:>6.3} {:>6.3} {:>16}",
            kind.name(),
            n,
            pm.recall,
            pm.precision,
            pm.f1,
            p.recall,
            p.precision,
            p.f1,
            top
        );
    }
    println!(
        "top feature is the injected one (single-feature types, cases the model score flagged): {ok_sum}/{det_sum} = {:.1}%",
        100.0 * ok_sum as f64 / det_sum.max(1) as f64
    );
    Ok(())
}

fn main() -> Result<()> {
    let a = parse_args()?;
    match a.mode.as_str() {
        "adbench" => adbench(&a),
        "speed" => speed(&a),
        "sim" => sim(&a),
        "all" => {
            adbench(&a)?;
            speed(&a)?;
            sim(&a)
        }
        m => bail!("unknown mode {m}"),
    }
}
