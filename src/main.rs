// mimalloc: the resolver path makes many small allocations per row and field, where it is
// faster than the system allocator (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    rectrack::cli::main()
}
