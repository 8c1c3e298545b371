//! A batch of symbols over worker threads (the backend's [`Pool`], or
//! `std::thread::scope` without one): each worker takes the next group of
//! symbols (one per vector lane, [`crate::lanes`]; one symbol in the scalar
//! walk) from a shared queue, so series of different lengths balance, and
//! keeps its own scratch (a pool worker keeps it from run to run).

use std::cell::RefCell;
use std::sync::Mutex;

use crate::pool::Pool;

use crate::params::{Plan, FAMILIES, SLOTS};
use crate::lanes;
use crate::pipeline::{run_symbol, Growth, Scratch, SymbolOut};

/// The batch's prices: `n_symbols` rows of `stride` closes.
pub struct Prices<'a> {
    pub close: &'a [f64],
    pub n_bars: Option<&'a [i32]>,
    pub n_symbols: usize,
    pub stride: usize,
}

impl Prices<'_> {
    pub fn bars(&self, s: usize) -> usize {
        self.n_bars.map_or(self.stride, |b| b[s] as usize)
    }

    pub fn row(&self, s: usize) -> &[f64] {
        &self.close[s * self.stride..s * self.stride + self.bars(s)]
    }
}

/// The caller's output buffers, each covering the whole batch.
#[derive(Default)]
pub struct Outputs<'a> {
    pub average: Option<&'a mut [f64]>,
    pub final_signal: Option<&'a mut [i8]>,
    pub final_value: Option<&'a mut [f64]>,
    pub r: Option<&'a mut [f64]>,
    pub ma: Option<&'a mut [f64]>,
    pub l1_signal: Option<&'a mut [f64]>,
    pub l2_equity: Option<&'a mut [f64]>,
    pub slot_ma: Option<&'a mut [f64]>,
    pub slot_signal: Option<&'a mut [i8]>,
    pub slot_equity: Option<&'a mut [f64]>,
}

/// How symbols are walked (the C engine's `enum tg_cpu_simd`, chosen by
/// the C side from `TG_CPU_SIMD` and the CPU).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simd {
    /// one symbol at a time
    Scalar,
    /// groups of 2, the baseline vector unit
    Generic,
    /// groups of 4 in AVX2 registers (the baseline unit where the CPU has none)
    Avx2,
    /// groups of 8 in AVX-512 registers, 4 or fewer in AVX2 (AVX2's groups
    /// where the CPU or the compiler has no AVX-512F)
    Avx512,
}

impl Simd {
    pub fn from_c(v: i32) -> Simd {
        match v {
            0 => Simd::Scalar,
            1 => Simd::Generic,
            2 => Simd::Avx2,
            _ => Simd::Avx512,
        }
    }

    /// symbols per group
    pub fn lanes(self) -> usize {
        match self {
            Simd::Scalar => 1,
            Simd::Generic => 2,
            Simd::Avx2 => 4,
            Simd::Avx512 => 8,
        }
    }
}

/// Fewer symbols than this left over: they run one at a time (a lone
/// symbol runs faster alone than in an otherwise empty group).
pub const GROUP_MIN: usize = 2;

/// Called on each worker thread when it starts and before it ends.
pub trait ThreadHooks: Sync {
    fn start(&self, worker: usize);
    fn stop(&self, worker: usize);
}

/// Cuts `plane`-major buffers ([plane][symbol][bar]) into per-symbol rows
/// and hands each row to `assign(symbol, plane, row)`.
fn split_rows<'a, T>(
    buf: Option<&'a mut [T]>,
    stride: usize,
    symbols: usize,
    mut assign: impl FnMut(usize, usize, &'a mut [T]),
) {
    if let Some(buf) = buf {
        if stride == 0 {
            return;
        }
        for (idx, row) in buf.chunks_mut(stride).enumerate() {
            assign(idx % symbols, idx / symbols, row);
        }
    }
}

