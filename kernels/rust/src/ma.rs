//! Exact moving averages of spec §3, whole series, O(1) work per bar.
//!
//! Window MAs keep running sums, re-summed exactly every [`RESYNC`] bars so
//! rounding cannot drift, and set to their correctly rounded closed forms
//! when the window is flat, so an MA over constant prices equals the price
//! exactly and never crosses it by an ulp (golden case C).

use crate::math::{kama_sc, Ewm};
use crate::params::LsmaPoint;

pub const RESYNC: usize = 128;

/// numpy's pairwise summation (`np.sum`): 8 accumulators up to 128
/// elements, halves above.
pub fn pairwise(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 8 {
        x.iter().fold(0.0, |acc, v| acc + v)
    } else if n <= 128 {
        let full = n - n % 8;
        let mut r: [f64; 8] = x[..8].try_into().expect("8 elements");
        for chunk in x[8..full].chunks_exact(8) {
            for (rk, v) in r.iter_mut().zip(chunk) {
                *rk += v;
            }
        }
        let head = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        x[full..].iter().fold(head, |acc, v| acc + v)
    } else {
        let n2 = n / 2 - (n / 2) % 8;
        pairwise(&x[..n2]) + pairwise(&x[n2..])
    }
}

/// pandas `Series.mean()`: NaNs skipped, NaN when all are NaN.
fn nanmean(x: &[f64]) -> f64 {
    let count = x.iter().filter(|v| !v.is_nan()).count();
    if count == 0 {
        return f64::NAN;
    }
    let zeroed: Vec<f64> = x.iter().map(|v| if v.is_nan() { 0.0 } else { *v }).collect();
    pairwise(&zeroed) / count as f64
}

/// pandas_ta `ema`: SMA seed at bar L-1, then pandas ewm.
pub fn ema(p: &[f64], len: usize, out: &mut [f64]) {
    let n = p.len();
    if n < len {
        out[..n].fill(f64::NAN);
        return;
    }
    let mut e = Ewm::new(len);
    out[..len - 1].fill(f64::NAN);
    out[len - 1] = e.step(nanmean(&p[..len]));
    for (o, &x) in out[len..n].iter_mut().zip(&p[len..]) {
        *o = e.step(x);
    }
}

/// 2 EMA - EMA(EMA); `tmp` holds n values.
pub fn dema(p: &[f64], len: usize, out: &mut [f64], tmp: &mut [f64]) {
    let n = p.len();
    ema(p, len, &mut tmp[..n]);
    ema(&tmp[..n], len, out);
    for (o, &e1) in out[..n].iter_mut().zip(&tmp[..n]) {
        *o = 2.0 * e1 - *o;
    }
}

/// Sum S and weighted sum W (weights 1..L, oldest first) of the last L
/// values; NaNs count 0 and are counted.
#[derive(Clone, Copy, Debug)]
pub struct WindowSums {
    pub s: f64,
    pub w: f64,
    pub nan: usize,
    run: usize,
    last: f64,
    len: usize,
    total: f64,
}

impl WindowSums {
    pub fn new(len: usize) -> WindowSums {
        WindowSums { s: 0.0, w: 0.0, nan: 0, run: 0, last: f64::NAN, len, total: 0.5 * len as f64 * (len + 1) as f64 }
    }

    /// pandas_ta's WMA divisor 0.5 L (L + 1).
    pub fn total(&self) -> f64 {
        self.total
    }

    /// Moves the window to end at bar i of x.
    #[inline]
    pub fn advance(&mut self, x: &[f64], i: usize) {
        let v = x[i];
        self.run = if v == self.last { self.run + 1 } else { 1 };
        self.last = v;
        let len = self.len;
        if self.run >= len {
            // flat window: the correctly rounded exact sums
            self.s = v * len as f64;
            self.w = v * self.total;
            self.nan = 0;
        } else if i < len {
            if v.is_nan() {
                self.nan += 1;
            } else {
                self.s += v;
                self.w += (i + 1) as f64 * v;
            }
        } else if i % RESYNC == 0 {
            self.resync(&x[i + 1 - len..=i]);
        } else {
            let old = x[i - len];
            let (vin, vout) = (if v.is_nan() { 0.0 } else { v }, if old.is_nan() { 0.0 } else { old });
            self.w += len as f64 * vin - self.s;
            self.s += vin - vout;
            self.nan = self.nan + usize::from(v.is_nan()) - usize::from(old.is_nan());
        }
    }

