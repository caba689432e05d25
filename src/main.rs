//! The `accord` binary: parse the command line, run, exit with the command's code.
// The one exception, `tune_allocator`, sets an option through mimalloc's C interface.
#![deny(unsafe_code)]

// Parsing records into `serde_json::Value` is allocation-heavy; mimalloc makes
// the engine and `accord validate`
// measurably faster (docs/benchmarks-engine.md, docs/benchmarks-validate.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tune_allocator();
    accord::cli::main()
}

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

/// Sets [`ARENA_MAX_OBJECT_SIZE`] first thing in `main` (mimalloc reads it at each
/// large allocation), unless someone set it (a `MIMALLOC_ARENA_MAX_OBJECT_SIZE`
/// environment variable, read when the process loads).
#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: `mi_option_get` and `mi_option_set` read and write an entry of mimalloc's
    // option table (a valid index, see the test); no other thread runs yet, which is
    // all their "not thread safe" asks.
    unsafe {
        if libmimalloc_sys::mi_option_get(ARENA_MAX_OBJECT_SIZE) == ARENA_MAX_OBJECT_SIZE_BUILT_IN {
            libmimalloc_sys::mi_option_set(ARENA_MAX_OBJECT_SIZE, ARENA_MAX_OBJECT_SIZE_KIB);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ARENA_MAX_OBJECT_SIZE, ARENA_MAX_OBJECT_SIZE_BUILT_IN};

    #[test]
    #[allow(unsafe_code)]
    fn the_option_number_is_the_one_mimalloc_reads() {
        // SAFETY: reads one entry of the option table; nothing sets options here.
        let value = unsafe { libmimalloc_sys::mi_option_get(ARENA_MAX_OBJECT_SIZE) };
        assert_eq!(
            value, ARENA_MAX_OBJECT_SIZE_BUILT_IN,
            "mimalloc option {ARENA_MAX_OBJECT_SIZE} (a MIMALLOC_ environment variable changes it)"
        );
    }
}
