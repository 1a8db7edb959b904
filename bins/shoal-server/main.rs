//! `shoal-server`: the Redis-compatible server. Run as `shoal-sentinel` (or with
//! `--sentinel`) it starts in Sentinel mode.

#[global_allocator]
static ALLOC: shoal_server_core::memory::Counting = shoal_server_core::memory::Counting;

fn main() {
    shoal_server_core::memory::activate();
    let mut args = std::env::args();
    let prog = args.next().unwrap_or_else(|| "shoal-server".to_string());
    let sentinel = std::path::Path::new(&prog)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("sentinel"));
    std::process::exit(shoal_server_core::run(&prog, args.collect(), sentinel));
}
