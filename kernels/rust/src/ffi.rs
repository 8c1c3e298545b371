//! The C boundary: `tg_rust_atc_run`, called by `kernels/rust/rust_backend.c`.
//! The only `unsafe` code of the crate: raw buffers become slices here, a
//! panic is caught here, and errors leave as negative status codes with a
//! message (the values of `enum tg_status`).

// (std::os::raw: std::ffi has the C types only from Rust 1.64; the crate builds with 1.63)
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use std::sync::Arc;

use crate::batch::{self, Outputs, Prices, Simd, ThreadHooks};
use crate::pool::Pool;
use crate::params::{AtcParams, Plan, FAMILIES, SLOTS};

const TG_E_INVAL: c_int = -1;
const TG_E_INTERNAL: c_int = -10;

/// `struct tg_batch`
#[repr(C)]
pub struct TgBatch {
    pub close: *const f64,
    pub n_bars: *const i32,
    pub n_symbols: i32,
    pub stride: i32,
}

/// `struct tg_atc_outputs`
#[repr(C)]
pub struct TgOutputs {
    pub average: *mut f64,
    pub final_signal: *mut i8,
    pub final_value: *mut f64,
    pub r: *mut f64,
    pub ma: *mut f64,
    pub l1_signal: *mut f64,
    pub l2_equity: *mut f64,
    pub slot_ma: *mut f64,
    pub slot_signal: *mut i8,
    pub slot_equity: *mut f64,
}

/// `struct tg_thread_hooks`
#[repr(C)]
pub struct TgThreadHooks {
    pub on_start: Option<unsafe extern "C" fn(*mut c_void, c_int)>,
    pub on_stop: Option<unsafe extern "C" fn(*mut c_void, c_int)>,
    pub ctx: *mut c_void,
}

struct CHooks<'a>(&'a TgThreadHooks);

// The C side promises its hooks may be called from any worker thread.
unsafe impl Sync for CHooks<'_> {}

impl ThreadHooks for CHooks<'_> {
    fn start(&self, worker: usize) {
        if let Some(f) = self.0.on_start {
            // SAFETY: a C callback with the context the caller gave us.
            unsafe { f(self.0.ctx, worker as c_int) }
        }
    }

    fn stop(&self, worker: usize) {
        if let Some(f) = self.0.on_stop {
            // SAFETY: as above.
            unsafe { f(self.0.ctx, worker as c_int) }
        }
    }
}

/// The C hooks, copied, for a pool that outlives the call that made it.
struct OwnedHooks(TgThreadHooks);

// SAFETY: the C side promises its hooks and context may be used from any
// worker thread for as long as the pool lives (rust_backend.c frees the
// pool before its state).
unsafe impl Send for OwnedHooks {}
unsafe impl Sync for OwnedHooks {}

impl ThreadHooks for OwnedHooks {
    fn start(&self, worker: usize) {
        CHooks(&self.0).start(worker)
    }

    fn stop(&self, worker: usize) {
        CHooks(&self.0).stop(worker)
    }
}

/// A pool of `threads` workers for every later `tg_rust_atc_run`, the
/// hooks run once per worker (start, and stop when the pool is freed).
/// NULL when even the pool object cannot be made.
///
/// # Safety
/// `hooks` is NULL or valid, its callbacks usable until `tg_rust_pool_free`.
#[no_mangle]
pub unsafe extern "C" fn tg_rust_pool_new(threads: c_int, hooks: *const TgThreadHooks) -> *mut Pool {
    let owned: Option<Arc<dyn ThreadHooks + Send>> = (!hooks.is_null()).then(|| {
        let h = &*hooks;
        Arc::new(OwnedHooks(TgThreadHooks { on_start: h.on_start, on_stop: h.on_stop, ctx: h.ctx }))
            as Arc<dyn ThreadHooks + Send>
    });
    match catch_unwind(AssertUnwindSafe(|| Pool::new(threads.max(1) as usize, owned))) {
        Ok(pool) => Box::into_raw(Box::new(pool)),
        Err(_) => std::ptr::null_mut(),
    }
}

