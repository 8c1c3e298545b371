//! Per-bar steps of the ATC recurrences (spec §3.1, §4-§10). Operation
//! order follows the reference so results match it to the bit where it is
//! deterministic; Rust never fuses multiply-adds on its own.

pub const EQUITY_FLOOR: f64 = 0.25;
pub const KAMA_FAST: f64 = 0.666;
pub const KAMA_SLOW: f64 = 0.064;

/// alpha = 2 / (L + 1) as pandas writes it, and 1 - alpha.
pub fn ewm_coefficients(len: usize) -> (f64, f64) {
    let alpha = 1.0 / (1.0 + (len as f64 - 1.0) / 2.0);
    (alpha, 1.0 - alpha)
}

/// pandas `ewm(span=L, adjust=False).mean()` (spec §3.1).
#[derive(Clone, Copy, Debug)]
pub struct Ewm {
    y: f64,
    w: f64,
    alpha: f64,
    beta: f64,
}

impl Ewm {
    pub fn new(len: usize) -> Ewm {
        let (alpha, beta) = ewm_coefficients(len);
        Ewm { y: f64::NAN, w: 1.0, alpha, beta }
    }

    /// Feeds one input (NaN = missing) and returns the output for the bar.
    pub fn step(&mut self, x: f64) -> f64 {
        if !self.y.is_nan() {
            self.w *= self.beta;
            if !x.is_nan() {
                // "skip if equal": constant inputs never drift
                if self.y != x {
                    let num = self.w * self.y + self.alpha * x;
                    let den = self.w + self.alpha;
                    // den is exactly 1 between gaps, and x / 1.0 == x
                    self.y = if den == 1.0 { num } else { num / den };
                }
                self.w = 1.0;
            }
        } else if !x.is_nan() {
            self.y = x;
        }
        self.y
    }
}

/// Crossover state machine (spec §5). NaN compares false, so never crosses.
#[inline]
pub fn cross(state: i8, close: f64, ma: f64, prev_close: f64, prev_ma: f64) -> i8 {
    let up = (close > ma) & (prev_close <= prev_ma);
    let down = (close < ma) & (prev_close >= prev_ma);
    if up {
        1
    } else if down {
        -1
    } else {
        state
    }
}

/// Equity recursion of spec §6 for one bar: `prev` is NaN on the first
/// active bar (and restarts the equity wherever it is NaN, as the C
/// engine's tg_equity_step), `sp` the previous bar's signal (NaN at bar 0),
/// `r` = R x growth.
#[inline]
pub fn equity(prev: f64, sp: f64, r: f64, start: f64, d: f64) -> f64 {
    let e = match prev {
        prev if prev.is_nan() => start,
        prev => {
            let a = if sp.is_nan() || r.is_nan() || sp == 0.0 {
                0.0
            } else if sp > 0.0 {
                r
            } else {
                -r
            };
            (prev * d) * (1.0 + a)
        }
    };
    e.max_floor()
}

trait Floor {
    fn max_floor(self) -> f64;
}

impl Floor for f64 {
    #[inline]
    fn max_floor(self) -> f64 {
        if self < EQUITY_FLOOR {
            EQUITY_FLOOR
        } else {
            self
        }
    }
}

/// Layer-1 equity after bar 0 for a crossover state: `a = state * r` is
/// exactly +r, -r or 0 (and 1 + -0.0 == 1), with NaN returns given as 0.
#[inline]
pub fn equity_next(prev: f64, state: i8, r_clean: f64, d: f64) -> f64 {
    ((prev * d) * (1.0 + f64::from(state) * r_clean)).max_floor()
}

/// num / den rounded to 2 decimals half-to-even (numpy `round(2)`); a
/// non-finite ratio is NaN (spec §7).
#[inline]
pub fn round2_ratio(num: f64, den: f64) -> f64 {
    let v = num / den;
    if v.is_finite() {
        round_half_even(v * 100.0) / 100.0
    } else {
        f64::NAN
    }
}

/// C's rint() in the default rounding mode: round half to even.
#[cfg(tg_round_ties_even)]
#[inline]
pub fn round_half_even(x: f64) -> f64 {
    x.round_ties_even()
}

/// C's rint() for compilers before Rust 1.77 (Debian's 1.63): adding and
/// subtracting 2^52 leaves no fraction bits, so the FPU's own
/// round-to-nearest-even does the rounding; larger values are integers.
#[cfg(not(tg_round_ties_even))]
#[inline]
pub fn round_half_even(x: f64) -> f64 {
    const TWO52: f64 = 4_503_599_627_370_496.0;
    if x.abs() < TWO52 {
        let s = TWO52.copysign(x);
        ((x + s) - s).copysign(x)
    } else {
        x
    }
}

