//! A pool of worker threads that lives as long as the backend: started
//! once, reused by every run, so a profile sees the same few threads (like
//! the C engine's pool) instead of new ones each repetition.
//!
//! `run` hands every worker a borrowed job and returns only when each has
//! finished it, so the job may borrow from the caller's stack; a panic in a
//! worker is caught there and returned as an error after the others finish.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use crate::batch::ThreadHooks;

/// A job as the workers see it: the caller's closure with its lifetime
/// erased. `Pool::run` keeps the closure alive until every worker is done.
#[derive(Clone, Copy)]
struct Job(*const (dyn Fn(usize) + Sync + 'static));

// SAFETY: the pointee is Sync and outlives every use (see Pool::run).
unsafe impl Send for Job {}

struct State {
    job: Option<Job>,
    generation: u64,
    remaining: usize,
    panic: Option<String>,
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
    done: Condvar,
}

/// Worker threads started once; `threads()` of them run every job.
pub struct Pool {
    shared: Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn worker_main(shared: Arc<Shared>, index: usize, hooks: Option<Arc<dyn ThreadHooks + Send>>) {
    if let Some(h) = &hooks {
        h.start(index);
    }
    let mut seen = 0u64;
    loop {
        let job = {
            let mut st = lock(&shared.state);
            while st.generation == seen && !st.shutdown {
                st = shared.work.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            if st.shutdown {
                break;
            }
            seen = st.generation;
            st.job
        };
        let outcome = match job {
            // SAFETY: run() keeps the closure alive until `remaining` is 0.
            Some(Job(f)) => catch_unwind(AssertUnwindSafe(|| unsafe { (*f)(index) })),
            None => Ok(()),
        };
        let mut st = lock(&shared.state);
        if let Err(payload) = outcome {
            st.panic.get_or_insert_with(|| panic_text(&*payload));
        }
        st.remaining -= 1;
        if st.remaining == 0 {
            shared.done.notify_all();
        }
    }
    if let Some(h) = &hooks {
        h.stop(index);
    }
}

impl Pool {
    /// Starts up to `threads` workers (at least one is asked for); `hooks`
    /// run once on each, when it starts and before it ends. Workers that
    /// cannot be started are left out; with none, jobs run on the caller.
    pub fn new(threads: usize, hooks: Option<Arc<dyn ThreadHooks + Send>>) -> Pool {
        let shared = Arc::new(Shared {
            state: Mutex::new(State { job: None, generation: 0, remaining: 0, panic: None, shutdown: false }),
            work: Condvar::new(),
            done: Condvar::new(),
        });
        let mut handles = Vec::new();
        for index in 0..threads.max(1) {
            let (s, h) = (Arc::clone(&shared), hooks.clone());
            match std::thread::Builder::new()
                .name(format!("tg-rust-{}", handles.len()))
                .spawn(move || worker_main(s, index, h))
            {
                Ok(handle) => handles.push(handle),
                Err(_) => break,
            }
        }
        Pool { shared, handles }
    }

    /// Worker threads running (0: jobs run on the calling thread).
    pub fn threads(&self) -> usize {
        self.handles.len()
    }

    /// Runs `job(worker)` on every worker and returns when all are done;
    /// the first panic's message is returned as an error.
    pub fn run(&self, job: &(dyn Fn(usize) + Sync)) -> Result<(), String> {
        if self.handles.is_empty() {
            return catch_unwind(AssertUnwindSafe(|| job(0))).map_err(|p| panic_text(&*p));
        }
        // SAFETY: only the lifetime is erased; we wait below until every
        // worker has returned from the closure before `job` goes away.
        let erased: &'static (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(job) };
        let mut st = lock(&self.shared.state);
        st.job = Some(Job(erased as *const _));
        st.generation += 1;
        st.remaining = self.handles.len();
        st.panic = None;
        self.shared.work.notify_all();
        while st.remaining > 0 {
            st = self.shared.done.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        st.job = None;
        match st.panic.take() {
            Some(msg) => Err(msg),
            None => Ok(()),
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        lock(&self.shared.state).shutdown = true;
        self.shared.work.notify_all();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Count(AtomicUsize, AtomicUsize);

    impl ThreadHooks for Count {
        fn start(&self, _worker: usize) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn stop(&self, _worker: usize) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn workers_start_once_and_run_every_job() {
        let hooks = Arc::new(Count(AtomicUsize::new(0), AtomicUsize::new(0)));
        let pool = Pool::new(3, Some(hooks.clone()));
        assert_eq!(pool.threads(), 3);
        let total = AtomicUsize::new(0);
        let names = Mutex::new(std::collections::BTreeSet::new());
        for _ in 0..5 {
            pool.run(&|w| {
                total.fetch_add(w + 1, Ordering::SeqCst);
                lock_names(&names).insert(std::thread::current().name().unwrap_or("").to_string());
            })
            .unwrap();
        }
        assert_eq!(total.load(Ordering::SeqCst), 5 * (1 + 2 + 3));
        // the same three threads every time
        assert_eq!(lock_names(&names).len(), 3);
        assert_eq!(hooks.0.load(Ordering::SeqCst), 3);
        drop(pool);
        assert_eq!(hooks.1.load(Ordering::SeqCst), 3);
    }

    fn lock_names(
        m: &Mutex<std::collections::BTreeSet<String>>,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeSet<String>> {
        m.lock().unwrap()
    }

    #[test]
    fn a_panic_is_reported_and_the_pool_goes_on() {
        let pool = Pool::new(2, None);
        let err = pool.run(&|w| {
            if w == 1 {
                panic!("worker one fails")
            }
        });
        assert_eq!(err.unwrap_err(), "worker one fails");
        assert!(pool.run(&|_| {}).is_ok());
    }
}
