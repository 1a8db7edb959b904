//! `shoal-check-rdb FILE`: checks an RDB file (exit code 0 when it reads whole
//! and its checksum matches, 1 otherwise), like `redis-check-rdb`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 2 {
        eprintln!("Usage: {} <rdb-file-name>", args[0]);
        std::process::exit(1);
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let stdout = std::io::stdout();
    let ok =
        match shoal_rdb::check::check(std::path::Path::new(&args[1]), now_ms, &mut stdout.lock()) {
            Ok(s) => s.ok,
            Err(_) => false,
        };
    std::process::exit(if ok { 0 } else { 1 });
}