/// Cut with the long/short thresholds (spec §9); NaN counts 0.
#[inline]
pub fn cut(s: f64, long_threshold: f64, short_threshold: f64) -> f64 {
    if s > long_threshold {
        1.0
    } else if s < short_threshold {
        -1.0
    } else {
        0.0
    }
}

/// `exp_growth` (spec §4): bars are [1, 1, 2, 3, ...], e^(lambda (bar -
/// cutout)) from the cutout on, 1 before it; infinity becomes f64::MAX.
pub fn growth(bar: usize, lambda: f64, cutout: usize) -> f64 {
    let b = bar.max(1);
    if b < cutout {
        return 1.0;
    }
    let g = std::f64::consts::E.powf(lambda * (b - cutout) as f64);
    if g.is_infinite() {
        f64::MAX.copysign(g)
    } else {
        g
    }
}

/// KAMA smoothing constant from the efficiency ratio (spec §3.6).
#[inline]
pub fn kama_sc(signal: f64, noise: f64) -> f64 {
    let ratio = if noise == 0.0 { 0.0 } else { signal / noise };
    let t = ratio * (KAMA_FAST - KAMA_SLOW) + KAMA_SLOW;
    t * t
}

/// The final long/short classification (spec §10).
pub fn final_signal(last: f64, min_signal: f64) -> i8 {
    if last.is_nan() || last.abs() < min_signal {
        0
    } else if last > 0.0 {
        1
    } else if last < 0.0 {
        -1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ewm_gap_reweights() {
        let mut e = Ewm::new(10);
        let a = 1.0 / 5.5;
        assert_eq!(e.step(100.0), 100.0);
        let y1 = e.step(110.0);
        assert!((y1 - (100.0 * (1.0 - a) + 110.0 * a)).abs() < 1e-12);
        assert_eq!(e.step(f64::NAN), y1);
        assert_eq!(e.step(f64::NAN), y1);
        let w = (1.0 - a) * (1.0 - a) * (1.0 - a);
        let y2 = e.step(90.0);
        assert!((y2 - (w * y1 + a * 90.0) / (w + a)).abs() < 1e-12);
        let mut c = Ewm::new(7);
        for _ in 0..100 {
            assert_eq!(c.step(42.5), 42.5);
        }
    }

    #[test]
    fn steps() {
        assert_eq!(cross(0, 11.0, 10.0, 10.0, 10.0), 1);
        assert_eq!(cross(0, 10.0, 10.0, 9.0, 9.0), 0);
        assert_eq!(cross(1, 9.0, 10.0, 10.0, 10.0), -1);
        assert_eq!(cross(-1, 11.0, 10.0, f64::NAN, 10.0), -1);
        assert_eq!(equity(f64::NAN, f64::NAN, f64::NAN, 0.2, 0.99), 0.25);
        assert_eq!(equity(1.0, -1.0, 0.01, 1.0, 0.5), 0.5 * 0.99);
        assert_eq!(equity_next(1.0, 0, 0.01, 0.5), 0.5);
        assert_eq!(equity_next(1.0, -1, -0.01, 1.0), 1.01);
        assert_eq!(round2_ratio(1.0, 3.0), 0.33);
        assert_eq!(round2_ratio(0.125, 1.0), 0.12);
        for (x, want) in [(0.5, 0.0), (1.5, 2.0), (2.5, 2.0), (-0.5, -0.0), (-1.5, -2.0), (-2.5, -2.0), (2.4999, 2.0), (3.7, 4.0), (-3.2, -3.0), (4503599627370497.0, 4503599627370497.0)] {
            let got = round_half_even(x);
            assert!(got == want && got.is_sign_negative() == want.is_sign_negative(), "{x} -> {got}");
        }
        assert!(round2_ratio(1.0, 0.0).is_nan());
        assert_eq!(cut(f64::NAN, 0.1, -0.1), 0.0);
        assert_eq!(growth(0, 0.5, 0), growth(1, 0.5, 0));
        assert_eq!(growth(5, 0.5, 10), 1.0);
        assert_eq!(growth(100_000, 1.0, 0), f64::MAX);
        assert_eq!(final_signal(-0.3, 0.01), -1);
        assert_eq!(final_signal(0.005, 0.01), 0);
    }
}
