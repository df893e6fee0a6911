//! `${VAR}` interpolation with compose semantics, shared by .env values and compose files.
//!
//! The rules are those of compose-go's `template` package (read at commit e70e961c; the code is
//! not copied, this is a scanner written from its behaviour and test cases):
//!
//! * `$$` is a literal `$`; a `$` followed by anything that does not start a reference stays
//!   literal (`a $ string`, `^REGEX$`, `$}`, `$1`).
//! * `$NAME` and `${NAME}` with `NAME` = `[_A-Za-z][_A-Za-z0-9]*`. Unset gives `""` and a warning
//!   (collected in [`Interpolated::unset`]).
//! * `${NAME:-default}` / `${NAME-default}`: default when unset or empty / only when unset.
//!   `${NAME:+value}` / `${NAME+value}`: value when set and non-empty / when set.
//!   `${NAME:?message}` / `${NAME?message}`: error when unset or empty / only when unset.
//!   The default, value and message are themselves interpolated, and only when used (an unused
//!   default does not warn about the variables it mentions).
//! * Where the operand of an operator ends: compose's pattern first takes everything up to the
//!   **last** `}` of the same line, then cuts that at the first balanced `}` counting every `{`
//!   (a `{` also skips the character right after it, as compose does). So
//!   `${A:-{"json":1}}` has the default `{"json":1}` and `${A:-${B:-x}_y}` nests.
//!   Without a closing `}` on the same line the template is invalid (`${A:-x` or `${`).
//! * Anything else after `${` (`${}`, `${ foo}`, `${foo }`, `${foo!}`) is an invalid template.
//!
//! One deliberate limit: nesting deeper than [`MAX_DEPTH`] levels is reported as an invalid
//! template instead of recursing (compose-go recurses without a bound; real files nest two or
//! three levels).

use std::collections::HashSet;
use std::fmt;

/// How deeply defaults may nest (`${A:-${B:-${C:-x}}}` is depth 3). Bounds recursion and so
/// the stack and the time spent on hostile input.
pub const MAX_DEPTH: usize = 64;

/// The result of interpolating one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpolated {
    pub value: String,
    /// Variables referenced with no value and no default (`${VAR}`, `$VAR`): compose
    /// substitutes an empty string and warns. Each name once, in order of first use.
    pub unset: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolationError {
    /// `${VAR:?message}` / `${VAR?message}` with VAR unset (or empty, for `:?`).
    Required { variable: String, message: String },
    /// A malformed template, e.g. `${VAR` or `${}`; `offset` is a byte offset into the input.
    Invalid { offset: usize, message: String },
}

impl fmt::Display for InterpolationError {
    /// The wording of compose's own messages, so users can search for them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterpolationError::Required { variable, message } if message.is_empty() => {
                write!(f, "required variable {variable} is missing a value")
            }
            InterpolationError::Required { variable, message } => {
                write!(
                    f,
                    "required variable {variable} is missing a value: {message}"
                )
            }
            InterpolationError::Invalid { message, .. } => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for InterpolationError {}

/// Interpolates `template`; `lookup` gives a variable's value (None when unset).
pub fn interpolate(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Interpolated, InterpolationError> {
    let mut engine = Engine {
        lookup,
        unset: Vec::new(),
        seen: HashSet::new(),
    };
    let value = engine.substitute(template, 0, 0)?;
    Ok(Interpolated {
        value,
        unset: engine.unset,
    })
}

/// The operator after a braced name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    /// `:-` (`colon`) or `-`.
    Default { colon: bool },
    /// `:+` or `+`.
    Presence { colon: bool },
    /// `:?` or `?`.
    Required { colon: bool },
}

impl Operator {
    /// Reads an operator at the start of `s`, with its length in bytes.
    fn parse(s: &[u8]) -> Option<(Operator, usize)> {
        let (colon, rest) = match s.first() {
            Some(b':') => (true, &s[1..]),
            _ => (false, s),
        };
        let op = match rest.first()? {
            b'-' => Operator::Default { colon },
            b'+' => Operator::Presence { colon },
            b'?' => Operator::Required { colon },
            _ => return None,
        };
        Some((op, usize::from(colon) + 1))
    }
}

struct Engine<'l> {
    lookup: &'l dyn Fn(&str) -> Option<String>,
    unset: Vec<String>,
    /// The names in `unset`, so that a value naming many variables stays linear.
    seen: HashSet<String>,
}

