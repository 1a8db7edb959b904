//! The CLI binary for this crate's own tests; `bins/shoal-cli` is the shipped one.

fn main() {
    std::process::exit(shoal_cli_core::main());
}
