//! Patterns as languages: which strings one `pattern` accepts that another rejects.
//!
//! A JSON Schema `pattern` is an unanchored search: a string is accepted when some
//! substring matches. Its language is therefore `.*P.*` unless `^`/`$` anchor it, and
//! "no pattern" is the language of every string. Two patterns are compared by walking
//! their two DFAs side by side (a product construction, breadth first) together with a
//! small automaton of valid UTF-8, so that every string found is one a JSON document can
//! hold. The walk finds, when they exist, the shortest string the old pattern accepts
//! and the new one rejects (it breaks BACKWARD) and the shortest the new accepts and the
//! old rejects (FORWARD); when it runs out of pairs without finding one, there is none.
//!
//! A pattern is read the way the validator reads it: the ECMA-262 source is translated
//! to Rust regex syntax by `jsonschema-regex` (the crate `jsonschema` itself uses, so
//! `\d`, `\w`, `\s` and `.` keep their ECMA-262 meaning), then parsed by `regex-syntax`
//! and compiled to a dense DFA by `regex-automata`. regex-automata is the engine inside
//! the `regex` crate the validator delegates to: its DFAs accept exactly the strings the
//! validator's regex matches, expose their states, transitions and byte classes (what a
//! product walk needs and `regex` hides), and are built with a size bound. A pattern
//! that cannot be translated or parsed (look-around, back-references), that uses an
//! assertion other than `^` and `$` (word boundaries, whose ECMA-262 and Rust meanings
//! differ), or whose DFA exceeds its bound, is not compared: the caller keeps its
//! fail-safe answer. So does a pair whose walk exceeds [`MAX_PAIRS`], and every pair
//! compared after the schema walk has spent its [`WORK_LIMIT`] on patterns.

use std::cell::RefCell;
use std::collections::VecDeque;

use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::nfa::thompson;
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::{Anchored, MatchKind};
use regex_syntax::hir::{Look, LookSet};
use rustc_hash::FxHashMap;

/// The longest pattern compiled, in bytes.
const MAX_PATTERN_BYTES: usize = 4096;
/// The bound on one pattern's NFA, in bytes.
const NFA_SIZE_LIMIT: usize = 1 << 20;
/// The bound on one pattern's DFA, in bytes.
const DFA_SIZE_LIMIT: usize = 1 << 20;
/// The bound on the memory used while determinizing one pattern, in bytes.
const DETERMINIZE_SIZE_LIMIT: usize = 2 << 20;
/// The most pairs of states one comparison visits.
pub(crate) const MAX_PAIRS: usize = 50_000;
/// How many comparisons each thread remembers (the walk compares the same pair in
/// both directions and on every round of its fixed point).
const CACHE_ENTRIES: usize = 256;
/// The work one check (all its walks) may spend on patterns, in bytes: of DFAs built (a build that
/// fails counts its whole bound) and of pairs of states visited ([`PAIR_BYTES`] each,
/// about what the walk holds per pair). Past it, patterns are compared
/// as text (fail-safe), so a schema with thousands of changed patterns cannot make a
/// check slow.
pub(crate) const WORK_LIMIT: usize = 64 << 20;
/// What visiting one pair of states costs from [`WORK_LIMIT`].
const PAIR_BYTES: usize = 64;

/// The pattern work spent so far out of [`WORK_LIMIT`]: one per check (carried in
/// [`super::walk::Budget`] across every walk of the check, like its steps), one per
/// witness search.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PatternWork {
    spent: usize,
}

impl PatternWork {
    /// Spends `units`; false (and nothing spent) when they are not left.
    fn spend(&mut self, units: usize) -> bool {
        match self.spent.checked_add(units) {
            Some(total) if total <= WORK_LIMIT => {
                self.spent = total;
                true
            }
            _ => false,
        }
    }

    /// Gives back `units` spent in advance and not used.
    fn give_back(&mut self, units: usize) {
        self.spent = self.spent.saturating_sub(units);
    }
}

