//! The `accord` binary: parse the command line, run, exit with the command's code.
// The exceptions: `tune_allocator`, which sets options through mimalloc's C interface,
// and the `.init_array` entry that runs it before the Rust runtime starts.
#![deny(unsafe_code)]

// Parsing records into `serde_json::Value` is allocation-heavy; mimalloc makes
// the engine and `accord validate`
// measurably faster (docs/benchmarks-engine.md, docs/benchmarks-validate.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    #[cfg(not(target_os = "linux"))]
    tune_allocator();
    accord::cli::main()
}

/// On Linux, [`tune_allocator`] runs before the Rust runtime starts: the C library
/// calls the functions listed in `.init_array` before `main`, and the runtime
/// allocates (the main thread's name) before it calls Accord's `main`, which would be
/// too late for the size of mimalloc's first arena.
#[cfg(all(target_os = "linux", not(test)))]
#[used]
#[allow(unsafe_code)]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = tune_allocator;

/// mimalloc's option for the largest object it places in an arena, in KiB: its
/// number in the `mi_option_t` enum of mimalloc v3's `mimalloc.h` (which
/// `libmimalloc-sys` builds but does not name), its built-in value (2 GiB), and
/// Accord's. The test below checks the number against the built-in value.
///
/// mimalloc backs its arenas with transparent huge pages, so every 2 MiB of an arena
/// that is touched at all is resident whole. With the built-in value, objects of 84 to
/// 512 KiB go to 4 MiB pages of the arena, one per size class, and each such page
/// makes a 2 MiB huge page resident for a few hundred KiB of objects (a parsed
/// schema's text, the hash tables of the engine's model). With 512 KiB, the arena
/// keeps the small and medium pages (nearly every object, on huge pages, which is what
/// keeps mimalloc fast here); the 4 MiB pages and larger objects come from the OS,
/// faulted in 4 KiB at a time: `accord diff` on the 283 KB pair needs 34 MiB instead
/// of 38, at the same speed (docs/benchmarks-engine.md, fifth pass).
const ARENA_MAX_OBJECT_SIZE: libmimalloc_sys::mi_option_t = 45;
const ARENA_MAX_OBJECT_SIZE_BUILT_IN: std::ffi::c_long = 2 << 20;
const ARENA_MAX_OBJECT_SIZE_KIB: std::ffi::c_long = 512;

/// mimalloc's option for the size of the address space it reserves for its first
/// arena, in KiB: its number, built-in value (1 GiB) and Accord's, as above.
///
/// An arena keeps its bitmaps at its start, and for a 1 GiB arena they made a huge
/// page of their own resident. A 64 MiB first arena keeps them in a few small pages:
/// 1.8 MiB less for every process (`accord diff` on the 283 KB pair: 27.7 → 25.9
/// MiB, docs/benchmarks-engine.md, sixth pass). A process that needs more reserves
/// more arenas, each eighth one twice as large as the last, so a registry that holds
/// gigabytes needs a few dozen arenas rather than a few.
const ARENA_RESERVE: libmimalloc_sys::mi_option_t = 23;
const ARENA_RESERVE_BUILT_IN: std::ffi::c_long = 1 << 20;
const ARENA_RESERVE_KIB: std::ffi::c_long = 64 << 10;

/// The options [`tune_allocator`] sets: each one's number, built-in value and Accord's.
#[rustfmt::skip]
const TUNED: [(libmimalloc_sys::mi_option_t, std::ffi::c_long, std::ffi::c_long); 2] = [
    (ARENA_MAX_OBJECT_SIZE, ARENA_MAX_OBJECT_SIZE_BUILT_IN, ARENA_MAX_OBJECT_SIZE_KIB),
    (ARENA_RESERVE, ARENA_RESERVE_BUILT_IN, ARENA_RESERVE_KIB),
];

/// Sets the [`TUNED`] options before anything is allocated, each unless someone set it
/// (a `MIMALLOC_ARENA_MAX_OBJECT_SIZE` or `MIMALLOC_ARENA_RESERVE` environment
/// variable, which `mi_option_get` reads).
#[allow(unsafe_code)]
#[cfg_attr(test, allow(dead_code))]
extern "C" fn tune_allocator() {
    for (option, built_in, ours) in TUNED {
        // SAFETY: `mi_option_get` and `mi_option_set` read and write an entry of
        // mimalloc's option table (valid indices, see the test); no other thread runs
        // yet, which is all their "not thread safe" asks. Before `main`, the C library
        // is initialized (getenv works) and nothing has been allocated through mimalloc.
        unsafe {
            if libmimalloc_sys::mi_option_get(option) == built_in {
                libmimalloc_sys::mi_option_set(option, ours);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code)]
    fn the_option_numbers_are_the_ones_mimalloc_reads() {
        // The test binary does not run `tune_allocator` before `main`.
        for (option, built_in, _) in TUNED {
            // SAFETY: reads one entry of the option table; nothing sets options here.
            let value = unsafe { libmimalloc_sys::mi_option_get(option) };
            assert_eq!(
                value, built_in,
                "mimalloc option {option} (a MIMALLOC_ environment variable changes it)"
            );
        }
    }
}