/// Workers the pool runs (0: it runs jobs on the calling thread).
///
/// # Safety
/// `pool` comes from `tg_rust_pool_new`.
#[no_mangle]
pub unsafe extern "C" fn tg_rust_pool_threads(pool: *const Pool) -> c_int {
    if pool.is_null() {
        0
    } else {
        (*pool).threads() as c_int
    }
}

/// Stops and joins the workers.
///
/// # Safety
/// `pool` comes from `tg_rust_pool_new` and no run is using it.
#[no_mangle]
pub unsafe extern "C" fn tg_rust_pool_free(pool: *mut Pool) {
    if !pool.is_null() {
        drop(Box::from_raw(pool));
    }
}

/// Writes msg into the caller's buffer, NUL-terminated and truncated.
fn report(err: *mut c_char, cap: usize, msg: &str) {
    if err.is_null() || cap == 0 {
        return;
    }
    let bytes = msg.as_bytes();
    let n = bytes.len().min(cap - 1);
    // SAFETY: the caller gave err with room for cap bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), err, n);
        *err.add(n) = 0;
    }
}

/// # Safety
/// `ptr` is NULL or valid for `len` elements for the duration of the call.
unsafe fn slice_mut<'a, T>(ptr: *mut T, len: usize) -> Option<&'a mut [T]> {
    (!ptr.is_null()).then(|| std::slice::from_raw_parts_mut(ptr, len))
}

/// Runs the ATC pipeline over a batch (see `tg_kernels.h`), walking the
/// symbols as `simd` says (0 scalar, 1 groups of 2 on the baseline unit,
/// 2 groups of 4 in AVX2, 3 groups of 8 in AVX-512: `enum tg_cpu_simd`). Returns 0, or a negative
/// `enum tg_status` with a message in `err`.
///
/// # Safety
/// Every pointer is NULL (where the ABI allows it) or points to memory laid
/// out as `tg_kernels.h` describes, valid and not aliased by other writers
/// during the call; `err` has room for `err_cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn tg_rust_atc_run(
    params: *const AtcParams,
    params_size: usize,
    batch: *const TgBatch,
    out: *const TgOutputs,
    simd: c_int,
    threads: c_int,
    hooks: *const TgThreadHooks,
    pool: *const Pool,
    err: *mut c_char,
    err_cap: usize,
) -> c_int {
    if params.is_null() || batch.is_null() || out.is_null() {
        report(err, err_cap, "rust backend: NULL parameters, batch or outputs");
        return TG_E_INVAL;
    }
    if params_size != std::mem::size_of::<AtcParams>() {
        report(
            err,
            err_cap,
            &format!(
                "rust backend: struct tg_atc_params is {params_size} bytes in C but {} in Rust; \
                 rebuild both from the same tg_kernels.h",
                std::mem::size_of::<AtcParams>()
            ),
        );
        return TG_E_INVAL;
    }
    let (p, b, o) = (&*params, &*batch, &*out);
    let plan = match Plan::new(p) {
        Ok(plan) => plan,
        Err(msg) => {
            report(err, err_cap, &format!("rust backend: {msg}"));
            return TG_E_INVAL;
        }
    };
    if b.n_symbols < 0 || b.stride < 0 || (b.close.is_null() && b.n_symbols > 0) {
        report(err, err_cap, &format!("rust backend: invalid batch {} x {}", b.n_symbols, b.stride));
        return TG_E_INVAL;
    }
    let (symbols, stride) = (b.n_symbols as usize, b.stride as usize);
    let cells = symbols * stride;
    let n_bars = (!b.n_bars.is_null()).then(|| std::slice::from_raw_parts(b.n_bars, symbols));
    if let Some(bars) = n_bars {
        if let Some((s, &n)) = bars.iter().enumerate().find(|(_, &n)| n < 0 || n as usize > stride) {
            report(err, err_cap, &format!("rust backend: symbol {s} has {n} bars, outside 0..{stride}"));
            return TG_E_INVAL;
        }
    }
    let prices = Prices {
        close: if cells == 0 { &[] } else { std::slice::from_raw_parts(b.close, cells) },
        n_bars,
        n_symbols: symbols,
        stride,
    };
    let outputs = Outputs {
        average: slice_mut(o.average, cells),
        final_signal: slice_mut(o.final_signal, symbols),
        final_value: slice_mut(o.final_value, symbols),
        r: slice_mut(o.r, cells),
        ma: slice_mut(o.ma, FAMILIES * cells),
        l1_signal: slice_mut(o.l1_signal, FAMILIES * cells),
        l2_equity: slice_mut(o.l2_equity, FAMILIES * cells),
        slot_ma: slice_mut(o.slot_ma, FAMILIES * SLOTS * cells),
        slot_signal: slice_mut(o.slot_signal, FAMILIES * SLOTS * cells),
        slot_equity: slice_mut(o.slot_equity, FAMILIES * SLOTS * cells),
    };
    let c_hooks = (!hooks.is_null()).then(|| CHooks(&*hooks));
    let pool = (!pool.is_null()).then(|| &*pool);
    let result = guarded(|| {
        let hooks = c_hooks.as_ref().map(|h| h as &dyn ThreadHooks);
        batch::run(&plan, &prices, outputs, Simd::from_c(simd), threads.max(1) as usize, hooks, pool)
    })
    .and_then(|r| r.map_err(|msg| format!("rust backend: internal error (panic): {msg}")));
    match result {
        Ok(()) => 0,
        Err(msg) => {
            report(err, err_cap, &msg);
            TG_E_INTERNAL
        }
    }
}