    fn resync(&mut self, window: &[f64]) {
        let (mut s, mut w, mut nan) = (0.0, 0.0, 0);
        for (j, &v) in window.iter().enumerate() {
            if v.is_nan() {
                nan += 1;
            } else {
                s += v;
                w += (j + 1) as f64 * v;
            }
        }
        self.s = s;
        self.w = w;
        self.nan = nan;
    }
}

/// Linear weights 1..L, oldest first; NaN in the window gives NaN.
pub fn wma(p: &[f64], len: usize, out: &mut [f64]) {
    let n = p.len();
    if n < len {
        out[..n].fill(f64::NAN);
        return;
    }
    let mut ws = WindowSums::new(len);
    for (i, o) in out[..n].iter_mut().enumerate() {
        ws.advance(p, i);
        *o = if i + 1 >= len && ws.nan == 0 { ws.w / ws.total() } else { f64::NAN };
    }
}

/// The Hull composition over a WMA: wma(2 wma(p, L/2) - wma(p, L), sqrt L).
pub fn hull(p: &[f64], len: usize, out: &mut [f64], tmp: &mut [f64], wma: fn(&[f64], usize, &mut [f64])) {
    let n = p.len();
    let (half, root) = (hull_half(len), hull_root(len));
    let (fast, rest) = tmp.split_at_mut(n);
    let slow = &mut rest[..n];
    wma(p, half, fast);
    wma(p, len, slow);
    for (f, &s) in fast.iter_mut().zip(slow.iter()) {
        *f = 2.0 * *f - s;
    }
    wma(fast, root, out);
}

/// Hull's fast length, L/2 (at least 1).
pub fn hull_half(len: usize) -> usize {
    (len / 2).max(1)
}

/// Hull's outer length, floor(sqrt(L)) (at least 1).
pub fn hull_root(len: usize) -> usize {
    (1..).take_while(|r: &usize| r * r <= len).last().unwrap_or(1)
}

/// True Hull MA; `tmp` holds 2n values.
pub fn hma(p: &[f64], len: usize, out: &mut [f64], tmp: &mut [f64]) {
    hull(p, len, out, tmp, wma);
}

/// The least-squares line of the window read at its last point,
/// (6W - 2(L+1)S) / (L(L+1)), or one slope earlier for pandas_ta's linreg,
/// (6(L-3)W - 2(L+1)(L-4)S) / (L(L+1)(L-1)). One division, so the value is
/// exact whenever the sums are.
pub fn lsma(p: &[f64], len: usize, point: LsmaPoint, out: &mut [f64]) {
    let n = p.len();
    if n < len {
        out[..n].fill(f64::NAN);
        return;
    }
    let (cw, cs, den) = lsma_coefficients(len, point);
    let mut ws = WindowSums::new(len);
    for (i, o) in out[..n].iter_mut().enumerate() {
        ws.advance(p, i);
        *o = if i + 1 >= len && ws.nan == 0 { (cw * ws.w - cs * ws.s) / den } else { f64::NAN };
    }
}

/// The LSMA line as (cw W - cs S) / den: its three constants for length L.
pub fn lsma_coefficients(len: usize, point: LsmaPoint) -> (f64, f64, f64) {
    let l = len as f64;
    match point {
        LsmaPoint::Last => (6.0, 2.0 * (l + 1.0), l * (l + 1.0)),
        LsmaPoint::Penultimate => (6.0 * (l - 3.0), 2.0 * (l + 1.0) * (l - 4.0), l * (l + 1.0) * (l - 1.0)),
    }
}

