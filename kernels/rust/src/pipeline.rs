//! The ATC pipeline for one symbol (spec §4-§10): per family the MAs, then
//! one pass over the bars for the crossovers, Layer-1 equities, the rounded
//! family signal, the Layer-2 equity and the Average_Signal sums.

use crate::approx;
use crate::lanes::{Base2, LaneScratch, Scratch4, Scratch8};
use crate::ma;
use crate::math::{self, growth};
use crate::params::{Family, MaMode, Plan, FAMILIES, SLOTS};
use crate::phase;

/// Where one symbol's results go; `None` = not requested.
#[derive(Default)]
pub struct SymbolOut<'a> {
    pub average: Option<&'a mut [f64]>,
    pub r: Option<&'a mut [f64]>,
    pub ma: [Option<&'a mut [f64]>; FAMILIES],
    pub l1_signal: [Option<&'a mut [f64]>; FAMILIES],
    pub l2_equity: [Option<&'a mut [f64]>; FAMILIES],
    pub slot_ma: Vec<Option<&'a mut [f64]>>,
    pub slot_signal: Vec<Option<&'a mut [i8]>>,
    pub slot_equity: Vec<Option<&'a mut [f64]>>,
    pub final_signal: Option<&'a mut i8>,
    pub final_value: Option<&'a mut f64>,
}

/// Growth tables shared by every symbol of a run: g1 (Layer 1, cutout 0)
/// and g2 (Layer 2, the user cutout).
pub struct Growth {
    pub g1: Vec<f64>,
    pub g2: Vec<f64>,
}

impl Growth {
    pub fn new(plan: &Plan, bars: usize) -> Growth {
        Growth {
            g1: (0..bars).map(|i| growth(i, plan.lambda, 0)).collect(),
            g2: (0..bars).map(|i| growth(i, plan.lambda, plan.cutout)).collect(),
        }
    }
}

/// Per-thread buffers, grown on demand: nothing is allocated per bar.
#[derive(Default)]
pub struct Scratch {
    ma: Vec<Vec<f64>>,
    tmp: Vec<f64>,
    r: Vec<f64>,
    r1: Vec<f64>,
    r2: Vec<f64>,
    nom: Vec<f64>,
    den: Vec<f64>,
    /// the group walk's buffers, per group width
    pub(crate) lanes2: LaneScratch<Base2>,
    pub(crate) lanes4: Scratch4,
    pub(crate) lanes8: Scratch8,
}

impl Scratch {
    fn reserve(&mut self, n: usize) {
        if self.r.len() >= n {
            return;
        }
        self.ma = vec![vec![0.0; n]; SLOTS];
        self.tmp = vec![0.0; 2 * n];
        for v in [&mut self.r, &mut self.r1, &mut self.r2, &mut self.nom, &mut self.den] {
            *v = vec![0.0; n];
        }
    }
}

/// Computes the MA of one family and length into out.
fn moving_average(plan: &Plan, family: Family, p: &[f64], len: usize, out: &mut [f64], tmp: &mut [f64]) {
    match (plan.mode, family) {
        (MaMode::Exact, Family::Ema) => ma::ema(p, len, out),
        (MaMode::Exact, Family::Hma) => ma::hma(p, len, out, tmp),
        (MaMode::Exact, Family::Wma) => ma::wma(p, len, out),
        (MaMode::Exact, Family::Dema) => ma::dema(p, len, out, tmp),
        (MaMode::Exact, Family::Lsma) => ma::lsma(p, len, plan.lsma_point, out),
        (MaMode::Exact, Family::Kama) => ma::kama(p, len, out),
        (MaMode::Approx, Family::Ema) => approx::sma1(p, len, out),
        (MaMode::Approx, Family::Hma) => approx::hma_approx(p, len, out, tmp),
        (MaMode::Approx, Family::Wma) => approx::wma_approx(p, len, out),
        (MaMode::Approx, Family::Dema) => approx::dema_approx(p, len, out, tmp),
        (MaMode::Approx, Family::Lsma) => approx::lsma_approx(p, len, out),
        (MaMode::Approx, Family::Kama) => approx::kama_approx(p, len, out),
    }
}

/// Runs the pipeline over the closes `p` (one symbol) and fills `out`;
/// output rows may be longer than `p` (the batch stride) and are NaN-padded.
pub fn run_symbol(plan: &Plan, growth: &Growth, p: &[f64], out: &mut SymbolOut, sc: &mut Scratch) {
    let n = p.len();
    if n == 0 {
        write_empty(out);
        return;
    }
    sc.reserve(n);
    let k_slots = plan.slots;
    let mode = if plan.mode == MaMode::Approx { phase::APPROX } else { 0 };
    phase::enter(phase::RETURNS | mode);

    // R = pct_change, and the returns scaled by each layer's growth
    sc.r[0] = f64::NAN;
    for i in 1..n {
        sc.r[i] = p[i] / p[i - 1] - 1.0;
    }
    for i in 0..n {
        sc.r1[i] = sc.r[i] * growth.g1[i];
        sc.r2[i] = sc.r[i] * growth.g2[i];
    }
    sc.nom[..n].fill(0.0);
    sc.den[..n].fill(0.0);

    for (f, &family) in Family::ALL.iter().enumerate() {
        phase::enter((phase::MAS + f as u32) | mode);
        for k in 0..k_slots {
            moving_average(plan, family, p, plan.lengths[f][k], &mut sc.ma[k][..n], &mut sc.tmp);
        }
        phase::enter((phase::SIGNALS + f as u32) | mode);
        family_pass(plan, f, p, sc, out);
        if let Some(row) = out.ma[f].as_deref_mut() {
            row[..n].copy_from_slice(&sc.ma[0][..n]);
        }
        for k in 0..k_slots {
            if let Some(row) = out.slot_ma[f * SLOTS + k].as_deref_mut() {
                row[..n].copy_from_slice(&sc.ma[k][..n]);
            }
        }
    }

    // Average_Signal: non-finite -> 0 (covers the NaN Layer 2 before the cutout)
    phase::enter(phase::AVERAGE | mode);
    let avg = &mut sc.nom[..n];
    for (a, &d) in avg.iter_mut().zip(&sc.den[..n]) {
        let v = *a / d;
        *a = if v.is_finite() { v } else { 0.0 };
    }
    finish(plan, avg, Some(&sc.r[..n]), out);
    phase::enter(0);
}

/// The end of a symbol, for both walks: `avg` (its bars' Average_Signal,
/// non-finite already 0) zeroed before the cutout and shifted in strategy
/// mode, the final value and signal, R written (when given; the group walk
/// wrote it), approx's one MA copied to all 9 slots, rows NaN-padded to
/// the stride.
pub(crate) fn finish(plan: &Plan, avg: &mut [f64], r: Option<&[f64]>, out: &mut SymbolOut) {
    let n = avg.len();
    if plan.cutout > 0 && plan.cutout < n {
        avg[..plan.cutout].fill(0.0);
    }
    if plan.strategy_mode && n > 0 {
        avg.copy_within(0..n - 1, 1);
        avg[0] = 0.0;
    }
    let last = avg.last().copied().unwrap_or(f64::NAN);
    if let Some(v) = out.final_value.as_deref_mut() {
        *v = last;
    }
    if let Some(s) = out.final_signal.as_deref_mut() {
        *s = math::final_signal(last, plan.min_signal);
    }
    write_padded(out.average.as_deref_mut(), avg);
    match r {
        Some(r) => write_padded(out.r.as_deref_mut(), r),
        None => pad(out.r.as_deref_mut(), n),
    }
    // approx: the one MA, its states and equities fill all 9 slots
    for f in 0..FAMILIES {
        for k in plan.slots..SLOTS {
            copy_slot(&mut out.slot_ma, f, k, n);
            copy_slot(&mut out.slot_equity, f, k, n);
            copy_slot(&mut out.slot_signal, f, k, n);
        }
    }
    for f in 0..FAMILIES {
        pad(out.ma[f].as_deref_mut(), n);
        pad(out.l1_signal[f].as_deref_mut(), n);
        pad(out.l2_equity[f].as_deref_mut(), n);
    }
    for k in 0..FAMILIES * SLOTS {
        pad(out.slot_ma[k].as_deref_mut(), n);
        pad(out.slot_equity[k].as_deref_mut(), n);
        if let Some(row) = out.slot_signal[k].as_deref_mut() {
            row[n..].fill(0);
        }
    }
}

/// Slot k of family f's first n values from its slot 0.
fn copy_slot<T: Copy>(rows: &mut [Option<&mut [T]>], f: usize, k: usize, n: usize) {
    let (head, tail) = rows.split_at_mut(f * SLOTS + k);
    if let (Some(from), Some(to)) = (head[f * SLOTS].as_deref(), tail[0].as_deref_mut()) {
        to[..n].copy_from_slice(&from[..n]);
    }
}

/// A symbol without bars: NaN rows, no final signal.
fn write_empty(out: &mut SymbolOut) {
    for row in [out.average.as_deref_mut(), out.r.as_deref_mut()].into_iter().flatten() {
        row.fill(f64::NAN);
    }
    for rows in [&mut out.ma, &mut out.l1_signal, &mut out.l2_equity] {
        rows.iter_mut().flatten().for_each(|r| r.fill(f64::NAN));
    }
    for rows in [&mut out.slot_ma, &mut out.slot_equity] {
        rows.iter_mut().flatten().for_each(|r| r.fill(f64::NAN));
    }
    out.slot_signal.iter_mut().flatten().for_each(|r| r.fill(0));
    if let Some(v) = out.final_value.as_deref_mut() {
        *v = f64::NAN;
    }
    if let Some(s) = out.final_signal.as_deref_mut() {
        *s = 0;
    }
}

fn write_padded(row: Option<&mut [f64]>, values: &[f64]) {
    if let Some(row) = row {
        row[..values.len()].copy_from_slice(values);
        row[values.len()..].fill(f64::NAN);
    }
}

fn pad(row: Option<&mut [f64]>, n: usize) {
    if let Some(row) = row {
        row[n..].fill(f64::NAN);
    }
}

/// Crossovers, Layer 1, Layer 2 and the Average_Signal sums of family f.
/// Slots add up in slot order and families into nom/den in family order,
/// as the reference sums them.
fn family_pass(plan: &Plan, f: usize, p: &[f64], sc: &mut Scratch, out: &mut SymbolOut) {
    let n = p.len();
    let k_slots = plan.slots;
    let (d, weight, cutout) = (plan.d, plan.weight[f], plan.cutout);
    let mut sig = [0i8; SLOTS];
    let mut eq = [1.0f64; SLOTS];
    let mut prev_ma = [f64::NAN; SLOTS];
    let (mut prev_close, mut prev_s, mut q) = (f64::NAN, f64::NAN, f64::NAN);
    let ma: [&[f64]; SLOTS] = std::array::from_fn(|k| &sc.ma[k][..n]);
    let want_slots = (0..k_slots).any(|k| {
        out.slot_equity[f * SLOTS + k].is_some() || out.slot_signal[f * SLOTS + k].is_some()
    });

    for i in 0..n {
        let c = p[i];
        let r = if sc.r1[i].is_nan() { 0.0 } else { sc.r1[i] };
        let (mut num, mut wsum) = (0.0, 0.0);
        for k in 0..k_slots {
            let m = ma[k][i];
            // bar 0 keeps the start equity 1
            let e = if i == 0 { eq[k] } else { math::equity_next(eq[k], sig[k], r, d) };
            let s = math::cross(sig[k], c, m, prev_close, prev_ma[k]);
            eq[k] = e;
            sig[k] = s;
            prev_ma[k] = m;
            num += f64::from(s) * e;
            wsum += e;
        }
        if want_slots {
            for k in 0..k_slots {
                if let Some(row) = out.slot_equity[f * SLOTS + k].as_deref_mut() {
                    row[i] = eq[k];
                }
                if let Some(row) = out.slot_signal[f * SLOTS + k].as_deref_mut() {
                    row[i] = sig[k];
                }
            }
        }
        let s_family = math::round2_ratio(num, wsum);
        q = if i < cutout { f64::NAN } else { math::equity(q, prev_s, sc.r2[i], weight, d) };
        sc.nom[i] += math::cut(s_family, plan.long_threshold, plan.short_threshold) * q;
        sc.den[i] += q;
        prev_s = s_family;
        prev_close = c;
        if let Some(row) = out.l1_signal[f].as_deref_mut() {
            row[i] = s_family;
        }
        if let Some(row) = out.l2_equity[f].as_deref_mut() {
            row[i] = q;
        }
    }
}