/// Runs f, turning a panic into an error message: nothing unwinds into C.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        format!("rust backend: internal error (panic): {what}")
    })
}

/// Tells the crate the C function to call at every phase change
/// (`tg_phase_enter` with the backend's colour) and the one to call before
/// a group of n symbols (`tg_phase_next_symbols`); NULL: none.
#[no_mangle]
pub extern "C" fn tg_rust_set_phase_hook(f: Option<extern "C" fn(u32)>, group: Option<extern "C" fn(u32)>) {
    crate::phase::set_hook(f, group);
}

/// Does the crate see AVX2 on this CPU (what its AVX2 walk checks)?
#[no_mangle]
pub extern "C" fn tg_rust_has_avx2() -> c_int {
    c_int::from(crate::lanes::has_avx2())
}

/// Does the crate see AVX-512F on this CPU, and has it the 8-lane walk
/// (built by Rust 1.89 or newer)?
#[no_mangle]
pub extern "C" fn tg_rust_has_avx512() -> c_int {
    c_int::from(crate::lanes::has_avx512())
}

/// The phase ids the crate uses (see `phase::IDS`), for the C side's check
/// against tg_phase.h: writes up to `n`, returns how many there are.
///
/// # Safety
/// `out` is valid for `n` writes.
#[no_mangle]
pub unsafe extern "C" fn tg_rust_phase_ids(out: *mut u32, n: usize) -> usize {
    for (i, &id) in crate::phase::IDS.iter().enumerate().take(n) {
        *out.add(i) = id;
    }
    crate::phase::IDS.len()
}