/// What two patterns' languages have in the other's complement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Difference {
    /// A shortest string the old pattern accepts and the new one rejects.
    pub backward: Option<String>,
    /// A shortest string the new pattern accepts and the old one rejects.
    pub forward: Option<String>,
    /// Whether the walk went to its end: a missing string then means there is none.
    /// When false, a missing direction is unknown, not safe.
    pub complete: bool,
}

impl Difference {
    /// Whether the two languages are proven equal.
    pub fn same(&self) -> bool {
        self.complete && self.backward.is_none() && self.forward.is_none()
    }
}

/// Compares the languages of two patterns (`None`: no pattern, every string), or `None`
/// when one of them cannot be compiled within its bounds.
pub(crate) fn compare(
    old: Option<&str>,
    new: Option<&str>,
    work: &mut PatternWork,
) -> Option<Difference> {
    type Cache = FxHashMap<(Option<String>, Option<String>), Option<Difference>>;
    thread_local! {
        static CACHE: RefCell<Cache> = RefCell::new(FxHashMap::default());
    }
    // Too long to compile: not kept either, so the cache stays small.
    if [old, new]
        .iter()
        .flatten()
        .any(|p| p.len() > MAX_PATTERN_BYTES)
    {
        return None;
    }
    let key = (old.map(str::to_owned), new.map(str::to_owned));
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return hit;
    }
    // Out of budget: unknown this time, and not remembered as unknown.
    let answer = compare_uncached(old, new, work).ok()?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_ENTRIES {
            c.clear();
        }
        c.insert(key, answer.clone());
    });
    answer
}

/// Whether every string matches `pattern` (`.*`, `a*`, `^`, ``): a pattern that is no
/// constraint at all. False when unsure.
pub(crate) fn matches_everything(pattern: &str, work: &mut PatternWork) -> bool {
    compare(None, Some(pattern), work).is_some_and(|d| d.same())
}

/// Whether two patterns accept the same strings. False when unsure.
pub(crate) fn same(a: &str, b: &str, work: &mut PatternWork) -> bool {
    a == b || compare(Some(a), Some(b), work).is_some_and(|d| d.same())
}

/// A string `accepts` matches and `rejects` does not (`None`: no pattern), if the walk
/// finds one.
pub(crate) fn accepted_not_rejected(
    accepts: Option<&str>,
    rejects: Option<&str>,
    work: &mut PatternWork,
) -> Option<String> {
    compare(rejects, accepts, work)?.forward
}

/// The walk ran out of its budget.
struct OutOfWork;

/// The comparison, or `Err` when the budget ran out (`Ok(None)`: a pattern that cannot
/// be compiled, an answer worth remembering).
fn compare_uncached(
    old: Option<&str>,
    new: Option<&str>,
    work: &mut PatternWork,
) -> Result<Option<Difference>, OutOfWork> {
    let mut build = |p: Option<&str>| -> Result<Option<Option<Dfa>>, OutOfWork> {
        let Some(p) = p else {
            return Ok(Some(None));
        };
        if !work.spend(DETERMINIZE_SIZE_LIMIT) {
            return Err(OutOfWork);
        }
        let built = dfa(p);
        // Give back what the build did not use.
        let used = built.as_ref().map_or(DETERMINIZE_SIZE_LIMIT, |d| {
            d.memory_usage().clamp(1024, DETERMINIZE_SIZE_LIMIT)
        });
        work.give_back(DETERMINIZE_SIZE_LIMIT - used);
        Ok(built.map(Some))
    };
    let (Some(a), Some(b)) = (build(old)?, build(new)?) else {
        return Ok(None);
    };
    walk(a.as_ref(), b.as_ref(), work)
}

type Dfa = dense::DFA<Vec<u32>>;