/// KAMA, fast 0.666 / slow 0.064, seeded at p[0] and flat until bar L
/// (spec §3.6). The noise (sum of |p[j] - p[j-1]| over the window) is a
/// running sum, exactly 0 once the L+1 prices of the window are equal.
pub fn kama(p: &[f64], len: usize, out: &mut [f64]) {
    let n = p.len();
    if n == 0 {
        return;
    }
    out[0] = p[0];
    for i in 1..n.min(len) {
        out[i] = out[i - 1];
    }
    if n <= len {
        return;
    }
    let diff = |j: usize| (p[j] - p[j - 1]).abs();
    let mut noise = 0.0;
    let mut nan = 0usize;
    let mut run = 1usize;
    for j in 1..=len {
        run = if p[j] == p[j - 1] { run + 1 } else { 1 };
        let d = diff(j);
        if d.is_nan() {
            nan += 1;
        } else {
            noise += d;
        }
    }
    for i in len..n {
        if i > len {
            run = if p[i] == p[i - 1] { run + 1 } else { 1 };
            if run > len {
                noise = 0.0;
                nan = 0;
            } else if i % RESYNC == 0 {
                noise = 0.0;
                nan = 0;
                for d in (i + 1 - len..=i).map(diff) {
                    if d.is_nan() {
                        nan += 1;
                    } else {
                        noise += d;
                    }
                }
            } else {
                let (din, dout) = (diff(i), diff(i - len));
                noise = noise - if dout.is_nan() { 0.0 } else { dout } + if din.is_nan() { 0.0 } else { din };
                nan = nan + usize::from(din.is_nan()) - usize::from(dout.is_nan());
            }
        }
        let signal = (p[i] - p[i - len]).abs();
        let sc = kama_sc(signal, if nan > 0 { f64::NAN } else { noise });
        let prev = if out[i - 1].is_nan() { p[i] } else { out[i - 1] };
        out[i] = prev + sc * (p[i] - prev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(n: usize) -> Vec<f64> {
        let mut s = 0x9e3779b97f4a7c15u64;
        let mut v = 100.0;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                v *= 1.0 + 0.02 * ((s >> 11) as f64 / 9007199254740992.0 - 0.5);
                v
            })
            .collect()
    }

    fn brute_wma(p: &[f64], i: usize, len: usize) -> f64 {
        if i + 1 < len || p[i + 1 - len..=i].iter().any(|v| v.is_nan()) {
            return f64::NAN;
        }
        let s: f64 = (1..=len).map(|j| j as f64 * p[i + j - len]).sum();
        s / (len * (len + 1) / 2) as f64
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol * a.abs().max(b.abs())
    }

    #[test]
    fn wma_and_lsma_match_brute_force() {
        let mut p = walk(2000);
        for v in &mut p[700..703] {
            *v = f64::NAN;
        }
        let mut out = vec![0.0; p.len()];
        for len in [2, 5, 28, 34, 150] {
            wma(&p, len, &mut out);
            for (i, &o) in out.iter().enumerate() {
                assert!(close(o, brute_wma(&p, i, len), 1e-13), "wma L={len} i={i}");
            }
            lsma(&p, len, LsmaPoint::Last, &mut out);
            for i in len..p.len() {
                let expect = 3.0 * brute_wma(&p, i, len) - 2.0 * p[i + 1 - len..=i].iter().sum::<f64>() / len as f64;
                assert!(close(out[i], expect, 1e-11), "lsma L={len} i={i}");
            }
        }
    }

    #[test]
    fn flat_windows_are_exact() {
        let p: Vec<f64> = (0..300).map(|i| if i < 100 { 100.0 + (i as f64).sin() } else { 110.0 }).collect();
        let mut out = vec![0.0; 300];
        let mut tmp = vec![0.0; 600];
        wma(&p, 28, &mut out);
        assert!(out[150..].iter().all(|&v| v == 110.0));
        hma(&p, 28, &mut out, &mut tmp);
        assert!(out[150..].iter().all(|&v| v == 110.0));
        lsma(&p, 28, LsmaPoint::Penultimate, &mut out);
        assert!(out[150..].iter().all(|&v| v == 110.0));
    }

    #[test]
    fn kama_matches_the_reference_loop() {
        let p = walk(500);
        let len = 10;
        let mut out = vec![0.0; p.len()];
        kama(&p, len, &mut out);
        let mut k = p[0];
        for i in len..p.len() {
            let noise: f64 = (i + 1 - len..=i).map(|j| (p[j] - p[j - 1]).abs()).sum();
            let sc = kama_sc((p[i] - p[i - len]).abs(), noise);
            k += sc * (p[i] - k);
            assert!(close(out[i], k, 1e-12));
        }
    }

    #[test]
    fn pairwise_is_numpy_order() {
        let x: Vec<f64> = (0..300).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let s = pairwise(&x);
        let naive: f64 = x.iter().sum();
        assert!((s - naive).abs() < 1e-13);
        assert_eq!(pairwise(&x[..3]), (0.0 + x[0] + x[1]) + x[2]);
        let r: Vec<f64> = (0..8).map(|k| x[k] + x[k + 8]).collect();
        let expect = (((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))) + x[16];
        assert_eq!(pairwise(&x[..17]), expect);
    }
}