/// Per-symbol output handles: disjoint mutable rows of the caller's buffers.
fn per_symbol<'a>(out: Outputs<'a>, prices: &Prices) -> Vec<SymbolOut<'a>> {
    let (symbols, stride) = (prices.n_symbols, prices.stride);
    let mut v: Vec<SymbolOut<'a>> = (0..symbols)
        .map(|_| SymbolOut {
            slot_ma: (0..FAMILIES * SLOTS).map(|_| None).collect(),
            slot_signal: (0..FAMILIES * SLOTS).map(|_| None).collect(),
            slot_equity: (0..FAMILIES * SLOTS).map(|_| None).collect(),
            ..SymbolOut::default()
        })
        .collect();
    split_rows(out.average, stride, symbols, |s, _, row| v[s].average = Some(row));
    split_rows(out.r, stride, symbols, |s, _, row| v[s].r = Some(row));
    split_rows(out.ma, stride, symbols, |s, f, row| v[s].ma[f] = Some(row));
    split_rows(out.l1_signal, stride, symbols, |s, f, row| v[s].l1_signal[f] = Some(row));
    split_rows(out.l2_equity, stride, symbols, |s, f, row| v[s].l2_equity[f] = Some(row));
    split_rows(out.slot_ma, stride, symbols, |s, k, row| v[s].slot_ma[k] = Some(row));
    split_rows(out.slot_signal, stride, symbols, |s, k, row| v[s].slot_signal[k] = Some(row));
    split_rows(out.slot_equity, stride, symbols, |s, k, row| v[s].slot_equity[k] = Some(row));
    if let Some(fs) = out.final_signal {
        for (s, x) in fs.iter_mut().enumerate() {
            v[s].final_signal = Some(x);
        }
    }
    if let Some(fv) = out.final_value {
        for (s, x) in fv.iter_mut().enumerate() {
            v[s].final_value = Some(x);
        }
    }
    v
}

thread_local! {
    /// A pool worker's buffers, kept from run to run.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs the pipeline over every symbol on the pool's workers, or without
/// a pool on `threads` scoped workers (at least 1, at most one per symbol;
/// if none can be started, the calling thread does the work). A worker's
/// panic comes back as Err once the others are done.
pub fn run(
    plan: &Plan,
    prices: &Prices,
    out: Outputs,
    simd: Simd,
    threads: usize,
    hooks: Option<&dyn ThreadHooks>,
    pool: Option<&Pool>,
) -> Result<(), String> {
    let growth = Growth::new(plan, prices.stride);
    // the 8-lane walk needs the CPU's AVX-512F and a compiler that has it
    let simd = if simd == Simd::Avx512 && !lanes::has_avx512() { Simd::Avx2 } else { simd };
    let unit = simd.lanes();
    let mut outs = per_symbol(out, prices).into_iter();
    let groups: Vec<(usize, Vec<SymbolOut>)> = (0..prices.n_symbols)
        .step_by(unit)
        .map(|s0| (s0, outs.by_ref().take(unit).collect()))
        .collect();
    let work = Mutex::new(groups.into_iter());
    let drain = |scratch: &mut Scratch| loop {
        // the lock is held only to take the next group
        let next = work.lock().unwrap_or_else(|e| e.into_inner()).next();
        let (s0, mut group_out) = match next {
            Some(item) => item,
            None => break,
        };
        let lanes = group_out.len();
        if lanes < GROUP_MIN {
            for (k, o) in group_out.iter_mut().enumerate() {
                run_symbol(plan, &growth, prices.row(s0 + k), o, scratch);
            }
            continue;
        }
        let mut closes: [&[f64]; 8] = [&[]; 8];
        for (k, c) in closes.iter_mut().enumerate().take(lanes) {
            *c = prices.row(s0 + k);
        }
        match simd {
            Simd::Avx512 => lanes::group_avx512(plan, &growth, &closes[..lanes], &mut group_out, &mut scratch.lanes8, &mut scratch.lanes4),
            Simd::Avx2 => lanes::group_avx2(plan, &growth, &closes[..lanes], &mut group_out, &mut scratch.lanes4),
            _ => lanes::group_generic(plan, &growth, &closes[..lanes], &mut group_out, &mut scratch.lanes2),
        }
    };
    if let Some(pool) = pool {
        return pool.run(&|_worker| SCRATCH.with(|sc| drain(&mut sc.borrow_mut())));
    }
    let worker_loop = |worker: usize| {
        if let Some(h) = hooks {
            h.start(worker);
        }
        drain(&mut Scratch::default());
        if let Some(h) = hooks {
            h.stop(worker);
        }
    };
    let workers = threads.clamp(1, prices.n_symbols.max(1));
    std::thread::scope(|scope| {
        let started = (0..workers)
            .filter(|&worker| {
                std::thread::Builder::new()
                    .name(format!("tg-rust-{worker}"))
                    .spawn_scoped(scope, move || worker_loop(worker))
                    .is_ok()
            })
            .count();
        if started == 0 {
            worker_loop(0);
        }
    });
    Ok(())
}
