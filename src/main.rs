fn main() -> std::process::ExitCode {
    rectrack::cli::main()
}
