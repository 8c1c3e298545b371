//! The ATC pipeline for a group of `N` symbols at once: one vector lane per
//! symbol, prices interleaved bar-major, every family's nine MAs, crossovers,
//! Layer 1 and Layer 2 fused in one pass over the bars — the twin of the C
//! engine's `kernels/cpu/cpu_lanes.inc`.
//!
//! [`V`] is `N` doubles operated on lane by lane; every helper is
//! `#[inline(always)]`, so the whole pass is one function that LLVM turns
//! into vector instructions: with `N = 4` inside [`group_avx2`] (compiled
//! with AVX2 enabled, chosen at run time), with `N = 2` on the target's
//! baseline unit (SSE4.2 at the project's x86-64-v2 level, NEON on
//! aarch64). Rust never reassociates nor contracts floating point, so each
//! lane computes the same IEEE operations in the same order as the scalar
//! pipeline ([`crate::pipeline`]): the same bits, whatever the compiler
//! vectorises. The scalar steps branch on the bar index (the same in every
//! lane) and on the data (NaN gaps, flat runs): those become per-lane
//! selects. Symbols shorter than the group's longest run on NaN padding;
//! their values past their own end are discarded. A clean group (every
//! lane full, no NaN price) takes the steps' `clean` form: every NaN a
//! step can then meet is set by the bar index alone (warm-ups), so the
//! per-lane NaN bookkeeping folds away (as in cpu_lanes.inc).

use crate::approx::wma_approx_weights;
use crate::ma::{hull_half, hull_root, lsma_coefficients, RESYNC};
use crate::math::{ewm_coefficients, EQUITY_FLOOR, KAMA_FAST, KAMA_SLOW};
use crate::params::{MaMode, Plan, FAMILIES, SLOTS};
use crate::phase;
use crate::pipeline::{finish, Growth, SymbolOut};
use crate::simd::{Arr, Lanes, Mask};
#[cfg(target_arch = "x86_64")]
use crate::simd::{X2, X4};
#[cfg(all(target_arch = "x86_64", tg_avx512))]
use crate::simd::X8;

/// `x` in every lane
#[inline(always)]
fn bc<T: Lanes>(x: f64) -> T {
    T::splat(x)
}

/// a where m is set, else b
#[inline(always)]
fn sel<T: Lanes>(m: T::M, a: T, b: T) -> T {
    T::select(m, a, b)
}

/// Bar j of a series: x[j & mask] (mask usize::MAX for a whole series,
/// size - 1 for a ring).
#[inline(always)]
fn at<T: Lanes>(x: &[T], mask: usize, j: usize) -> T {
    x[j & mask]
}

// ---- numpy pairwise summation ([`crate::ma::pairwise`]), lane-wise -------

#[inline(always)]
fn term<T: Lanes>(x: &[T], w: Option<&[f64]>, j: usize) -> T {
    match w {
        Some(w) => x[j] * w[j],
        None => x[j].nz(),
    }
}

#[inline(always)]
fn pairwise_block<T: Lanes>(x: &[T], w: Option<&[f64]>, n: usize) -> T {
    if n < 8 {
        let mut res = bc::<T>(0.0);
        for j in 0..n {
            res = res + term(x, w, j);
        }
        return res;
    }
    let mut r = [bc::<T>(0.0); 8];
    for (k, rk) in r.iter_mut().enumerate() {
        *rk = term(x, w, k);
    }
    let full = n - n % 8;
    let mut i = 8;
    while i < full {
        for (k, rk) in r.iter_mut().enumerate() {
            *rk = *rk + term(x, w, i + k);
        }
        i += 8;
    }
    let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    while i < n {
        res = res + term(x, w, i);
        i += 1;
    }
    res
}

/// `pairwise_block(x, Some(w), n)` for n <= 128: the same sums in the same
/// order over slices cut to n first (no bounds check, no weight test per
/// term): the approximate WMA's window, every bar.
#[inline(always)]
fn wdot<T: Lanes>(x: &[T], w: &[f64], n: usize) -> T {
    // (no closures here: one would be compiled without the caller's AVX2)
    let (x, w) = (&x[..n], &w[..n]);
    let mut res = bc::<T>(0.0);
    let mut i = 0;
    if n >= 8 {
        let mut r = [bc::<T>(0.0); 8];
        for k in 0..8 {
            r[k] = x[k] * w[k];
        }
        let n8 = n - n % 8;
        i = 8;
        while i < n8 {
            let (xc, wc) = (&x[i..i + 8], &w[i..i + 8]);
            for k in 0..8 {
                r[k] = r[k] + xc[k] * wc[k];
            }
            i += 8;
        }
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    }
    // the tail (fewer than 8), unrolled: t is the same every bar
    let (xt, wt) = (&x[i..], &w[i..]);
    let t = xt.len();
    for k in 0..7 {
        if k < t {
            res = res + xt[k] * wt[k];
        }
    }
    res
}

/// The sum of the first n terms of x (times w when given), in numpy's
/// order: the halves of [`crate::ma::pairwise`] walked with a stack.
#[inline(always)]
fn pairwise<T: Lanes>(x: &[T], w: Option<&[f64]>, n: usize) -> T {
    if n <= 128 {
        return pairwise_block(x, w, n);
    }
    let mut lo_s = [0usize; 32];
    let mut n_s = [0usize; 32];
    let mut stage = [0u8; 32];
    let mut left = [bc::<T>(0.0); 32];
    let mut top: isize = 0;
    let mut ret = bc::<T>(0.0);
    n_s[0] = n;
    while top >= 0 {
        let t = top as usize;
        let (lo, m) = (lo_s[t], n_s[t]);
        if m <= 128 {
            ret = pairwise_block(&x[lo..], w.map(|w| &w[lo..]), m);
            top -= 1;
            continue;
        }
        let m2 = m / 2 - (m / 2) % 8;
        match stage[t] {
            0 => {
                stage[t] = 1;
                (lo_s[t + 1], n_s[t + 1], stage[t + 1]) = (lo, m2, 0);
                top += 1;
            }
            1 => {
                left[t] = ret;
                stage[t] = 2;
                (lo_s[t + 1], n_s[t + 1], stage[t + 1]) = (lo + m2, m - m2, 0);
                top += 1;
            }
            _ => {
                ret = left[t] + ret;
                top -= 1;
            }
        }
    }
    ret
}

