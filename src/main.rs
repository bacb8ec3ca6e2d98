//! The `funnel` command.

fn main() {
    std::process::exit(funnel::cli::main());
}
