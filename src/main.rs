//! `qi`: the command-line front end. Everything it prints to users is Chinese.

mod alloc;
mod cli;

#[global_allocator]
static ALLOCATOR: alloc::Mimalloc = alloc::Mimalloc;

fn main() {
    let code = match cli::args() {
        Ok(args) => cli::main(args),
        Err(code) => code,
    };
    std::process::exit(code);
}
