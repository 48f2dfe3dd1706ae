//! Links `opsdeck` with compact relative relocations (DT_RELR, glibc >= 2.36):
//! the loader reads ~100 KiB of relocations at each start instead of ~8 MiB
//! of `.rela.dyn` (BENCHMARKS.md, "The app itself"; the app does the same).

fn main() {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