/// The DFA of `pattern` read as the validator reads it, searching anywhere in the
/// string and reporting every match (`MatchKind::All`: only whether one exists matters).
fn dfa(pattern: &str) -> Option<Dfa> {
    if pattern.len() > MAX_PATTERN_BYTES {
        return None;
    }
    let translated = jsonschema_regex::to_rust_regex(pattern).ok()?;
    // UTF-8 mode (the default): the pattern can only match valid UTF-8.
    let hir = regex_syntax::ParserBuilder::new()
        .nest_limit(64)
        .build()
        .parse(&translated)
        .ok()?;
    let anchors = LookSet::singleton(Look::Start).insert(Look::End);
    if !hir.properties().look_set().subtract(anchors).is_empty() {
        return None;
    }
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .nfa_size_limit(Some(NFA_SIZE_LIMIT))
                .which_captures(thompson::WhichCaptures::None),
        )
        .build_from_hir(&hir)
        .ok()?;
    dense::Builder::new()
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::All)
                .start_kind(StartKind::Unanchored)
                .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                .determinize_size_limit(Some(DETERMINIZE_SIZE_LIMIT)),
        )
        .build_from_nfa(&nfa)
        .ok()
}

/// Where one side of the walk is: a DFA state, or past a match (the search found one,
/// so every continuation is accepted). "No pattern" starts past a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum At {
    State(StateID),
    Matched,
}

struct Side<'a> {
    dfa: Option<&'a Dfa>,
}

impl Side<'_> {
    fn start(&self) -> Option<At> {
        let Some(dfa) = self.dfa else {
            return Some(At::Matched);
        };
        let id = dfa
            .start_state(&start::Config::new().anchored(Anchored::No))
            .ok()?;
        Some(self.enter(dfa, id))
    }

    fn enter(&self, dfa: &Dfa, id: StateID) -> At {
        if dfa.is_match_state(id) {
            At::Matched
        } else {
            At::State(id)
        }
    }

    /// The next place after `byte`, or `None` when the DFA gave up (a quit state).
    fn step(&self, at: At, byte: u8) -> Option<At> {
        match (at, self.dfa) {
            (At::State(id), Some(dfa)) => {
                let next = dfa.next_state(id, byte);
                if dfa.is_quit_state(next) {
                    return None;
                }
                Some(self.enter(dfa, next))
            }
            _ => Some(At::Matched),
        }
    }

    /// Whether the string read so far is accepted if it ends here.
    fn accepts_at_end(&self, at: At) -> bool {
        match (at, self.dfa) {
            (At::State(id), Some(dfa)) => dfa.is_match_state(dfa.next_eoi_state(id)),
            _ => true,
        }
    }

    /// Whether nothing read from here on can change the answer.
    fn settled(&self, at: At) -> bool {
        match (at, self.dfa) {
            (At::State(id), Some(dfa)) => dfa.is_dead_state(id),
            _ => true,
        }
    }

    fn class(&self, byte: u8) -> u8 {
        self.dfa.map_or(0, |d| d.byte_classes().get(byte))
    }
}

/// The next state of a UTF-8 decoder (0: between characters), or `None` for a byte
/// that cannot come next in valid UTF-8 (RFC 3629: no overlongs, no surrogates).
fn utf8_step(state: u8, byte: u8) -> Option<u8> {
    match (state, byte) {
        (0, 0x00..=0x7F) => Some(0),
        (0, 0xC2..=0xDF) => Some(1),
        (0, 0xE0) => Some(4),
        (0, 0xE1..=0xEC | 0xEE..=0xEF) => Some(2),
        (0, 0xED) => Some(5),
        (0, 0xF0) => Some(6),
        (0, 0xF1..=0xF3) => Some(3),
        (0, 0xF4) => Some(7),
        (1, 0x80..=0xBF) => Some(0),
        (2, 0x80..=0xBF) | (4, 0xA0..=0xBF) | (5, 0x80..=0x9F) => Some(1),
        (3, 0x80..=0xBF) | (6, 0x90..=0xBF) | (7, 0x80..=0x8F) => Some(2),
        _ => None,
    }
}

