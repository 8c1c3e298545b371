//! The parameters of spec §1, mirrored from `struct tg_atc_params`.

/// `struct tg_atc_params` (tg_kernels.h), field for field.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct AtcParams {
    pub length: [i32; FAMILIES],
    pub weight: [f64; FAMILIES],
    pub lambda: f64,
    pub decay: f64,
    pub cutout: i32,
    pub robustness: i32,
    pub long_threshold: f64,
    pub short_threshold: f64,
    pub min_signal: f64,
    pub ma_mode: i32,
    pub lsma_point: i32,
    pub strategy_mode: i32,
    pub reserved: i32,
}

impl Default for AtcParams {
    /// The defaults of spec §1.
    fn default() -> Self {
        AtcParams {
            length: [28; FAMILIES],
            weight: [1.0; FAMILIES],
            lambda: 0.02,
            decay: 0.03,
            cutout: 0,
            robustness: 1,
            long_threshold: 0.1,
            short_threshold: -0.1,
            min_signal: 0.01,
            ma_mode: 0,
            lsma_point: 0,
            strategy_mode: 0,
            reserved: 0,
        }
    }
}

pub const FAMILIES: usize = 6;
pub const SLOTS: usize = 9;

/// Family order: every per-family array and the Layer-2 sum use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Ema,
    Hma,
    Wma,
    Dema,
    Lsma,
    Kama,
}

impl Family {
    pub const ALL: [Family; FAMILIES] = [
        Family::Ema,
        Family::Hma,
        Family::Wma,
        Family::Dema,
        Family::Lsma,
        Family::Kama,
    ];

    pub fn name(self) -> &'static str {
        ["EMA", "HMA", "WMA", "DEMA", "LSMA", "KAMA"][self as usize]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaMode {
    Exact,
    Approx,
}

/// Where the LSMA line is read (spec §3.5, §14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LsmaPoint {
    Last,
    Penultimate,
}

const OFFSETS: [[usize; 4]; 3] = [[1, 2, 3, 4], [1, 2, 4, 6], [1, 3, 5, 7]];

/// Parameters checked and turned into what the pipeline uses.
#[derive(Clone, Debug)]
pub struct Plan {
    pub lengths: [[usize; SLOTS]; FAMILIES],
    pub slots: usize,
    pub weight: [f64; FAMILIES],
    pub lambda: f64,
    pub d: f64,
    pub cutout: usize,
    pub long_threshold: f64,
    pub short_threshold: f64,
    pub min_signal: f64,
    pub mode: MaMode,
    pub lsma_point: LsmaPoint,
    pub strategy_mode: bool,
}

impl Plan {
    /// Validates the parameters (the C side validated them too; this keeps
    /// the Rust code total on its own) and derives the 9 lengths per family
    /// in slot order MA, MA1..MA4, MA_1..MA_4.
    pub fn new(p: &AtcParams) -> Result<Plan, String> {
        let robustness = usize::try_from(p.robustness)
            .ok()
            .filter(|r| *r < 3)
            .ok_or_else(|| format!("robustness {} is not narrow, medium or wide", p.robustness))?;
        let mode = match p.ma_mode {
            0 => MaMode::Exact,
            1 => MaMode::Approx,
            m => return Err(format!("MA mode {m} is not exact (0) or approx (1)")),
        };
        let lsma_point = match p.lsma_point {
            0 => LsmaPoint::Last,
            1 => LsmaPoint::Penultimate,
            m => return Err(format!("LSMA point {m} is not last (0) or penultimate (1)")),
        };
        let off = OFFSETS[robustness];
        let mut lengths = [[0usize; SLOTS]; FAMILIES];
        for (f, row) in lengths.iter_mut().enumerate() {
            let base = p.length[f] as i64;
            let shortest = if mode == MaMode::Approx { base } else { base - off[3] as i64 };
            if shortest < 2 {
                return Err(format!(
                    "{} length {base}: derived lengths go down to {shortest}; all must be >= 2",
                    Family::ALL[f].name()
                ));
            }
            let base = base as usize;
            row[0] = base;
            for k in 0..4 {
                row[1 + k] = base + off[k];
                row[5 + k] = base.saturating_sub(off[k]);
            }
            if !p.weight[f].is_finite() || p.weight[f] < 0.0 {
                return Err(format!("{} weight {} must be finite and >= 0", Family::ALL[f].name(), p.weight[f]));
            }
        }
        if !p.lambda.is_finite() || !p.decay.is_finite() || !(0.0..100.0).contains(&p.decay) {
            return Err(format!("lambda {} / decay {} out of range", p.lambda, p.decay));
        }
        let cutout = usize::try_from(p.cutout).map_err(|_| format!("cutout {} is negative", p.cutout))?;
        Ok(Plan {
            lengths,
            slots: if mode == MaMode::Approx { 1 } else { SLOTS },
            weight: p.weight,
            lambda: p.lambda / 1000.0,
            d: 1.0 - p.decay / 100.0,
            cutout,
            long_threshold: p.long_threshold,
            short_threshold: p.short_threshold,
            min_signal: p.min_signal,
            mode,
            lsma_point,
            strategy_mode: p.strategy_mode != 0,
        })
    }

    /// The longest window any MA of this plan needs.
    pub fn longest(&self) -> usize {
        self.lengths.iter().flat_map(|row| row[..self.slots].iter()).copied().max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> AtcParams {
        AtcParams::default()
    }

    #[test]
    fn layout_matches_c() {
        assert_eq!(std::mem::size_of::<AtcParams>(), 136);
        assert_eq!(std::mem::align_of::<AtcParams>(), 8);
    }

    #[test]
    fn lengths_per_robustness() {
        let mut p = defaults();
        let plan = Plan::new(&p).unwrap();
        assert_eq!(plan.lengths[0], [28, 29, 30, 32, 34, 27, 26, 24, 22]);
        p.robustness = 2;
        assert_eq!(Plan::new(&p).unwrap().lengths[5], [28, 29, 31, 33, 35, 27, 25, 23, 21]);
        p.robustness = 0;
        assert_eq!(Plan::new(&p).unwrap().longest(), 32);
    }

    #[test]
    fn rejects_bad_parameters() {
        let mut p = defaults();
        p.length[3] = 7;
        assert!(Plan::new(&p).unwrap_err().contains("DEMA length 7"));
        let mut p = defaults();
        p.robustness = 5;
        assert!(Plan::new(&p).is_err());
        let mut p = defaults();
        p.cutout = -1;
        assert!(Plan::new(&p).is_err());
        let mut p = defaults();
        p.weight[1] = f64::NAN;
        assert!(Plan::new(&p).is_err());
    }
}