// ---- the MA steps ---------------------------------------------------------

/// The prices' runs of equal values, computed once per group (the flat-run
/// rule of exact mode's windows over the prices: Wsum, Kama): `run[i]` the
/// length of the run ending at bar i in each lane (NaN ends a run, as the
/// scalar steps' == does), `max[i]` the longest over the lanes, so that a
/// step tests one integer before any lane's window can be flat. A window
/// over another series (Hull's middle) is given None and counts its own,
/// as approx mode's SMAs do (cpu_lanes.inc's `struct vruns`).
#[derive(Clone, Copy)]
struct Runs<'a, T> {
    run: &'a [T],
    max: &'a [i32],
}

/// The run of equal values ending at bar i (`r`: the prices', None:
/// counted in `run` and `last`), and whether it may reach `n` in a lane.
#[inline(always)]
fn run_at<T: Lanes>(r: Option<Runs<'_, T>>, run: &mut T, last: &mut T, vin: T, i: usize, n: usize) -> (T, bool) {
    match r {
        Some(r) => (r.run[i], r.max[i] as usize >= n),
        None => {
            *run = sel(vin.eq(*last), *run + 1.0, bc(1.0));
            *last = vin;
            (*run, true)
        }
    }
}

/// One slot's MA, stepped bar by bar over the group's closes x (`r`: their
/// runs of equal values).
trait Step<T: Lanes> {
    /// `clean`: the group's prices hold no NaN (a constant where inlined)
    fn step(&mut self, x: &[T], r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T;
}

/// pandas ewm ([`crate::math::Ewm`])
#[derive(Clone, Copy)]
struct Ewm<T: Lanes> {
    y: T,
    w: T,
    alpha: f64,
    beta: f64,
}

impl<T: Lanes> Ewm<T> {
    #[inline(always)]
    fn new(len: usize) -> Self {
        let (alpha, beta) = ewm_coefficients(len);
        Ewm { y: bc(f64::NAN), w: bc(1.0), alpha, beta }
    }

    #[inline(always)]
    fn step(&mut self, x: T) -> T {
        let (yv, xv) = (self.y.eq(self.y), x.eq(x));
        let w1 = self.w * self.beta;
        let num = w1 * self.y + x * self.alpha;
        let den = w1 + self.alpha;
        let upd = yv & xv & self.y.ne(x);
        let divide = upd & den.ne(bc::<T>(1.0));
        let q = if divide.any() { sel(divide, num / den, num) } else { num };
        let y_valid = sel(upd, q, self.y);
        self.w = sel(yv, sel(xv, bc(1.0), w1), self.w);
        self.y = sel(yv, y_valid, sel(xv, x, self.y));
        self.y
    }

    /// step where y and x are valid (w is then 1)
    #[inline(always)]
    fn step_clean(&mut self, x: T) -> T {
        let w1 = self.w * self.beta;
        let num = w1 * self.y + x * self.alpha;
        let den = w1 + self.alpha;
        let upd = self.y.ne(x);
        let divide = upd & den.ne(bc(1.0));
        let q = if divide.any() { sel(divide, num / den, num) } else { num };
        self.y = sel(upd, q, self.y);
        self.y
    }
}

/// pandas `Series.mean()` of bars 0..n-1
#[inline(always)]
fn nanmean<T: Lanes>(x: &[T], n: usize) -> T {
    let mut count = bc::<T>(0.0);
    for v in &x[..n] {
        count = count + T::one(v.eq(*v));
    }
    let sum = pairwise(x, None, n);
    sel(count.eq(bc(0.0)), bc(f64::NAN), sum / count)
}

#[derive(Clone, Copy)]
struct Ema<T: Lanes> {
    e: Ewm<T>,
    len: usize,
}

impl<T: Lanes> Ema<T> {
    #[inline(always)]
    fn new(len: usize) -> Self {
        Ema { e: Ewm::new(len), len }
    }
}

impl<T: Lanes> Step<T> for Ema<T> {
    #[inline(always)]
    fn step(&mut self, x: &[T], _r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T {
        if i + 1 < self.len {
            bc(f64::NAN)
        } else if i + 1 == self.len {
            self.e.step(nanmean(x, self.len))
        } else if clean {
            self.e.step_clean(x[i])
        } else {
            self.e.step(x[i])
        }
    }
}

struct Dema<T: Lanes> {
    e1: Ema<T>,
    e2: Ewm<T>,
}

impl<T: Lanes> Step<T> for Dema<T> {
    #[inline(always)]
    fn step(&mut self, x: &[T], r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T {
        let v1 = self.e1.step(x, r, i, clean);
        if i + 1 < self.e1.len {
            return bc(f64::NAN);
        }
        // the inner EMA is valid from bar L - 1 on
        let v2 = if clean && i + 1 > self.e1.len { self.e2.step_clean(v1) } else { self.e2.step(v1) };
        v1 * 2.0 - v2
    }
}

/// Window sums ([`crate::ma::WindowSums`])
#[derive(Clone, Copy)]
struct Wsum<T: Lanes> {
    s: T,
    w: T,
    last: T,
    nan: T,
    run: T,
    total: f64,
    len: usize,
}

impl<T: Lanes> Wsum<T> {
    #[inline(always)]
    fn new(len: usize) -> Self {
        Wsum {
            s: bc(0.0),
            w: bc(0.0),
            last: bc(f64::NAN),
            nan: bc(0.0),
            run: bc(0.0),
            total: 0.5 * len as f64 * (len + 1) as f64,
            len,
        }
    }

