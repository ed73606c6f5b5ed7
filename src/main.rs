//! `qi`: the command-line front end. Everything it prints to users is Chinese.

mod alloc;
mod cli;

#[global_allocator]
static ALLOCATOR: alloc::Mimalloc = alloc::Mimalloc;

fn main() {
    let code = cli::main(std::env::args().skip(1).collect());
    std::process::exit(code);
}
