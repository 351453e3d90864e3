use std::process::ExitCode;

fn main() -> ExitCode {
    jingu::cli::main()
}