    /// `clean`: no NaN in the window nor in the bar leaving it
    #[inline(always)]
    fn advance(&mut self, x: &[T], mask: usize, r: Option<Runs<'_, T>>, i: usize, clean: bool) {
        let len = self.len;
        let vin = at(x, mask, i);
        let (run, may_flat) = run_at(r, &mut self.run, &mut self.last, vin, i, len);
        if clean {
            if i < len {
                self.s = self.s + vin;
                self.w = self.w + vin * (i + 1) as f64;
            } else if i % RESYNC == 0 {
                let (mut s, mut w) = (bc::<T>(0.0), bc::<T>(0.0));
                for j in 0..len {
                    let v = at(x, mask, i + 1 - len + j);
                    s = s + v;
                    w = w + v * (j + 1) as f64;
                }
                self.s = s;
                self.w = w;
                self.nan = bc(0.0);
            } else {
                let vout = at(x, mask, i - len);
                self.w = self.w + (vin * len as f64 - self.s);
                self.s = self.s + (vin - vout);
            }
            if may_flat {
                let flat = run.ge(bc(len as f64));
                if flat.any() {
                    self.s = sel(flat, vin * len as f64, self.s);
                    self.w = sel(flat, vin * self.total, self.w);
                }
            }
            return;
        }
        let in_nan = vin.is_nan();
        if i < len {
            self.nan = self.nan + T::one(in_nan);
            self.s = sel(in_nan, self.s, self.s + vin);
            self.w = sel(in_nan, self.w, self.w + vin * (i + 1) as f64);
        } else if i % RESYNC == 0 {
            let (mut s, mut w, mut nan) = (bc::<T>(0.0), bc::<T>(0.0), bc::<T>(0.0));
            for j in 0..len {
                let v = at(x, mask, i + 1 - len + j);
                let gap = v.is_nan();
                nan = nan + T::one(gap);
                s = sel(gap, s, s + v);
                w = sel(gap, w, w + v * (j + 1) as f64);
            }
            self.s = s;
            self.w = w;
            self.nan = nan;
        } else {
            let vout = at(x, mask, i - len);
            let (vi, vo) = (vin.nz(), vout.nz());
            self.w = self.w + (vi * len as f64 - self.s);
            self.s = self.s + (vi - vo);
            self.nan = self.nan + T::one(in_nan) - T::one(vout.is_nan());
        }
        if !may_flat {
            return;
        }
        let flat = run.ge(bc::<T>(len as f64));
        if flat.any() {
            self.s = sel(flat, vin * len as f64, self.s);
            self.w = sel(flat, vin * self.total, self.w);
            self.nan = sel(flat, bc(0.0), self.nan);
        }
    }

    #[inline(always)]
    fn wma(&mut self, x: &[T], mask: usize, r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T {
        self.advance(x, mask, r, i, clean);
        if i + 1 < self.len {
            return bc(f64::NAN);
        }
        if clean {
            return self.w / self.total;
        }
        sel(self.nan.eq(bc(0.0)), self.w / self.total, bc(f64::NAN))
    }
}

impl<T: Lanes> Step<T> for Wsum<T> {
    #[inline(always)]
    fn step(&mut self, x: &[T], r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T {
        self.wma(x, usize::MAX, r, i, clean)
    }
}

struct Lsma<T: Lanes> {
    w: Wsum<T>,
    cw: f64,
    cs: f64,
    den: f64,
}

impl<T: Lanes> Step<T> for Lsma<T> {
    #[inline(always)]
    fn step(&mut self, x: &[T], r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T {
        self.w.advance(x, usize::MAX, r, i, clean);
        if i + 1 < self.w.len {
            return bc(f64::NAN);
        }
        let line = (self.w.w * self.cw - self.w.s * self.cs) / self.den;
        if clean {
            return line;
        }
        sel(self.w.nan.eq(bc(0.0)), line, bc(f64::NAN))
    }
}

/// True Hull; the middle series goes to a ring of mask + 1 bars (the outer
/// WMA reads at most its length + 1 bars back).
struct Hma<'a, T: Lanes> {
    fast: Wsum<T>,
    slow: Wsum<T>,
    outer: Wsum<T>,
    ring: &'a mut [T],
    mask: usize,
}

impl<T: Lanes> Step<T> for Hma<'_, T> {
    #[inline(always)]
    fn step(&mut self, x: &[T], r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T {
        let f = self.fast.wma(x, usize::MAX, r, i, clean);
        let w = self.slow.wma(x, usize::MAX, r, i, clean);
        self.ring[i & self.mask] = f * 2.0 - w;
        // over clean prices the middle series is NaN before bar slow.len - 1
        // only: the outer window and the bar leaving it are valid from bar
        // slow.len - 1 + outer.len on
        let outer_clean = clean && i + 1 >= self.slow.len + self.outer.len;
        self.outer.wma(self.ring, self.mask, None, i, outer_clean)
    }
}

/// KAMA ([`crate::ma::kama`])
struct Kama<T: Lanes> {
    k: T,
    noise: T,
    nan: T,
    len: usize,
}

#[inline(always)]
fn kama_diff<T: Lanes>(x: &[T], j: usize) -> T {
    (x[j] - x[j - 1]).abs()
}

impl<T: Lanes> Step<T> for Kama<T> {
    #[inline(always)]
    fn step(&mut self, x: &[T], r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T {
        let len = self.len;
        let p = x[i];
        if i == 0 {
            self.k = p;
            return self.k;
        }
        if i < len {
            return self.k;
        }
        if i == len {
            for j in 1..=len {
                let d = kama_diff(x, j);
                let dn = d.is_nan();
                self.nan = self.nan + T::one(dn);
                self.noise = sel(dn, self.noise, self.noise + d);
            }
        } else if clean {
            if i % RESYNC == 0 {
                let mut noise = bc::<T>(0.0);
                for j in i + 1 - len..=i {
                    noise = noise + kama_diff(x, j);
                }
                self.noise = noise;
            } else {
                self.noise = self.noise - kama_diff(x, i - len) + kama_diff(x, i);
            }
            let r = r.expect("KAMA steps over the prices, whose runs are counted");
            if r.max[i] as usize > len {
                self.noise = sel(r.run[i].gt(bc(len as f64)), bc(0.0), self.noise);
            }
        } else {
            if i % RESYNC == 0 {
                let (mut noise, mut nan) = (bc::<T>(0.0), bc::<T>(0.0));
                for j in i + 1 - len..=i {
                    let d = kama_diff(x, j);
                    let dn = d.is_nan();
                    nan = nan + T::one(dn);
                    noise = sel(dn, noise, noise + d);
                }
                self.noise = noise;
                self.nan = nan;
            } else {
                let (din, dout) = (kama_diff(x, i), kama_diff(x, i - len));
                self.noise = self.noise - dout.nz() + din.nz();
                self.nan = self.nan + T::one(din.is_nan()) - T::one(dout.is_nan());
            }
            let r = r.expect("KAMA steps over the prices, whose runs are counted");
            if r.max[i] as usize > len {
                let flat = r.run[i].gt(bc::<T>(len as f64));
                self.noise = sel(flat, bc(0.0), self.noise);
                self.nan = sel(flat, bc(0.0), self.nan);
            }
        }
        let signal = (p - x[i - len]).abs();
        // (clean: no NaN difference, and the KAMA, seeded at a price, is valid)
        let noise = if clean { self.noise } else { sel(self.nan.ne(bc::<T>(0.0)), bc(f64::NAN), self.noise) };
        let ratio = sel(noise.eq(bc::<T>(0.0)), bc::<T>(0.0), signal / noise);
        let t = ratio * (KAMA_FAST - KAMA_SLOW) + KAMA_SLOW;
        let sc = t * t;
        let prev = if clean { self.k } else { sel(self.k.eq(self.k), self.k, p) };
        self.k = prev + sc * (p - prev);
        self.k
    }
}

// ---- approximate MAs (spec §11.1, [`crate::approx`]) ----------------------

#[derive(Clone, Copy)]
struct Sma1<T: Lanes> {
    sum: T,
    last: T,
    count: T,
    run: T,
    len: usize,
}

impl<T: Lanes> Sma1<T> {
    #[inline(always)]
    fn new(len: usize) -> Self {
        Sma1 { sum: bc(0.0), last: bc(f64::NAN), count: bc(0.0), run: bc(0.0), len }
    }

