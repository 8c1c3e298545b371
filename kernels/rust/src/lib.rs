//! The Rust backend of trendgpu-bench: the Adaptive Trend Classification
//! pipeline (`../shared/spec/atc.md`, sections 3-11), written from the spec,
//! behind the same C ABI as the C and CUDA backends (`kernels/tg_kernels.h`).
//!
//! Everything is safe Rust except the boundary in [`ffi`], which turns the
//! caller's raw buffers into slices, catches panics and reports errors as
//! status codes.

// `i % n == 0` reads the same in every Rust since 1.63 (Debian's).
#![allow(clippy::manual_is_multiple_of)]

pub mod approx;
pub mod batch;
pub mod ffi;
pub mod lanes;
pub mod ma;
pub mod math;
pub mod params;
pub mod phase;
pub mod pipeline;
pub mod pool;
pub mod simd;
