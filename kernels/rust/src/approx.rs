//! Approximate moving averages of spec §11.1.

use crate::ma::{hull, pairwise, RESYNC};

/// pandas `rolling(L, min_periods=1).mean()`: the mean of the non-NaN
/// values among the last min(L, i+1) bars; a running sum, re-summed every
/// [`RESYNC`] bars and exact over a flat window.
pub fn sma1(p: &[f64], len: usize, out: &mut [f64]) {
    let (mut sum, mut count, mut run, mut last) = (0.0, 0usize, 0usize, f64::NAN);
    for i in 0..out.len() {
        let v = p[i];
        run = if v == last { run + 1 } else { 1 };
        last = v;
        if i >= len && i % RESYNC == 0 {
            let window = p[i + 1 - len..=i].iter().filter(|x| !x.is_nan());
            (sum, count) = window.fold((0.0, 0), |(s, c), x| (s + x, c + 1));
        } else {
            if !v.is_nan() {
                sum += v;
                count += 1;
            }
            if i >= len && !p[i - len].is_nan() {
                sum -= p[i - len];
                count -= 1;
            }
        }
        if run >= len || run == i + 1 {
            sum = v * count as f64;
        }
        out[i] = if count > 0 { sum / count as f64 } else { f64::NAN };
    }
}

/// The reference's `fast_wma_approx`: SMA1 during warm-up, then
/// `np.sum(window * (w / w.sum()))` with w = 1..L. O(L) per bar on purpose:
/// over flat prices the exact value ties with the close, and only this
/// rounding (pre-normalised weights, pairwise sum) lands the MA on the
/// reference's side of it, and so reproduces its crossovers.
pub fn wma_approx(p: &[f64], len: usize, out: &mut [f64]) {
    let n = p.len();
    if len <= 1 {
        out[..n].copy_from_slice(p);
        return;
    }
    let weights = wma_approx_weights(len);
    let mut products = vec![0.0; len];
    let mut nan = 0usize;
    for i in 0..n {
        nan += usize::from(p[i].is_nan());
        if i >= len {
            nan -= usize::from(p[i - len].is_nan());
        }
        if i + 1 >= len {
            out[i] = if nan > 0 {
                f64::NAN
            } else {
                // the elementwise product array, then np.sum
                for ((prod, x), w) in products.iter_mut().zip(&p[i + 1 - len..=i]).zip(&weights) {
                    *prod = x * w;
                }
                pairwise(&products)
            };
        }
    }
    // SMA1 over the first bars depends only on those bars
    let warm = n.min(len - 1);
    sma1(&p[..warm], len, &mut out[..warm]);
}

/// The weights 1..L pre-normalised by their total, oldest first.
pub fn wma_approx_weights(len: usize) -> Vec<f64> {
    let total = (len * (len + 1) / 2) as f64;
    (1..=len).map(|j| j as f64 / total).collect()
}

/// Hull over the approximate WMA; `tmp` holds 2n values.
pub fn hma_approx(p: &[f64], len: usize, out: &mut [f64], tmp: &mut [f64]) {
    hull(p, len, out, tmp, wma_approx);
}

/// 2 SMA1 - SMA1(SMA1); `tmp` holds n values.
pub fn dema_approx(p: &[f64], len: usize, out: &mut [f64], tmp: &mut [f64]) {
    let n = p.len();
    sma1(p, len, &mut tmp[..n]);
    sma1(&tmp[..n], len, &mut out[..n]);
    for (o, &s) in out[..n].iter_mut().zip(&tmp[..n]) {
        *o = 2.0 * s - *o;
    }
}

/// The window midpoint, written as the reference does: last - slope * L/2.
pub fn lsma_approx(p: &[f64], len: usize, out: &mut [f64]) {
    let n = p.len();
    if len <= 2 {
        out[..n].copy_from_slice(p);
        return;
    }
    let warm = n.min(len - 1);
    sma1(&p[..warm], len, &mut out[..warm]);
    let (l, half) = (len as f64, len as f64 / 2.0);
    for i in len - 1..n {
        let (last, first) = (p[i], p[i + 1 - len]);
        let slope = (last - first) / l;
        out[i] = last - slope * half;
    }
}

/// A fixed-alpha EMA seeded at p[0], alpha = 2 / (L+1)^2; NaN poisons it.
pub fn kama_approx(p: &[f64], len: usize, out: &mut [f64]) {
    let alpha = 2.0 / ((len + 1) * (len + 1)) as f64;
    let mut k = match p.first() {
        Some(&x) => x,
        None => return,
    };
    out[0] = k;
    for (o, &x) in out[1..p.len()].iter_mut().zip(&p[1..]) {
        k = k + alpha * (x - k);
        *o = k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ma::wma;

    #[test]
    fn wma_approx_is_wma_after_warmup() {
        let p: Vec<f64> = (0..400).map(|i| 100.0 + (i as f64 * 0.1).sin() * 5.0).collect();
        let (mut a, mut e) = (vec![0.0; 400], vec![0.0; 400]);
        wma_approx(&p, 28, &mut a);
        wma(&p, 28, &mut e);
        for i in 27..400 {
            assert!((a[i] - e[i]).abs() <= 1e-13 * e[i]);
        }
        // warm-up holds the expanding mean
        assert!((a[3] - (p[0] + p[1] + p[2] + p[3]) / 4.0).abs() < 1e-13);
    }

    #[test]
    fn sma1_and_kama_approx() {
        let p = [1.0, 2.0, f64::NAN, 4.0, 5.0, 6.0];
        let mut out = [0.0; 6];
        sma1(&p, 3, &mut out);
        assert_eq!(out[..3], [1.0, 1.5, 1.5]);
        assert_eq!(out[3], 3.0);
        assert_eq!(out[5], 5.0);
        kama_approx(&[10.0, 20.0], 1, &mut out[..2]);
        assert_eq!(out[1], 15.0);
    }
}
