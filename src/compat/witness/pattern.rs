//! Strings drawn from a `pattern`: the witness search needs strings one pattern
//! matches (to try against the other), and examples need strings their own pattern
//! accepts. The pattern is parsed with regex-syntax (the parser of the `regex` crate
//! already used to check patterns); one that it cannot parse (look-around,
//! back-references) yields no sample. A sample is a match of the whole pattern, so it
//! satisfies JSON Schema's unanchored search too; every use is checked by a validator.

use regex_syntax::hir::{Class, Hir, HirKind};

/// The longest sample, in characters.
const MAX_CHARS: usize = 256;
/// How many times a repetition without an upper bound is repeated beyond its minimum.
const EXTRA_REPEATS: u32 = 2;

/// How many patterns' samples a thread keeps (see [`samples`]).
const MEMO_SIZE: usize = 64;

/// Up to `n` distinct strings that match `pattern`, the simplest first.
///
/// Remembered per thread for the last [`MEMO_SIZE`] patterns: a generated schema
/// repeats one pattern on hundreds of properties, and an example of it draws a string
/// for each (parsing the pattern cost more than the rest of the example).
pub(super) fn samples(pattern: &str, n: usize) -> Vec<String> {
    thread_local! {
        static MEMO: std::cell::RefCell<Vec<(String, usize, Vec<String>)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    let known = MEMO.with_borrow(|memo| {
        memo.iter()
            .find(|(p, k, _)| p == pattern && *k == n)
            .map(|(_, _, found)| found.clone())
    });
    if let Some(found) = known {
        return found;
    }
    let found = drawn(pattern, n);
    MEMO.with_borrow_mut(|memo| {
        if memo.len() == MEMO_SIZE {
            memo.remove(0);
        }
        memo.push((pattern.to_owned(), n, found.clone()));
    });
    found
}

/// [`samples`], drawn.
fn drawn(pattern: &str, n: usize) -> Vec<String> {
    let Ok(hir) = regex_syntax::ParserBuilder::new()
        .utf8(true)
        .build()
        .parse(pattern)
    else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for variant in 0..n * 2 {
        if out.len() >= n {
            break;
        }
        let mut s = String::new();
        if draw(&hir, variant, &mut s) && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Appends to `out` a string `hir` matches, choosing by `variant` among classes'
/// characters, alternation branches and repetition counts. False when the sample
/// would be too long or a class is empty.
fn draw(hir: &Hir, variant: usize, out: &mut String) -> bool {
    if out.chars().count() > MAX_CHARS {
        return false;
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(lit) => match std::str::from_utf8(&lit.0) {
            Ok(s) => {
                out.push_str(s);
                true
            }
            Err(_) => false,
        },
        HirKind::Class(class) => match pick(class, variant) {
            Some(c) => {
                out.push(c);
                true
            }
            None => false,
        },
        HirKind::Repetition(rep) => {
            let extra = match rep.max {
                Some(max) => (max - rep.min).min((variant % 3) as u32),
                None => (variant % 3) as u32 % (EXTRA_REPEATS + 1),
            };
            let count = (rep.min + extra).min(MAX_CHARS as u32);
            (0..count).all(|i| draw(&rep.sub, variant + i as usize, out))
        }
        HirKind::Capture(cap) => draw(&cap.sub, variant, out),
        HirKind::Concat(subs) => subs.iter().all(|s| draw(s, variant, out)),
        HirKind::Alternation(subs) => draw(&subs[variant % subs.len()], variant / subs.len(), out),
    }
}

/// A character of `class`: the start or end of one of its ranges, by `variant`.
fn pick(class: &Class, variant: usize) -> Option<char> {
    match class {
        Class::Unicode(c) => {
            let ranges = c.ranges();
            let r = ranges.get(variant % ranges.len().max(1))?;
            Some(if (variant / ranges.len()) % 2 == 0 {
                r.start()
            } else {
                r.end()
            })
        }
        Class::Bytes(c) => {
            let ranges = c.ranges();
            let r = ranges.get(variant % ranges.len().max(1))?;
            let b = if (variant / ranges.len()) % 2 == 0 {
                r.start()
            } else {
                r.end()
            };
            b.is_ascii().then_some(b as char)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_match_their_pattern() {
        for p in [
            "^[a-z]+$",
            "^(abc|de)[0-9]{2,4}$",
            "x*y?",
            "^\\d{3}-\\w+$",
            "[^a]",
        ] {
            let re = regex::Regex::new(p).unwrap();
            let got = samples(p, 5);
            assert!(!got.is_empty(), "{p}");
            for s in got {
                assert!(re.is_match(&s), "{p} does not match {s:?}");
            }
        }
    }

    #[test]
    fn alternation_branches_are_all_drawn() {
        let got = samples("^(red|green|blue)$", 6);
        for colour in ["red", "green", "blue"] {
            assert!(got.iter().any(|s| s == colour), "{got:?}");
        }
    }

    #[test]
    fn a_pattern_the_parser_refuses_yields_nothing() {
        assert!(samples("(?=a)b", 3).is_empty());
    }
}
