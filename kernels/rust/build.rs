//! Detects the compiler's features the crate can use: `f64::round_ties_even`
//! (Rust 1.77) is one instruction where the fallback for older compilers
//! (Debian bookworm ships 1.63) costs ~40 % of the approximate pipeline;
//! the AVX-512 intrinsics (Rust 1.89) give the 8-lane walk, which older
//! compilers replace by the AVX2 one.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-check-cfg=cfg(tg_round_ties_even)");
    println!("cargo:rustc-check-cfg=cfg(tg_avx512)");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let minor = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| v.split_whitespace().nth(1).map(String::from))
        .and_then(|v| v.split('.').nth(1).and_then(|m| m.parse::<u32>().ok()));
    if minor.map_or(false, |m| m >= 77) {
        println!("cargo:rustc-cfg=tg_round_ties_even");
    }
    // the AVX-512 intrinsics and target feature (Rust 1.89)
    if minor.map_or(false, |m| m >= 89) {
        println!("cargo:rustc-cfg=tg_avx512");
    }
}
