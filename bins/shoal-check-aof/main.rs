//! `shoal-check-aof [--fix] FILE|MANIFEST`: checks an AOF file or a multi-part
//! AOF directory's manifest, and with `--fix` truncates a damaged tail after asking.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout();
    std::process::exit(shoal_aof::check::run(&args, &mut input, &mut out));
}
