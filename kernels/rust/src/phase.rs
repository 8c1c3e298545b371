//! The pipeline phase the calling thread is in, reported to the C side
//! (`host/core/tg_phase.h`): the profiler stamps each sample with it, so the
//! Rust backend's profile compares with the C and CUDA backends' phase by
//! phase. Without a hook (the crate's own tests) nothing happens.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `enum tg_phase` of tg_phase.h: + family for MAS and SIGNALS.
pub const MAS: u32 = 1;
pub const SIGNALS: u32 = 7;
/// + family: all of a family in one pass (a group of symbols in lanes)
pub const FUSED: u32 = 13;
pub const AVERAGE: u32 = 19;
pub const RETURNS: u32 = 20;
/// `TG_PHASE_APPROX`
pub const APPROX: u32 = 0x100;

/// The values above in this order, for the C side's check at start-up.
pub const IDS: [u32; 6] = [MAS, SIGNALS, FUSED, AVERAGE, RETURNS, APPROX];

static HOOK: AtomicUsize = AtomicUsize::new(0);
static GROUP_HOOK: AtomicUsize = AtomicUsize::new(0);

/// Sets (or clears) the function told of every phase change, and the one
/// told that the thread's next symbol is n symbols computed together
/// (`tg_phase_next_symbols`).
pub fn set_hook(f: Option<extern "C" fn(u32)>, group: Option<extern "C" fn(u32)>) {
    HOOK.store(f.map_or(0, |f| f as usize), Ordering::Relaxed);
    GROUP_HOOK.store(group.map_or(0, |f| f as usize), Ordering::Relaxed);
}

/// The calling thread's next symbol (its RETURNS phase) is n symbols in
/// vector lanes: they count as n for the profiler's per-symbol ranges.
#[inline]
pub fn group(n: u32) {
    call(&GROUP_HOOK, n);
}

/// The calling thread enters phase p (0: none).
#[inline]
pub fn enter(p: u32) {
    call(&HOOK, p);
}

#[inline]
fn call(hook: &AtomicUsize, v: u32) {
    let h = hook.load(Ordering::Relaxed);
    if h != 0 {
        // SAFETY: only set_hook stores non-zero values, and those are
        // `extern "C" fn(u32)` pointers.
        let f: extern "C" fn(u32) = unsafe { std::mem::transmute(h) };
        f(v);
    }
}
