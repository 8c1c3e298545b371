//! The crate's own conformance check: every golden case of
//! tests/golden/atc through the Rust pipeline, with the tolerances of spec
//! §17 (MAs and equities 1e-12 relative, signals identical, Average_Signal
//! 1e-12 absolute, NaN positions identical).

use std::collections::HashMap;
use std::path::PathBuf;

use tg_atc_rs::batch::{self, Outputs, Prices, Simd};
use tg_atc_rs::params::{AtcParams, Plan};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/atc")
}

/// A golden CSV as columns of f64 ("nan" parses to NaN).
fn read_csv(name: &str) -> HashMap<String, Vec<f64>> {
    let text = std::fs::read_to_string(golden_dir().join(name)).expect("golden file");
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); header.len()];
    for line in lines.filter(|l| !l.is_empty()) {
        for (c, field) in line.split(',').enumerate() {
            cols[c].push(field.parse().unwrap_or_else(|_| panic!("{name}: bad number {field}")));
        }
    }
    header.into_iter().zip(cols).collect()
}

struct Run {
    ma: Vec<f64>,
    l1: Vec<f64>,
    l2: Vec<f64>,
    avg: Vec<f64>,
    r: Vec<f64>,
    slot_ma: Vec<f64>,
    slot_sig: Vec<i8>,
    slot_eq: Vec<f64>,
}

/// The walks every golden case runs through: the scalar one, and groups
/// of symbols in vector lanes.
const WALKS: [Simd; 4] = [Simd::Scalar, Simd::Generic, Simd::Avx2, Simd::Avx512];

/// Runs `close` as one symbol (the scalar walk) or, in a group walk, as
/// the second of three symbols (six in the 8-lane walk, so that the group
/// runs in AVX-512 where the CPU has it; the others: the series scaled,
/// and shorter), and returns that symbol's outputs.
fn run(params: &AtcParams, close: &[f64], simd: Simd) -> Run {
    let n = close.len();
    let plan = Plan::new(params).unwrap();
    let (symbols, at) = match simd {
        Simd::Scalar => (1, 0),
        Simd::Avx512 => (6, 1),
        _ => (3, 1),
    };
    let mut all = Vec::with_capacity(symbols * n);
    for s in 0..symbols {
        let scale = if s == at { 1.0 } else { 1.0 + 0.25 * s as f64 };
        all.extend(close.iter().map(|x| x * scale));
    }
    let bars: Vec<i32> = (0..symbols).map(|s| if s == at { n as i32 } else { (n - n / (3 + s)) as i32 }).collect();
    let mut r = Run {
        ma: vec![0.0; 6 * n * symbols],
        l1: vec![0.0; 6 * n * symbols],
        l2: vec![0.0; 6 * n * symbols],
        avg: vec![0.0; n * symbols],
        r: vec![0.0; n * symbols],
        slot_ma: vec![0.0; 54 * n * symbols],
        slot_sig: vec![0; 54 * n * symbols],
        slot_eq: vec![0.0; 54 * n * symbols],
    };
    let prices = Prices { close: &all, n_bars: Some(&bars), n_symbols: symbols, stride: n };
    let out = Outputs {
        average: Some(&mut r.avg),
        r: Some(&mut r.r),
        ma: Some(&mut r.ma),
        l1_signal: Some(&mut r.l1),
        l2_equity: Some(&mut r.l2),
        slot_ma: Some(&mut r.slot_ma),
        slot_signal: Some(&mut r.slot_sig),
        slot_equity: Some(&mut r.slot_eq),
        ..Outputs::default()
    };
    batch::run(&plan, &prices, out, simd, 1, None, None).unwrap();
    // symbol `at` of every [plane][symbol][bar] buffer
    fn pick<T: Copy>(v: &[T], symbols: usize, at: usize, n: usize) -> Vec<T> {
        v.chunks(n).skip(at).step_by(symbols).flatten().copied().collect()
    }
    Run {
        ma: pick(&r.ma, symbols, at, n),
        l1: pick(&r.l1, symbols, at, n),
        l2: pick(&r.l2, symbols, at, n),
        avg: pick(&r.avg, symbols, at, n),
        r: pick(&r.r, symbols, at, n),
        slot_ma: pick(&r.slot_ma, symbols, at, n),
        slot_sig: pick(&r.slot_sig, symbols, at, n),
        slot_eq: pick(&r.slot_eq, symbols, at, n),
    }
}