/// How readable a byte is in a witness: letters first, then digits, punctuation,
/// space, control characters, and bytes of other characters last.
fn plainness(b: u8) -> u8 {
    match b {
        b'a'..=b'z' => 0,
        b'A'..=b'Z' => 1,
        b'0'..=b'9' => 2,
        b'!'..=b'~' => 3,
        b' ' => 4,
        0..=0x7F => 5,
        _ => 6,
    }
}

/// One byte per class of bytes neither DFA nor the UTF-8 decoder tells apart, the most
/// readable of its class, most readable first.
fn alphabet(a: &Side<'_>, b: &Side<'_>) -> Vec<u8> {
    let mut best: FxHashMap<(u8, u8, [Option<u8>; 8]), u8> = FxHashMap::default();
    for byte in 0..=255u8 {
        let utf8 = std::array::from_fn(|s| utf8_step(s as u8, byte));
        let slot = best
            .entry((a.class(byte), b.class(byte), utf8))
            .or_insert(byte);
        if (plainness(byte), byte) < (plainness(*slot), *slot) {
            *slot = byte;
        }
    }
    let mut bytes: Vec<u8> = best.into_values().collect();
    bytes.sort_by_key(|b| (plainness(*b), *b));
    bytes
}

/// The product walk, breadth first from the two start states; every pair visited is
/// spent from the walk's budget.
fn walk(
    old: Option<&Dfa>,
    new: Option<&Dfa>,
    work: &mut PatternWork,
) -> Result<Option<Difference>, OutOfWork> {
    let mut visited = 0;
    let found = product(old, new, &mut visited);
    if work.spend(visited * PAIR_BYTES) {
        Ok(found)
    } else {
        Err(OutOfWork)
    }
}

fn product(old: Option<&Dfa>, new: Option<&Dfa>, visited: &mut usize) -> Option<Difference> {
    let (a, b) = (Side { dfa: old }, Side { dfa: new });
    let bytes = alphabet(&a, &b);
    type Key = (At, At, u8);
    let start: Key = (a.start()?, b.start()?, 0);
    // Each visited pair, with the pair it was reached from and the byte read.
    let mut seen: FxHashMap<Key, usize> = FxHashMap::default();
    let mut trail: Vec<(usize, u8)> = vec![(usize::MAX, 0)];
    seen.insert(start, 0);
    let mut queue = VecDeque::from([(start, 0usize)]);
    let mut diff = Difference {
        backward: None,
        forward: None,
        complete: true,
    };
    while let Some(((x, y, utf8), index)) = queue.pop_front() {
        *visited += 1;
        if utf8 == 0 {
            let (ax, by) = (a.accepts_at_end(x), b.accepts_at_end(y));
            if ax != by {
                let slot = if ax {
                    &mut diff.backward
                } else {
                    &mut diff.forward
                };
                if slot.is_none() {
                    *slot = Some(spell(&trail, index)?);
                }
            }
            if diff.backward.is_some() && diff.forward.is_some() {
                return Some(diff);
            }
            if a.settled(x) && b.settled(y) && ax == by {
                continue;
            }
        }
        for &byte in &bytes {
            let Some(u) = utf8_step(utf8, byte) else {
                continue;
            };
            let next = (a.step(x, byte)?, b.step(y, byte)?, u);
            if seen.contains_key(&next) {
                continue;
            }
            if seen.len() >= MAX_PAIRS {
                diff.complete = false;
                return Some(diff);
            }
            trail.push((index, byte));
            seen.insert(next, trail.len() - 1);
            queue.push_back((next, trail.len() - 1));
        }
    }
    Some(diff)
}

