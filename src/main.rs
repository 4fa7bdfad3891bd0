//! The `innofolio` binary: everything lives in the library; see `innofolio --help`.

fn main() {
    std::process::exit(innofolio::cli::main());
}