#[derive(Clone, Copy)]
enum Tol {
    Rel,
    Abs,
    Equal,
}

fn check(errors: &mut Vec<String>, what: &str, got: &[f64], want: &[f64], tol: Tol) {
    let bad: Vec<usize> = (0..want.len())
        .filter(|&i| {
            let (a, b) = (got[i], want[i]);
            if a.is_nan() || b.is_nan() {
                return a.is_nan() != b.is_nan();
            }
            match tol {
                Tol::Rel => (a - b).abs() > 1e-12 * a.abs().max(b.abs()),
                Tol::Abs => (a - b).abs() > 1e-12,
                Tol::Equal => a != b,
            }
        })
        .collect();
    if let Some(&i) = bad.first() {
        errors.push(format!("{what}: {} bars differ, first {i}: {} vs {}", bad.len(), got[i], want[i]));
    }
}

const FAM: [&str; 6] = ["EMA", "HMA", "WMA", "DEMA", "LSMA", "KAMA"];

fn case_params(name: &str) -> AtcParams {
    let mut p = AtcParams::default();
    if name == "B_grw_wide_cut60" {
        p.weight = [1.5, 0.2, 1.0, 2.0, 0.75, 1.25];
        p.robustness = 2;
        p.lambda = 0.05;
        p.decay = 0.2;
        p.cutout = 60;
        p.long_threshold = 0.2;
        p.short_threshold = -0.3;
    }
    p
}