/// Size of `struct tg_atc_params` as Rust sees it, for the C side's check.
#[no_mangle]
pub extern "C" fn tg_rust_params_size() -> usize {
    std::mem::size_of::<AtcParams>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn call(params: &AtcParams, size: usize, batch: &TgBatch, out: &TgOutputs) -> (c_int, String) {
        let mut msg = [0 as c_char; 256];
        // SAFETY: every pointer comes from a live reference or buffer.
        let rc = unsafe {
            tg_rust_atc_run(params, size, batch, out, 2, 2, std::ptr::null(), std::ptr::null(), msg.as_mut_ptr(), msg.len())
        };
        // SAFETY: report() NUL-terminates within the buffer.
        (rc, unsafe { CStr::from_ptr(msg.as_ptr()) }.to_string_lossy().into_owned())
    }

    fn no_outputs() -> TgOutputs {
        TgOutputs {
            average: std::ptr::null_mut(),
            final_signal: std::ptr::null_mut(),
            final_value: std::ptr::null_mut(),
            r: std::ptr::null_mut(),
            ma: std::ptr::null_mut(),
            l1_signal: std::ptr::null_mut(),
            l2_equity: std::ptr::null_mut(),
            slot_ma: std::ptr::null_mut(),
            slot_signal: std::ptr::null_mut(),
            slot_equity: std::ptr::null_mut(),
        }
    }

    #[test]
    fn errors_become_status_codes() {
        let close: Vec<f64> = (0..100).map(|i| 100.0 + i as f64).collect();
        let bars = [101i32];
        let p = AtcParams::default();
        let size = std::mem::size_of::<AtcParams>();
        let mut out = no_outputs();
        let batch = TgBatch { close: close.as_ptr(), n_bars: bars.as_ptr(), n_symbols: 1, stride: 100 };
        let (rc, msg) = call(&p, size, &batch, &out);
        assert_eq!(rc, TG_E_INVAL);
        assert!(msg.contains("symbol 0 has 101 bars"), "{msg}");
        let (rc, msg) = call(&p, size - 8, &batch, &out);
        assert_eq!(rc, TG_E_INVAL);
        assert!(msg.contains("bytes in C"), "{msg}");
        let mut bad = p;
        bad.length[0] = 3;
        let ok_batch = TgBatch { close: close.as_ptr(), n_bars: std::ptr::null(), n_symbols: 1, stride: 100 };
        let (rc, msg) = call(&bad, size, &ok_batch, &out);
        assert_eq!(rc, TG_E_INVAL);
        assert!(msg.contains("EMA length 3"), "{msg}");
        let mut fin = [7i8];
        out.final_signal = fin.as_mut_ptr();
        let (rc, _) = call(&p, size, &ok_batch, &out);
        assert_eq!(rc, 0);
        assert_eq!(fin[0], 1);
        // SAFETY: NULL arguments are rejected before any use.
        let rc = unsafe { tg_rust_atc_run(std::ptr::null(), size, &ok_batch, &out, 2, 1, std::ptr::null(), std::ptr::null(), std::ptr::null_mut(), 0) };
        assert_eq!(rc, TG_E_INVAL);
    }

    #[test]
    fn panics_do_not_cross_the_boundary() {
        let err = guarded(|| panic!("boom {}", 42)).unwrap_err();
        assert_eq!(err, "rust backend: internal error (panic): boom 42");
        assert!(guarded(|| ()).is_ok());
    }
}

/// A known CPU-bound workload for checking the host sampler: spends its time
/// in `spin_leaf`, called through `spin_outer`, so a profile must show
/// `tg_rust_spin -> tg_atc_rs::ffi::spin_outer -> tg_atc_rs::ffi::spin_leaf`.
#[no_mangle]
pub extern "C" fn tg_rust_spin(iterations: u64) -> f64 {
    spin_outer(iterations)
}

#[inline(never)]
fn spin_outer(iterations: u64) -> f64 {
    (0..iterations / 1000).map(|k| spin_leaf(k as f64)).sum()
}

#[inline(never)]
fn spin_leaf(seed: f64) -> f64 {
    let mut x = seed;
    for _ in 0..1000 {
        x = std::hint::black_box(x * 1.000_000_1 + 0.5);
    }
    x
}
