//! `qi`: the command-line front end. Everything it prints to users is Chinese.

mod cli;

fn main() {
    let code = cli::main(std::env::args().skip(1).collect());
    std::process::exit(code);
}