#[test]
fn golden_cases() {
    let mut errors = Vec::new();
    let cases = [
        ("A_grw_default", "DEMA", true),
        ("B_grw_wide_cut60", "KAMA", false),
        ("C_special_default", "HMA", true),
        ("D_nangap_default", "LSMA", false),
    ];
    for (simd, (name, set_family, has_approx)) in WALKS.iter().flat_map(|&w| cases.iter().map(move |&c| (w, c))) {
        let g = read_csv(&format!("{name}_exact.csv"));
        let close = &g["close"];
        let n = close.len();
        for (point, suffix) in [(0, "_lastpoint"), (1, "")] {
            let mut p = case_params(name);
            p.lsma_point = point;
            let r = run(&p, close, simd);
            let tag = format!("{name} (lsma {point}, {simd:?})");
            check(&mut errors, &format!("{tag} R"), &r.r, &g["R"], Tol::Rel);
            for (f, fam) in FAM.iter().enumerate() {
                let sfx = if *fam == "LSMA" { suffix } else { "" };
                let row = |v: &Vec<f64>| v[f * n..(f + 1) * n].to_vec();
                check(&mut errors, &format!("{tag} MA_{fam}"), &row(&r.ma), &g[&format!("MA_{fam}{sfx}")], Tol::Rel);
                check(&mut errors, &format!("{tag} {fam}_Signal"), &row(&r.l1), &g[&format!("{fam}_Signal{sfx}")], Tol::Equal);
                check(&mut errors, &format!("{tag} {fam}_S"), &row(&r.l2), &g[&format!("{fam}_S{sfx}")], Tol::Rel);
            }
            check(&mut errors, &format!("{tag} Average_Signal"), &r.avg, &g[&format!("Average_Signal{suffix}")], Tol::Abs);
            // the set file was made with pandas_ta's LSMA
            if (set_family == "LSMA") == (point == 1) {
                let s = read_csv(&format!("{name}_set_{set_family}.csv"));
                let f = FAM.iter().position(|x| *x == set_family).unwrap();
                let plan = Plan::new(&p).unwrap();
                let slots = ["MA", "MA1", "MA2", "MA3", "MA4", "MA_1", "MA_2", "MA_3", "MA_4"];
                for (k, slot) in slots.iter().enumerate() {
                    let len = plan.lengths[f][k];
                    let base = (f * 9 + k) * n;
                    let sig: Vec<f64> = r.slot_sig[base..base + n].iter().map(|&x| f64::from(x)).collect();
                    check(&mut errors, &format!("{name} {simd:?} {set_family}_{slot}_L{len}"), &r.slot_ma[base..base + n], &s[&format!("{set_family}_{slot}_L{len}")], Tol::Rel);
                    check(&mut errors, &format!("{name} sig_{slot}_L{len}"), &sig, &s[&format!("sig_{slot}_L{len}")], Tol::Equal);
                    check(&mut errors, &format!("{name} eq_{slot}_L{len}"), &r.slot_eq[base..base + n], &s[&format!("eq_{slot}_L{len}")], Tol::Rel);
                }
            }
        }
        if has_approx {
            let a = read_csv(&format!("{name}_approx.csv"));
            let mut p = case_params(name);
            p.ma_mode = 1;
            let r = run(&p, &a["close"], simd);
            for (f, fam) in FAM.iter().enumerate() {
                let row = |v: &Vec<f64>| v[f * n..(f + 1) * n].to_vec();
                check(&mut errors, &format!("{name} {simd:?} approx AMA_{fam}"), &row(&r.ma), &a[&format!("AMA_{fam}")], Tol::Rel);
                check(&mut errors, &format!("{name} {simd:?} approx {fam}_Signal"), &row(&r.l1), &a[&format!("{fam}_Signal")], Tol::Equal);
                check(&mut errors, &format!("{name} {simd:?} approx {fam}_S"), &row(&r.l2), &a[&format!("{fam}_S")], Tol::Rel);
            }
            check(&mut errors, &format!("{name} {simd:?} approx Average_Signal"), &r.avg, &a["Average_Signal"], Tol::Abs);
        }
    }
    assert!(errors.is_empty(), "golden mismatches:\n{}", errors.join("\n"));
}

#[test]
fn threads_do_not_change_results() {
    let g = read_csv("A_grw_default_exact.csv");
    let one = &g["close"];
    let n = one.len();
    let close: Vec<f64> = (0..8).flat_map(|s| one.iter().map(move |x| x * (1.0 + s as f64 / 10.0))).collect();
    let bars: Vec<i32> = (0..8).map(|s| (n - s * 30) as i32).collect();
    let plan = Plan::new(&AtcParams::default()).unwrap();
    let prices = Prices { close: &close, n_bars: Some(&bars), n_symbols: 8, stride: n };
    let mut a1 = vec![0.0; 8 * n];
    let mut a3 = vec![0.0; 8 * n];
    batch::run(&plan, &prices, Outputs { average: Some(&mut a1), ..Outputs::default() }, Simd::Scalar, 1, None, None).unwrap();
    batch::run(&plan, &prices, Outputs { average: Some(&mut a3), ..Outputs::default() }, Simd::Avx2, 3, None, None).unwrap();
    // the backend's persistent pool: the same bits, run after run
    let pool = tg_atc_rs::pool::Pool::new(3, None);
    for _ in 0..3 {
        let mut ap = vec![0.0; a1.len()];
        batch::run(&plan, &prices, Outputs { average: Some(&mut ap), ..Outputs::default() }, Simd::Generic, 3, None, Some(&pool)).unwrap();
        assert!(ap.iter().zip(&a1).all(|(x, y)| x.to_bits() == y.to_bits()), "pool run differs");
    }
    assert_eq!(a1.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), a3.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
    // padding past each symbol's bars
    assert!(a1[7 * n + n - 1].is_nan());
}