fn is_name_start(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphabetic()
}

fn is_name_char(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphanumeric()
}

/// Length of the variable name at the start of `s` (0 when there is none).
fn name_len(s: &[u8]) -> usize {
    match s.first() {
        Some(&b) if is_name_start(b) => 1 + s[1..].iter().take_while(|&&b| is_name_char(b)).count(),
        _ => 0,
    }
}

/// Index of the first balanced `}` in `s` (which starts at `${`), counting every `{` and
/// skipping the byte after each `{`, as compose-go's brace matcher does.
fn first_balanced_close(s: &[u8]) -> Option<usize> {
    let mut open = 0i64;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'}' => {
                open -= 1;
                if open == 0 {
                    return Some(i);
                }
            }
            b'{' => {
                open += 1;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

impl Engine<'_> {
    fn lookup(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    fn note_unset(&mut self, name: &str) {
        if self.seen.insert(name.to_string()) {
            self.unset.push(name.to_string());
        }
    }

    /// Interpolates `s`, which starts at byte `base` of the original template.
    fn substitute(
        &mut self,
        s: &str,
        base: usize,
        depth: usize,
    ) -> Result<String, InterpolationError> {
        if depth > MAX_DEPTH {
            return Err(InterpolationError::Invalid {
                offset: base,
                message: format!(
                    "Invalid template: defaults nested more than {MAX_DEPTH} levels deep"
                ),
            });
        }
        let bytes = s.as_bytes();
        let mut out = String::with_capacity(s.len());
        // The last `}` of the current line, cached so that many references on one long line
        // cost one scan of the line, not one each.
        let mut line_end = 0usize;
        let mut last_brace_on_line: Option<usize> = None;
        let mut literal_start = 0usize;
        let mut i = 0usize;
        while i < bytes.len() {
            let Some(off) = memchr_dollar(&bytes[i..]) else {
                break;
            };
            let dollar = i + off;
            let after = dollar + 1;
            match bytes.get(after) {
                Some(b'$') => {
                    out.push_str(&s[literal_start..dollar]);
                    out.push('$');
                    i = after + 1;
                    literal_start = i;
                }
                Some(&b) if is_name_start(b) => {
                    out.push_str(&s[literal_start..dollar]);
                    let len = name_len(&bytes[after..]);
                    let name = &s[after..after + len];
                    match self.lookup(name) {
                        Some(v) => out.push_str(&v),
                        None => self.note_unset(name),
                    }
                    i = after + len;
                    literal_start = i;
                }
                Some(b'{') => {
                    out.push_str(&s[literal_start..dollar]);
                    let name_start = after + 1;
                    let len = name_len(&bytes[name_start..]);
                    let invalid = || InterpolationError::Invalid {
                        offset: base + dollar,
                        message: format!(
                            "Invalid template: {:?} (a `$` must start `$NAME`, `${{NAME}}` or `${{NAME:-default}}`; write `$$` for a literal `$`)",
                            truncate_for_message(&s[dollar..])
                        ),
                    };
                    if len == 0 {
                        return Err(invalid());
                    }
                    let name_end = name_start + len;
                    let name = &s[name_start..name_end];
                    if bytes.get(name_end) == Some(&b'}') {
                        match self.lookup(name) {
                            Some(v) => out.push_str(&v),
                            None => self.note_unset(name),
                        }
                        i = name_end + 1;
                        literal_start = i;
                        continue;
                    }
                    let Some((op, op_len)) = Operator::parse(&bytes[name_end..]) else {
                        return Err(invalid());
                    };
                    // The operand runs to the last `}` of this line...
                    if dollar >= line_end {
                        line_end = bytes[dollar..]
                            .iter()
                            .position(|&b| b == b'\n')
                            .map_or(bytes.len(), |p| dollar + p);
                        last_brace_on_line = bytes[dollar..line_end]
                            .iter()
                            .rposition(|&b| b == b'}')
                            .map(|p| dollar + p);
                    }
                    let operand_start = name_end + op_len;
                    let Some(last) = last_brace_on_line.filter(|&p| p >= operand_start) else {
                        return Err(invalid());
                    };
                    // ...cut at the first balanced `}` when there is one.
                    let close =
                        first_balanced_close(&bytes[dollar..=last]).map_or(last, |p| dollar + p);
                    let operand = &s[operand_start..close];
                    let value = self.apply(name, op, operand, base + operand_start, depth)?;
                    out.push_str(&value);
                    i = close + 1;
                    literal_start = i;
                }
                // A lone `$` (end of text, or before a character that starts nothing).
                _ => {
                    i = after;
                }
            }
        }
        out.push_str(&s[literal_start..]);
        Ok(out)
    }

    fn apply(
        &mut self,
        name: &str,
        op: Operator,
        operand: &str,
        operand_base: usize,
        depth: usize,
    ) -> Result<String, InterpolationError> {
        let value = self.lookup(name);
        match op {
            Operator::Default { colon } => match value {
                Some(v) if !(colon && v.is_empty()) => Ok(v),
                _ => self.substitute(operand, operand_base, depth + 1),
            },
            Operator::Presence { colon } => match value {
                Some(v) if !(colon && v.is_empty()) => {
                    self.substitute(operand, operand_base, depth + 1)
                }
                // Unset: "" (compose does not warn here); set but empty with `:+`: "".
                _ => Ok(String::new()),
            },
            Operator::Required { colon } => match value {
                Some(v) if !(colon && v.is_empty()) => Ok(v),
                _ => {
                    let message = self.substitute(operand, operand_base, depth + 1)?;
                    Err(InterpolationError::Required {
                        variable: name.to_string(),
                        message,
                    })
                }
            },
        }
    }
}

fn memchr_dollar(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == b'$')
}

/// At most 60 characters of `s` (up to the end of its line), for error messages.
fn truncate_for_message(s: &str) -> String {
    let line = s.split('\n').next().unwrap_or("");
    let mut out: String = line.chars().take(60).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn run(
        template: &str,
        vars: &HashMap<String, String>,
    ) -> Result<Interpolated, InterpolationError> {
        interpolate(template, &|k| vars.get(k).cloned())
    }

    #[test]
    fn table_of_rules() {
        let vars = env(&[("FOO", "first"), ("BAR", ""), ("JSON", "{\"json\":2}")]);
        // (template, expected value, expected unset names)
        let cases: &[(&str, &str, &[&str])] = &[
            ("plain", "plain", &[]),
            ("$$", "$", &[]),
            ("$${FOO}", "${FOO}", &[]),
            ("$$FOO", "$FOO", &[]),
            ("a $ string", "a $ string", &[]),
            ("end$", "end$", &[]),
            ("$}", "$}", &[]),
            ("$1abc", "$1abc", &[]),
            ("$FOO", "first", &[]),
            ("$FOO-bar", "first-bar", &[]),
            ("${FOO}bar", "firstbar", &[]),
            ("$foo_9x", "", &["foo_9x"]),
            ("x${MISSING}y", "xy", &["MISSING"]),
            ("${MISSING}${MISSING}", "", &["MISSING"]),
            ("${BAR}", "", &[]),
            ("${MISSING:-d}", "d", &[]),
            ("${BAR:-d}", "d", &[]),
            ("${BAR-d}", "", &[]),
            ("${MISSING-d}", "d", &[]),
            ("${FOO:-d}", "first", &[]),
            ("${FOO:+p}", "p", &[]),
            ("${BAR:+p}", "", &[]),
            ("${BAR+p}", "p", &[]),
            ("${MISSING+p}", "", &[]),
            ("${FOO:?e}", "first", &[]),
            ("${BAR?e}", "", &[]),
            ("${MISSING:-${FOO}}", "first", &[]),
            ("${MISSING:-${OTHER:-x}}", "x", &[]),
            ("${MISSING:-${OTHER}}", "", &["OTHER"]),
            ("${FOO:-${OTHER}}", "first", &[]),
            ("${MISSING:+${OTHER},}B", "B", &[]),
            ("${A:-${B:-x}_test_${C:-y}}", "x_test_y", &[]),
            ("${MISSING:-{\"json\":1}}", "{\"json\":1}", &[]),
            ("${JSON:-{\"json\":1}}", "{\"json\":2}", &[]),
            ("${MISSING:-/non:-alnum}", "/non:-alnum", &[]),
            ("${MISSING-a?b}", "a?b", &[]),
            ("{{{ ${MISSING:-x} }}}", "{{{ x }}}", &[]),
            ("${MISSING:-a} and ${FOO}", "a and first", &[]),
            (
                "redis://${MISSING:-redis}:${PORT:-6379}/0",
                "redis://redis:6379/0",
                &[],
            ),
            ("multi\n$FOO\n${MISSING:-z}", "multi\nfirst\nz", &[]),
            ("ünï $FOO €", "ünï first €", &[]),
        ];
        for (template, expected, unset) in cases {
            let got = run(template, &vars).unwrap_or_else(|e| panic!("{template:?}: {e:?}"));
            assert_eq!(got.value, *expected, "value of {template:?}");
            assert_eq!(got.unset, *unset, "unset of {template:?}");
        }
    }

    #[test]
    fn required_variables() {
        let vars = env(&[("FOO", "first"), ("BAR", "")]);
        let cases: &[(&str, &str, &str)] = &[
            ("${MISSING:?must be set}", "MISSING", "must be set"),
            ("${BAR:?empty}", "BAR", "empty"),
            ("${MISSING?}", "MISSING", ""),
            ("x ${MISSING:?needs ${FOO}} y", "MISSING", "needs first"),
            ("${A:?a} ${B:?b}", "A", "a"),
        ];
        for (template, variable, message) in cases {
            let err = run(template, &vars).expect_err(template);
            assert_eq!(
                err,
                InterpolationError::Required {
                    variable: variable.to_string(),
                    message: message.to_string()
                },
                "{template:?}"
            );
        }
        let err = run("${MISSING:?}", &vars).expect_err("required");
        assert_eq!(
            err.to_string(),
            "required variable MISSING is missing a value"
        );
    }

    #[test]
    fn invalid_templates_give_the_offset_of_the_dollar() {
        let vars = env(&[]);
        let cases: &[(&str, usize)] = &[
            ("${", 0),
            ("${}", 0),
            ("${ }", 0),
            ("${ foo}", 0),
            ("${foo }", 0),
            ("${foo!}", 0),
            ("ab${foo", 2),
            ("x ${A:-y", 2),
            ("${A:-\n}", 0),
            ("ok ${A:-${}}", 8),
            ("${A:-x} ${", 8),
        ];
        for (template, offset) in cases {
            match run(template, &vars) {
                Err(InterpolationError::Invalid {
                    offset: got,
                    message,
                }) => {
                    assert_eq!(got, *offset, "offset for {template:?}");
                    assert!(message.starts_with("Invalid template"), "{message}");
                }
                other => panic!("{template:?}: expected invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = "${A:-".repeat(10_000) + &"}".repeat(10_000);
        assert!(matches!(
            run(&deep, &env(&[])),
            Err(InterpolationError::Invalid { .. })
        ));
        let ok = "${A:-".repeat(MAX_DEPTH) + "x" + &"}".repeat(MAX_DEPTH);
        assert_eq!(run(&ok, &env(&[])).map(|i| i.value), Ok("x".to_string()));
    }

    #[test]
    fn long_lines_are_linear() {
        // 200k references on one line: must finish quickly (quadratic would be 10^10 steps).
        let line = "${A:-x}".repeat(200_000);
        let got = run(&line, &env(&[])).expect("interpolates");
        assert_eq!(got.value.len(), 200_000);
        let unbalanced = "${A:-{x}".repeat(50_000);
        let _ = run(&unbalanced, &env(&[]));
        // 100k distinct unset names in one value.
        let many: String = (0..100_000).map(|i| format!("$V{i} ")).collect();
        let got = run(&many, &env(&[])).expect("interpolates");
        assert_eq!(got.unset.len(), 100_000);
    }

    #[test]
    fn random_templates_never_panic() {
        let pieces = [
            "$", "$$", "{", "}", "${", "A", "b_1", ":", "-", "+", "?", ":-", ":?", ":+", " ", "\n",
            "\n", "\"", "é", "🦀", "0", "x",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let vars = env(&[("A", "set"), ("b_1", "")]);
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let template: String = (0..len)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect();
            match run(&template, &vars) {
                Ok(done) if !template.contains('$') => assert_eq!(done.value, template),
                Ok(_) => {}
                Err(InterpolationError::Invalid { offset, .. }) => {
                    assert_eq!(template.as_bytes().get(offset), Some(&b'$'), "{template:?}")
                }
                Err(InterpolationError::Required { variable, .. }) => {
                    assert!(template.contains(&variable), "{template:?}")
                }
            }
        }
    }
}
