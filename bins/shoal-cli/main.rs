//! `shoal-cli`: the command-line client. Everything lives in `shoal-cli-core`.

fn main() {
    std::process::exit(shoal_cli_core::main());
}
