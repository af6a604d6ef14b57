// A GraphQL response is many small allocations; mimalloc serves them faster than the system
// allocator (measured in docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    rectrack::cli::main()
}
