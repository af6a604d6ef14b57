// The system allocator: with the list pages served from compiled plans (few, large
// allocations), mimalloc was no faster and held about 60 % more memory at peak
// (docs/BENCHMARKS.md).
fn main() -> std::process::ExitCode {
    rectrack::cli::main()
}
