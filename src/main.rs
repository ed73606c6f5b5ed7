//! `qi`: the command-line front end. Everything it prints to users is Chinese.

mod cli;

/// Tasks, frames and values are small and short-lived, and are often freed on another
/// worker than the one that made them; mimalloc handles both much better than glibc's
/// malloc (benches/tasks/run.sh: spawn). Embedders choose their own allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let code = cli::main(std::env::args().skip(1).collect());
    std::process::exit(code);
}