/// The string that leads to pair `index`.
fn spell(trail: &[(usize, u8)], mut index: usize) -> Option<String> {
    let mut bytes = Vec::new();
    while index != 0 {
        let (parent, byte) = trail[index];
        bytes.push(byte);
        index = parent;
    }
    bytes.reverse();
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(old: &str, new: &str) -> Difference {
        compare(Some(old), Some(new), &mut PatternWork::default()).expect("both compile")
    }

    #[test]
    fn rewritten_patterns_accept_the_same_strings() {
        for (a, b) in [
            ("a|b", "b|a"),
            ("(a)", "a"),
            ("[ab]", "a|b"),
            ("x{2}", "xx"),
            ("^[0-9]+$", "^\\d+$"),
            ("^a", "^a.*"),
            ("abc", "b*abc"),
        ] {
            assert!(cmp(a, b).same(), "{a} vs {b}: {:?}", cmp(a, b));
        }
    }

    #[test]
    fn a_pattern_every_string_matches_is_no_pattern() {
        for p in ["", ".*", "a*", "^", "$", "(?:)", "x?"] {
            assert!(matches_everything(p, &mut PatternWork::default()), "{p}");
        }
        for p in ["^$", "a", "^.*$", "."] {
            assert!(!matches_everything(p, &mut PatternWork::default()), "{p}");
        }
    }

    #[test]
    fn a_wider_pattern_breaks_only_forward_with_the_shortest_witness() {
        let d = cmp("^[a-z]+$", "^[a-z0-9]+$");
        assert!(d.complete);
        assert_eq!(d.backward, None);
        assert_eq!(d.forward.as_deref(), Some("0"));
        let d = cmp("^[a-z0-9]+$", "^[a-z]+$");
        assert_eq!(d.backward.as_deref(), Some("0"));
        assert_eq!(d.forward, None);
    }

    #[test]
    fn unanchored_patterns_search_anywhere() {
        // `b` anywhere is more than `ab` anywhere.
        let d = cmp("ab", "b");
        assert_eq!(d.backward, None);
        assert_eq!(d.forward.as_deref(), Some("b"));
        // An anchored pattern is narrower than the same unanchored one.
        let d = cmp("a", "^a");
        assert_eq!(d.backward.as_deref(), Some("ba"));
        assert_eq!(d.forward, None);
    }

    #[test]
    fn digits_and_dots_are_read_as_ecma_262_reads_them() {
        // ECMA-262 `\d` is ASCII: Arabic-Indic digits are not in it.
        assert!(cmp("^\\d$", "^[0-9]$").same());
        // `.` rejects every line terminator, `\r` included.
        let d = cmp("^.$", "^[^\\n]$");
        assert_eq!(d.backward, None);
        assert_eq!(d.forward.as_deref(), Some("\r"));
    }

    #[test]
    fn witnesses_are_valid_utf8_strings_of_one_side_only() {
        let d = cmp("^[a-z]$", "^.$");
        let w = d.forward.expect("wider");
        assert!(regex::Regex::new("^.$").unwrap().is_match(&w));
        assert!(!regex::Regex::new("^[a-z]$").unwrap().is_match(&w));
        let d = cmp("^[^a]$", "^[b]$");
        let w = d.backward.expect("narrower");
        assert_eq!(w.chars().count(), 1);
        assert_ne!(w, "b");
    }

    #[test]
    fn a_walk_out_of_budget_compares_nothing_and_remembers_nothing() {
        let mut spent = PatternWork {
            spent: WORK_LIMIT - 10,
        };
        assert_eq!(compare(Some("^ab+$"), Some("^a+b$"), &mut spent), None);
        assert_eq!(
            spent.spent,
            WORK_LIMIT - 10,
            "nothing spent when it cannot be"
        );
        let mut fresh = PatternWork::default();
        assert!(compare(Some("^ab+$"), Some("^a+b$"), &mut fresh).is_some());
        assert!(fresh.spent > 0, "a comparison made is paid for");
    }

    #[test]
    fn patterns_the_engine_cannot_read_are_not_compared() {
        for p in ["(?=a)b", "(a)\\1", "\\bword\\b", "["] {
            assert_eq!(
                compare(Some(p), Some("a"), &mut PatternWork::default()),
                None,
                "{p}"
            );
        }
    }
}
