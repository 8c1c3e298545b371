//! The pipeline phase the calling thread is in, reported to the C side
//! (`host/core/tg_phase.h`): the profiler stamps each sample with it, so the
//! Rust backend's profile compares with the C and CUDA backends' phase by
//! phase. Without a hook (the crate's own tests) nothing happens.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `enum tg_phase` of tg_phase.h: + family for MAS and SIGNALS.
pub const MAS: u32 = 1;
pub const SIGNALS: u32 = 7;
pub const AVERAGE: u32 = 19;
pub const RETURNS: u32 = 20;
/// `TG_PHASE_APPROX`
pub const APPROX: u32 = 0x100;

/// The values above in this order, for the C side's check at start-up.
pub const IDS: [u32; 5] = [MAS, SIGNALS, AVERAGE, RETURNS, APPROX];

static HOOK: AtomicUsize = AtomicUsize::new(0);

/// Sets (or clears) the function told of every phase change.
pub fn set_hook(f: Option<extern "C" fn(u32)>) {
    HOOK.store(f.map_or(0, |f| f as usize), Ordering::Relaxed);
}

/// The calling thread enters phase p (0: none).
#[inline]
pub fn enter(p: u32) {
    let h = HOOK.load(Ordering::Relaxed);
    if h != 0 {
        // SAFETY: only set_hook stores non-zero values, and those are
        // `extern "C" fn(u32)` pointers.
        let f: extern "C" fn(u32) = unsafe { std::mem::transmute(h) };
        f(p);
    }
}