    #[inline(always)]
    fn at(&mut self, x: &[T], mask: usize, i: usize, clean: bool) -> T {
        let len = self.len;
        let v = at(x, mask, i);
        self.run = sel(v.eq(self.last), self.run + 1.0, bc(1.0));
        self.last = v;
        if clean {
            // every value counts: count is min(i + 1, L)
            if i >= len && i % RESYNC == 0 {
                let mut sum = bc::<T>(0.0);
                for j in i + 1 - len..=i {
                    sum = sum + at(x, mask, j);
                }
                self.sum = sum;
            } else {
                self.sum = self.sum + v;
                if i >= len {
                    self.sum = self.sum - at(x, mask, i - len);
                }
            }
            let count = (if i < len { i + 1 } else { len }) as f64;
            let flat = self.run.ge(bc(len as f64)) | self.run.eq(bc((i + 1) as f64));
            self.sum = sel(flat, v * count, self.sum);
            self.count = bc(count);
            return self.sum / count;
        }
        if i >= len && i % RESYNC == 0 {
            let (mut sum, mut count) = (bc::<T>(0.0), bc::<T>(0.0));
            for j in i + 1 - len..=i {
                let u = at(x, mask, j);
                let ok = u.eq(u);
                sum = sel(ok, sum + u, sum);
                count = count + T::one(ok);
            }
            self.sum = sum;
            self.count = count;
        } else {
            let ok = v.eq(v);
            self.sum = sel(ok, self.sum + v, self.sum);
            self.count = self.count + T::one(ok);
            if i >= len {
                let u = at(x, mask, i - len);
                let uk = u.eq(u);
                self.sum = sel(uk, self.sum - u, self.sum);
                self.count = self.count - T::one(uk);
            }
        }
        let flat = self.run.ge(bc::<T>(len as f64)) | self.run.eq(bc::<T>((i + 1) as f64));
        self.sum = sel(flat, v * self.count, self.sum);
        sel(self.count.gt(bc(0.0)), self.sum / self.count, bc(f64::NAN))
    }
}

impl<T: Lanes> Step<T> for Sma1<T> {
    /// (approx mode's SMAs count their own runs: `r` is None there)
    #[inline(always)]
    fn step(&mut self, x: &[T], _r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T {
        self.at(x, usize::MAX, i, clean)
    }
}

struct WmaApprox<'w, T: Lanes> {
    warm: Sma1<T>,
    weights: &'w [f64],
    nan: T,
    len: usize,
}

impl<'w, T: Lanes> WmaApprox<'w, T> {
    #[inline(always)]
    fn new(len: usize, weights: &'w [f64]) -> Self {
        WmaApprox { warm: Sma1::new(len), weights, nan: bc(0.0), len }
    }
}

impl<T: Lanes> Step<T> for WmaApprox<'_, T> {
    #[inline(always)]
    fn step(&mut self, x: &[T], r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T {
        let len = self.len;
        let v = x[i];
        if len <= 1 {
            return v;
        }
        if !clean {
            self.nan = self.nan + T::one(v.is_nan());
            if i >= len {
                self.nan = self.nan - T::one(x[i - len].is_nan());
            }
        }
        if i + 1 < len {
            return self.warm.step(x, r, i, clean);
        }
        let window = &x[i + 1 - len..];
        let sum = if len <= 128 { wdot(window, self.weights, len) } else { pairwise(window, Some(self.weights), len) };
        if clean {
            return sum;
        }
        sel(self.nan.ne(bc(0.0)), bc(f64::NAN), sum)
    }
}

struct HmaApprox<'a, 'w, T: Lanes> {
    fast: WmaApprox<'w, T>,
    slow: WmaApprox<'w, T>,
    outer: WmaApprox<'w, T>,
    /// the whole middle series (the outer WMA sums a window of it)
    mid: &'a mut [T],
}

impl<T: Lanes> Step<T> for HmaApprox<'_, '_, T> {
    #[inline(always)]
    fn step(&mut self, x: &[T], r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T {
        // (over clean prices the middle series is valid from bar 0: the
        // warm-ups are expanding means)
        let f = self.fast.step(x, r, i, clean);
        let w = self.slow.step(x, r, i, clean);
        self.mid[i] = f * 2.0 - w;
        self.outer.step(self.mid, None, i, clean)
    }
}

struct DemaApprox<'a, T: Lanes> {
    a: Sma1<T>,
    b: Sma1<T>,
    ring: &'a mut [T],
    mask: usize,
}

impl<T: Lanes> Step<T> for DemaApprox<'_, T> {
    #[inline(always)]
    fn step(&mut self, x: &[T], r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T {
        let a = self.a.step(x, r, i, clean);
        self.ring[i & self.mask] = a;
        a * 2.0 - self.b.at(self.ring, self.mask, i, clean)
    }
}

struct LsmaApprox<T: Lanes> {
    warm: Sma1<T>,
    len: usize,
}

impl<T: Lanes> Step<T> for LsmaApprox<T> {
    #[inline(always)]
    fn step(&mut self, x: &[T], r: Option<Runs<'_, T>>, i: usize, clean: bool) -> T {
        let len = self.len;
        let last = x[i];
        if len <= 2 {
            return last;
        }
        if i + 1 < len {
            return self.warm.step(x, r, i, clean);
        }
        let first = x[i + 1 - len];
        let slope = (last - first) / len as f64;
        last - slope * (len as f64 / 2.0)
    }
}

struct KamaApprox<T: Lanes> {
    k: T,
    alpha: f64,
}

impl<T: Lanes> Step<T> for KamaApprox<T> {
    #[inline(always)]
    fn step(&mut self, x: &[T], _r: Option<Runs<'_, T>>, i: usize, _clean: bool) -> T {
        let p = x[i];
        self.k = if i == 0 { p } else { self.k + (p - self.k) * self.alpha };
        self.k
    }
}

// ---- the fused family pass ------------------------------------------------

/// Per-thread buffers of the group path, bar-major `[bars]` of `V`.
pub struct LaneScratch<T: Lanes> {
    p: Vec<T>,
    r1: Vec<T>,
    r2: Vec<T>,
    nom: Vec<T>,
    den: Vec<T>,
    mid: Vec<T>,
    rings: Vec<T>,
    avg: Vec<f64>,
    /// the prices' runs of equal values and their longest over the lanes
    run: Vec<T>,
    run_max: Vec<i32>,
}

impl<T: Lanes> Default for LaneScratch<T> {
    fn default() -> Self {
        LaneScratch {
            p: Vec::new(),
            r1: Vec::new(),
            r2: Vec::new(),
            nom: Vec::new(),
            den: Vec::new(),
            mid: Vec::new(),
            rings: Vec::new(),
            avg: Vec::new(),
            run: Vec::new(),
            run_max: Vec::new(),
        }
    }
}

/// A power of two that holds Hull's middle series per slot (its outer WMA
/// reads sqrt(L) + 1 bars back) and the approximate DEMA's inner SMA
/// (L + 1).
fn ring_len(plan: &Plan) -> usize {
    let hull = plan.lengths[1].iter().map(|&l| hull_root(l) + 1).max().unwrap_or(1);
    hull.max(plan.lengths[3][0] + 1).next_power_of_two()
}

/// The group's view of its outputs and running sums.
struct Group<'g, T: Lanes> {
    plan: &'g Plan,
    family: usize,
    lanes: usize,
    p: &'g [T],
    r1: &'g [T],
    r2: &'g [T],
    runs: Runs<'g, T>,
    nom: &'g mut [T],
    den: &'g mut [T],
    /// any per-bar output of this family requested?
    rows: bool,
}

/// Writes lane l of v to bar i of the row `pick` selects from lane l's outputs.
#[inline(always)]
fn scatter<T: Lanes, E: Copy>(
    outs: &mut [SymbolOut],
    lanes: usize,
    i: usize,
    v: T,
    conv: fn(f64) -> E,
    pick: impl for<'x, 'y> Fn(&'x mut SymbolOut<'y>) -> Option<&'x mut [E]>,
) {
    for (l, o) in outs.iter_mut().enumerate().take(lanes) {
        if let Some(row) = pick(o) {
            row[i] = conv(v.lane(l));
        }
    }
}

#[inline(always)]
fn same(x: f64) -> f64 {
    x
}

#[inline(always)]
fn to_i8(x: f64) -> i8 {
    x as i8
}

/// an equity floored at EQUITY_FLOOR (NaN stays NaN), as both equity
/// steps of [`crate::math`] end
#[inline(always)]
fn equity_floor<T: Lanes>(e: T) -> T {
    sel(e.lt(bc(EQUITY_FLOOR)), bc(EQUITY_FLOOR), e)
}

/// One family over all bars: the slots' MAs `st` (9, or 1 in approx mode),
/// their crossovers and Layer-1 equities, the rounded family signal, its
/// Layer-2 equity and the Average_Signal sums ([`crate::pipeline`]'s
/// family pass, lane by lane).
#[inline(always)]
fn family_pass<T: Lanes, S: Step<T>, const K: usize, const CLEAN: bool>(
    g: &mut Group<T>,
    st: &mut [S; K],
    outs: &mut [SymbolOut],
) {
    let plan = g.plan;
    let (f, d, cutout) = (g.family, plan.d, plan.cutout);
    let weight = plan.weight[f];
    let (long_t, short_t) = (plan.long_threshold, plan.short_threshold);
    let mut sig = [bc::<T>(0.0); SLOTS];
    let mut eq = [bc::<T>(1.0); SLOTS];
    let mut prev_ma = [bc::<T>(f64::NAN); SLOTS];
    let (mut prev_close, mut prev_s, mut q) = (bc::<T>(f64::NAN), bc::<T>(f64::NAN), bc::<T>(f64::NAN));
    let x = g.p;
    let n = x.len();
    // every row n long, told to the optimiser once (no bound check a bar)
    // exact mode's (K = SLOTS) windows share the prices' runs; approx
    // mode's two SMAs over the prices count their own, cheaper than the
    // group's pass over them (not made in approx mode)
    let runs = if K == SLOTS { Some(Runs { run: &g.runs.run[..n], max: &g.runs.max[..n] }) } else { None };
    let (r1, r2) = (&g.r1[..n], &g.r2[..n]);
    let (nom, den) = (&mut g.nom[..n], &mut g.den[..n]);
    for i in 0..n {
        let c = x[i];
        let r = r1[i].nz();
        let (mut num, mut wsum) = (bc::<T>(0.0), bc::<T>(0.0));
        for (k, s) in st.iter_mut().enumerate() {
            let m = s.step(x, runs, i, CLEAN);
            // bar 0 keeps the start equity
            let e = if i == 0 { eq[k] } else { equity_floor((eq[k] * d) * (sig[k] * r + 1.0)) };
            let up = c.gt(m) & prev_close.le(prev_ma[k]);
            let down = c.lt(m) & prev_close.ge(prev_ma[k]);
            let sk = sig[k];
            // sk + up (1 - sk) - down (sk + 1), sk in {-1, 0, +1}: the same bits
            let s_new = sel(up, bc(1.0), sel(down, bc(-1.0), sk));
            eq[k] = e;
            sig[k] = s_new;
            prev_ma[k] = m;
            num = num + s_new * e;
            wsum = wsum + e;
            if g.rows {
                let slot = f * SLOTS + k;
                scatter(outs, g.lanes, i, m, same, |o| o.slot_ma[slot].as_deref_mut());
                if k == 0 {
                    scatter(outs, g.lanes, i, m, same, |o| o.ma[f].as_deref_mut());
                }
                scatter(outs, g.lanes, i, e, same, |o| o.slot_equity[slot].as_deref_mut());
                scatter(outs, g.lanes, i, s_new, to_i8, |o| o.slot_signal[slot].as_deref_mut());
            }
        }
        // the rounded family signal, its Layer-2 equity, the cut
        let s_fam = if K == 1 && !wsum.nonfinite().any() {
            // one slot, its equity e finite (>= the floor): (0 + s e) / (0 + e)
            // is s in {-1, 0, +1} exactly, and so is its rounding
            sig[0]
        } else {
            let v = num / wsum;
            let finite = v.finite();
            sel(finite, (v * 100.0).rint() / 100.0, bc::<T>(f64::NAN))
        };
        q = if i < cutout {
            bc(f64::NAN)
        } else {
            let r2 = r2[i];
            let zero = prev_s.is_nan() | r2.is_nan() | prev_s.eq(bc::<T>(0.0));
            let a = sel(zero, bc::<T>(0.0), sel(prev_s.gt(bc::<T>(0.0)), r2, -r2));
            let e = (q * d) * (a + 1.0);
            equity_floor(sel(q.is_nan(), bc(weight), e))
        };
        let cut = sel(s_fam.gt(bc::<T>(long_t)), bc::<T>(1.0), sel(s_fam.lt(bc::<T>(short_t)), bc::<T>(-1.0), bc::<T>(0.0)));
        nom[i] = nom[i] + cut * q;
        den[i] = den[i] + q;
        prev_s = s_fam;
        prev_close = c;
        if g.rows {
            scatter(outs, g.lanes, i, s_fam, same, |o| o.l1_signal[f].as_deref_mut());
            scatter(outs, g.lanes, i, q, same, |o| o.l2_equity[f].as_deref_mut());
        }
    }
}

/// Where a family pass is compiled: one function per (lanes, MA step,
/// slots, clean) rather than all of them inlined into one group function, which
/// keeps the optimiser's work (and the crate's build time) linear in the
/// number of passes; the call costs nothing next to a pass over every bar.
trait Pass: Lanes {
    fn pass<S: Step<Self>, const K: usize, const CLEAN: bool>(g: &mut Group<Self>, st: &mut [S; K], outs: &mut [SymbolOut]);
}

impl<const N: usize> Pass for Arr<N> {
    #[inline(never)]
    fn pass<S: Step<Self>, const K: usize, const CLEAN: bool>(g: &mut Group<Self>, st: &mut [S; K], outs: &mut [SymbolOut]) {
        family_pass::<Self, S, K, CLEAN>(g, st, outs)
    }
}

#[cfg(target_arch = "x86_64")]
impl Pass for X2 {
    #[inline(never)]
    fn pass<S: Step<Self>, const K: usize, const CLEAN: bool>(g: &mut Group<Self>, st: &mut [S; K], outs: &mut [SymbolOut]) {
        family_pass::<Self, S, K, CLEAN>(g, st, outs)
    }
}

#[cfg(target_arch = "x86_64")]
impl Pass for X4 {
    fn pass<S: Step<Self>, const K: usize, const CLEAN: bool>(g: &mut Group<Self>, st: &mut [S; K], outs: &mut [SymbolOut]) {
        // SAFETY: an X4 exists only on a CPU with AVX2 (see simd::X4).
        unsafe { pass_avx2::<S, K, CLEAN>(g, st, outs) }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline(never)]
unsafe fn pass_avx2<S: Step<X4>, const K: usize, const CLEAN: bool>(
    g: &mut Group<X4>,
    st: &mut [S; K],
    outs: &mut [SymbolOut],
) {
    family_pass::<X4, S, K, CLEAN>(g, st, outs)
}

#[cfg(all(target_arch = "x86_64", tg_avx512))]
impl Pass for X8 {
    fn pass<S: Step<Self>, const K: usize, const CLEAN: bool>(g: &mut Group<Self>, st: &mut [S; K], outs: &mut [SymbolOut]) {
        // SAFETY: an X8 exists only on a CPU with AVX-512F (see simd::X8).
        unsafe { pass_avx512::<S, K, CLEAN>(g, st, outs) }
    }
}

#[cfg(all(target_arch = "x86_64", tg_avx512))]
#[target_feature(enable = "avx512f")]
#[inline(never)]
unsafe fn pass_avx512<S: Step<X8>, const K: usize, const CLEAN: bool>(
    g: &mut Group<X8>,
    st: &mut [S; K],
    outs: &mut [SymbolOut],
) {
    family_pass::<X8, S, K, CLEAN>(g, st, outs)
}

#[inline(always)]
fn family_exact<T: Pass, const CLEAN: bool>(g: &mut Group<T>, rings: &mut [T], ring: usize, outs: &mut [SymbolOut]) {
    let plan = g.plan;
    let lengths = plan.lengths[g.family];
    match g.family {
        0 => {
            let mut st: [Ema<T>; SLOTS] = std::array::from_fn(|k| Ema::new(lengths[k]));
            T::pass::<_, _, CLEAN>(g, &mut st, outs);
        }
        1 => {
            let mut chunks = rings.chunks_mut(ring);
            let mut st: [Hma<T>; SLOTS] = std::array::from_fn(|k| Hma {
                fast: Wsum::new(hull_half(lengths[k])),
                slow: Wsum::new(lengths[k]),
                outer: Wsum::new(hull_root(lengths[k])),
                ring: chunks.next().expect("a ring per slot"),
                mask: ring - 1,
            });
            T::pass::<_, _, CLEAN>(g, &mut st, outs);
        }
        2 => {
            let mut st: [Wsum<T>; SLOTS] = std::array::from_fn(|k| Wsum::new(lengths[k]));
            T::pass::<_, _, CLEAN>(g, &mut st, outs);
        }
        3 => {
            let mut st: [Dema<T>; SLOTS] =
                std::array::from_fn(|k| Dema { e1: Ema::new(lengths[k]), e2: Ewm::new(lengths[k]) });
            T::pass::<_, _, CLEAN>(g, &mut st, outs);
        }
        4 => {
            let mut st: [Lsma<T>; SLOTS] = std::array::from_fn(|k| {
                let (cw, cs, den) = lsma_coefficients(lengths[k], plan.lsma_point);
                Lsma { w: Wsum::new(lengths[k]), cw, cs, den }
            });
            T::pass::<_, _, CLEAN>(g, &mut st, outs);
        }
        _ => {
            let mut st: [Kama<T>; SLOTS] = std::array::from_fn(|k| Kama {
                k: bc(f64::NAN),
                noise: bc(0.0),
                nan: bc(0.0),
                len: lengths[k],
            });
            T::pass::<_, _, CLEAN>(g, &mut st, outs);
        }
    }
}

#[inline(always)]
fn family_approx<T: Pass, const CLEAN: bool>(
    g: &mut Group<T>,
    mid: &mut [T],
    rings: &mut [T],
    ring: usize,
    outs: &mut [SymbolOut],
) {
    let len = g.plan.lengths[g.family][0];
    match g.family {
        0 => T::pass::<_, _, CLEAN>(g, &mut [Sma1::new(len)], outs),
        1 => {
            let (half, root) = (hull_half(len), hull_root(len));
            let (wf, ws, wo) = (wma_approx_weights(half), wma_approx_weights(len), wma_approx_weights(root));
            let st = HmaApprox {
                fast: WmaApprox::new(half, &wf),
                slow: WmaApprox::new(len, &ws),
                outer: WmaApprox::new(root, &wo),
                mid,
            };
            T::pass::<_, _, CLEAN>(g, &mut [st], outs);
        }
        2 => {
            let w = wma_approx_weights(len);
            T::pass::<_, _, CLEAN>(g, &mut [WmaApprox::new(len, &w)], outs);
        }
        3 => {
            let st = DemaApprox { a: Sma1::new(len), b: Sma1::new(len), ring: &mut rings[..ring], mask: ring - 1 };
            T::pass::<_, _, CLEAN>(g, &mut [st], outs);
        }
        4 => T::pass::<_, _, CLEAN>(g, &mut [LsmaApprox { warm: Sma1::new(len), len }], outs),
        _ => {
            let alpha = 2.0 / ((len + 1) * (len + 1)) as f64;
            T::pass::<_, _, CLEAN>(g, &mut [KamaApprox { k: bc(f64::NAN), alpha }], outs);
        }
    }
}

/// Runs the pipeline over `closes` (lanes <= T::N symbols, each its own
/// bars) and fills `outs`, one per symbol.
#[inline(always)]
fn group<T: Pass>(plan: &Plan, growth: &Growth, closes: &[&[f64]], outs: &mut [SymbolOut], sc: &mut LaneScratch<T>) {
    let lanes = closes.len();
    debug_assert!(lanes <= T::N && lanes == outs.len());
    let n = closes.iter().map(|c| c.len()).max().unwrap_or(0);
    let mode = if plan.mode == MaMode::Approx { phase::APPROX } else { 0 };
    let ring = ring_len(plan);
    let LaneScratch { p, r1, r2, nom, den, mid, rings, avg, run, run_max } = sc;
    for v in [&mut *p, &mut *r1, &mut *r2, &mut *nom, &mut *den, &mut *mid, &mut *run] {
        v.resize(n.max(v.len()), bc(0.0));
    }
    run_max.resize(n.max(run_max.len()), 0);
    rings.resize((SLOTS * ring).max(rings.len()), bc(0.0));
    avg.resize(n.max(avg.len()), 0.0);

    phase::group(lanes as u32);
    phase::enter(phase::RETURNS | mode);
    // bar-major interleave; NaN past a symbol's end; an empty lane (a group
    // short of symbols) repeats the first symbol, whose values it discards,
    // so that a group of full clean symbols stays clean
    p[..n].fill(bc(f64::NAN));
    let flat = T::flat_mut(&mut p[..n]);
    let padded = closes.iter().chain(std::iter::repeat(&closes[0]).take(T::N - lanes));
    for (l, c) in padded.enumerate() {
        for (to, v) in flat[l..].iter_mut().step_by(T::N).zip(c.iter()) {
            *to = *v;
        }
    }
    let mut gaps = bc::<T>(0.0).is_nan();
    for pi in &p[..n] {
        gaps = gaps | pi.is_nan();
    }
    // the prices' runs of equal values (exact mode's windows share them)
    if plan.mode == MaMode::Exact {
        let (mut count, mut last) = (bc::<T>(0.0), bc::<T>(f64::NAN));
        for (pi, ri) in p[..n].iter().zip(run[..n].iter_mut()) {
            count = sel(pi.eq(last), count + 1.0, bc(1.0));
            last = *pi;
            *ri = count;
        }
        for (mi, v) in run_max[..n].iter_mut().zip(T::flat(&run[..n]).chunks_exact(T::N)) {
            *mi = v.iter().fold(1.0f64, |a, &b| a.max(b)) as i32;
        }
    }
    // every symbol full (empty lanes repeat the first) and no NaN price:
    // the steps' clean form
    let clean = !gaps.any();
    let want_r = outs.iter().any(|o| o.r.is_some());
    // every row cut to n once (no bound check a bar)
    let (p, g1, g2) = (&p[..n], &growth.g1[..n], &growth.g2[..n]);
    let (r1, r2, nom, den) = (&mut r1[..n], &mut r2[..n], &mut nom[..n], &mut den[..n]);
    for i in 0..n {
        let r = if i == 0 { bc::<T>(f64::NAN) } else { p[i] / p[i - 1] - 1.0 };
        r1[i] = r * g1[i];
        r2[i] = r * g2[i];
        nom[i] = bc(0.0);
        den[i] = bc(0.0);
        if want_r {
            for (l, o) in outs.iter_mut().enumerate() {
                if let Some(row) = o.r.as_deref_mut() {
                    row[i] = r.lane(l);
                }
            }
        }
    }

    for f in 0..FAMILIES {
        phase::enter((phase::FUSED + f as u32) | mode);
        let rows = outs.iter().any(|o| {
            o.l1_signal[f].is_some()
                || o.l2_equity[f].is_some()
                || o.ma[f].is_some()
                || (0..SLOTS).any(|k| {
                    let slot = f * SLOTS + k;
                    o.slot_ma[slot].is_some() || o.slot_equity[slot].is_some() || o.slot_signal[slot].is_some()
                })
        });
        let mut g = Group {
            plan,
            family: f,
            lanes,
            p: &p[..n],
            r1: &r1[..n],
            r2: &r2[..n],
            runs: Runs { run: &run[..n], max: &run_max[..n] },
            nom: &mut nom[..n],
            den: &mut den[..n],
            rows,
        };
        match (plan.mode, clean) {
            (MaMode::Exact, true) => family_exact::<T, true>(&mut g, rings, ring, outs),
            (MaMode::Exact, false) => family_exact::<T, false>(&mut g, rings, ring, outs),
            (MaMode::Approx, true) => family_approx::<T, true>(&mut g, &mut mid[..n], rings, ring, outs),
            (MaMode::Approx, false) => family_approx::<T, false>(&mut g, &mut mid[..n], rings, ring, outs),
        }
    }

    phase::enter(phase::AVERAGE | mode);
    // one vector division a bar for the group (the C engine's), the
    // non-finite zeroed
    for i in 0..n {
        let v = nom[i] / den[i];
        nom[i] = T::select(v.finite(), v, bc(0.0));
    }
    let flat = T::flat(&nom[..n]);
    for (l, (o, c)) in outs.iter_mut().zip(closes).enumerate() {
        let bars = c.len();
        for (a, v) in avg[..bars].iter_mut().zip(flat[l..].iter().step_by(T::N)) {
            *a = *v;
        }
        finish(plan, &mut avg[..bars], None, o);
    }
    phase::enter(0);
}

/// The baseline unit's 2 lanes: SSE registers on x86-64, arrays elsewhere.
#[cfg(target_arch = "x86_64")]
pub type Base2 = X2;
#[cfg(not(target_arch = "x86_64"))]
pub type Base2 = Arr<2>;

/// The group on the target's baseline vector unit: 2 symbols.
pub fn group_generic(plan: &Plan, growth: &Growth, closes: &[&[f64]], outs: &mut [SymbolOut], sc: &mut LaneScratch<Base2>) {
    group::<Base2>(plan, growth, closes, outs, sc)
}

/// Does this CPU run AVX2?
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn group_avx2_unchecked(plan: &Plan, growth: &Growth, closes: &[&[f64]], outs: &mut [SymbolOut], sc: &mut LaneScratch<X4>) {
    group::<X4>(plan, growth, closes, outs, sc)
}

/// The buffers of both 4-lane forms.
#[derive(Default)]
pub struct Scratch4 {
    #[cfg(target_arch = "x86_64")]
    avx2: LaneScratch<X4>,
    portable: LaneScratch<Arr<4>>,
}

/// The group in AVX2 registers (no FMA): 4 symbols; where the CPU has no
/// AVX2 (or off x86-64) the same 4 lanes as arrays.
pub fn group_avx2(plan: &Plan, growth: &Growth, closes: &[&[f64]], outs: &mut [SymbolOut], sc: &mut Scratch4) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU runs AVX2 (checked just above).
        unsafe { group_avx2_unchecked(plan, growth, closes, outs, &mut sc.avx2) };
        return;
    }
    group::<Arr<4>>(plan, growth, closes, outs, &mut sc.portable)
}

/// Does this CPU run AVX-512F (and does this build have the 8-lane walk:
/// Rust 1.89 or newer)?
pub fn has_avx512() -> bool {
    #[cfg(all(target_arch = "x86_64", tg_avx512))]
    {
        std::is_x86_feature_detected!("avx512f") && has_avx2()
    }
    #[cfg(not(all(target_arch = "x86_64", tg_avx512)))]
    {
        false
    }
}

#[cfg(all(target_arch = "x86_64", tg_avx512))]
#[target_feature(enable = "avx512f")]
unsafe fn group_avx512_unchecked(plan: &Plan, growth: &Growth, closes: &[&[f64]], outs: &mut [SymbolOut], sc: &mut LaneScratch<X8>) {
    group::<X8>(plan, growth, closes, outs, sc)
}

/// The 8-lane buffers.
#[derive(Default)]
pub struct Scratch8 {
    #[cfg(all(target_arch = "x86_64", tg_avx512))]
    avx512: LaneScratch<X8>,
}

/// The group in AVX-512 registers (no FMA): 5 to 8 symbols; 4 or fewer in
/// [`group_avx2`]. Called only where [`has_avx512`] holds.
pub fn group_avx512(plan: &Plan, growth: &Growth, closes: &[&[f64]], outs: &mut [SymbolOut], sc8: &mut Scratch8, sc4: &mut Scratch4) {
    #[cfg(all(target_arch = "x86_64", tg_avx512))]
    if closes.len() > 4 && has_avx512() {
        // SAFETY: the CPU runs AVX-512F (checked just above).
        unsafe { group_avx512_unchecked(plan, growth, closes, outs, &mut sc8.avx512) };
        return;
    }
    let _ = &sc8;
    assert!(closes.len() <= 4, "group_avx512 without AVX-512F: groups of 4 at most");
    group_avx2(plan, growth, closes, outs, sc4)
}
