//! `shoal-sentinel`: the server binary in Sentinel mode.

fn main() {
    let mut args = std::env::args();
    let prog = args.next().unwrap_or_else(|| "shoal-sentinel".to_string());
    std::process::exit(shoal_server_core::run(&prog, args.collect(), true));
}
