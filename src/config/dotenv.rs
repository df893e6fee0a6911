//! The `.env` parser, with docker compose's semantics and a span for every key and value.
//!
//! No crate serves here (see ../shared/dependency-notes.md §3): none reports where an entry is,
//! and the common ones (dotenvy and kin) disagree with compose on a third of the cases. So this
//! is a hand-written scanner that follows compose-go's `dotenv` package (read at commit
//! e70e961c; no code copied) statement by statement:
//!
//! * A BOM is dropped. Blank space (Unicode white space, newlines included) and `#` comment lines
//!   between statements are skipped.
//! * `export` followed by white space is dropped before the key.
//! * The key runs to `=`, `:` or a newline; it may hold letters, digits, `_ . - [ ]` and blanks
//!   (trailing blanks are trimmed; a space left inside is an error). A key ended by a newline is
//!   a bare `KEY`: its value comes from `lookup` (the process environment), or it has none.
//! * Blanks after the separator are skipped. Then:
//!   - `'…'`: may span lines; `\'` is a quote, any other backslash is kept; no interpolation.
//!   - `"…"`: may span lines; `\"` is a quote; then the escapes `\a \b \f \n \r \t \v \\ \$`
//!     and `\0NNN` (octal) are applied (`\x…`, `\u…` stay as written), then `${…}` interpolation.
//!     Text after the closing quote on the same line is read as a new statement (compose does).
//!   - otherwise the value runs to the end of the line, is cut at the first ` #` (a `#` needs a
//!     space before it to start a comment), has trailing white space trimmed, and is interpolated.
//! * Interpolation ([`super::interpolate`]) resolves a name from `lookup` first, then from the
//!   entries of this file read so far (compose-go's order: the process environment wins). An
//!   entry's own value is never replaced by `lookup`: `A=1` stays `1` even when the process has
//!   `A=5` (compose then lets the process value win when it builds the project environment,
//!   which is the caller's business).
//!
//! Where compose refuses the whole file (a bad key character, a space in a key, an unterminated
//! quote, a malformed `${`), this parser records an [`EnvSyntaxError`] or an interpolation
//! finding and goes on with the next line, as python-dotenv does, so that one report can list
//! every problem.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::config::interpolate::{self, InterpolationError};
use crate::config::{
    EnvEntry, EnvFile, EnvSyntaxError, InterpolationFinding, InterpolationProblem, Quote, Span,
};
use crate::error::CliError;

/// The largest .env file `read` accepts. Real ones are a few kilobytes; anything this large is
/// not a .env file, and refusing it bounds time and memory.
pub const MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// At most this many entries, syntax errors and interpolation findings are kept per file.
/// Real .env files hold a few hundred entries; the bound keeps the memory of a hostile file
/// (one entry costs ~300 bytes, a 10 MiB file could hold two million) to a few MiB.
pub const MAX_ENTRIES: usize = 10_000;
pub const MAX_ERRORS: usize = 1_000;
pub const MAX_FINDINGS: usize = 1_000;

const BOM: char = '\u{feff}';

/// Parses .env text. `file` is the path as shown to the user; `lookup` resolves variables
/// that are not defined earlier in the file (the process environment).
pub fn parse(file: &str, src: &str, lookup: &dyn Fn(&str) -> Option<String>) -> EnvFile {
    parse_with_fallback(file, src, lookup, &|_| None)
}

/// [`parse`] for one of several env files read in order into one map (docker compose's
/// `--env-file a --env-file b`): a `${VAR}` resolves from `lookup` (the process environment)
/// first, then from this file's entries so far, then from `earlier` (the values of the files
/// read before). compose-go's test `TestMultipleFiles` fixes that order: a later file's own
/// `HOST=…` wins over an earlier file's `HOST` in its `${HOST}`, the process wins over both.
pub fn parse_with_fallback(
    file: &str,
    src: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    earlier: &dyn Fn(&str) -> Option<String>,
) -> EnvFile {
    let text = src.strip_prefix(BOM).unwrap_or(src);
    let mut parser = Parser {
        file,
        text,
        lookup,
        earlier,
        positions: Positions::new(text),
        defined: HashMap::new(),
        out: EnvFile {
            path: file.to_string(),
            ..EnvFile::default()
        },
    };
    parser.run();
    parser.out
}

/// Reads and parses a .env file. A file that cannot be opened is a `CliError` naming it; one
/// too large or not UTF-8 is a file with that one syntax error (at the first invalid byte).
pub fn read(
    path: &Path,
    file: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<EnvFile, CliError> {
    read_with_fallback(path, file, lookup, &|_| None)
}

/// [`read`] with the lookup order of [`parse_with_fallback`].
pub fn read_with_fallback(
    path: &Path,
    file: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    earlier: &dyn Fn(&str) -> Option<String>,
) -> Result<EnvFile, CliError> {
    Ok(match read_text(path, file)? {
        EnvText::Text(text) => parse_with_fallback(file, &text, lookup, earlier),
        EnvText::Refused(error) => refused_file(file, error),
    })
}

/// An env file read whole, or why its content cannot be parsed (a `config.env-syntax`
/// finding: the file exists, compose would refuse it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvText {
    Text(String),
    Refused(EnvSyntaxError),
}

/// The env file whose content was refused: no entries, the one error.
pub fn refused_file(file: &str, error: EnvSyntaxError) -> EnvFile {
    EnvFile {
        path: file.to_string(),
        errors: vec![error],
        ..EnvFile::default()
    }
}

/// Reads an env file exactly once (it may be a pipe: `--env-file <(…)`), at most
/// [`MAX_FILE_SIZE`] bytes. A file that cannot be opened is a `CliError` (exit 2); one too
/// large or not UTF-8 is [`EnvText::Refused`] at the line of the first invalid byte.
pub fn read_text(path: &Path, file: &str) -> Result<EnvText, CliError> {
    let input_error = |message: String| CliError::Input {
        file: file.to_string(),
        line: None,
        column: None,
        message,
    };
    let refused = |line: u32, column: u32, message: String| {
        EnvText::Refused(EnvSyntaxError {
            span: Span::new(file, line, column),
            message,
        })
    };
    let handle = std::fs::File::open(path)
        .map_err(|e| input_error(format!("cannot read the env file: {e}")))?;
    let meta = handle
        .metadata()
        .map_err(|e| input_error(format!("cannot read the env file: {e}")))?;
    if meta.is_dir() {
        return Err(input_error("is a directory, not an env file".to_string()));
    }
    let too_large = || {
        refused(
            1,
            1,
            format!(
                "the env file is larger than {} MiB: not a .env file (refusing to read it)",
                MAX_FILE_SIZE / (1024 * 1024)
            ),
        )
    };
    if meta.len() > MAX_FILE_SIZE {
        return Ok(too_large());
    }
    // `take` as well: the size may change between the check and the read (or be a pipe,
    // whose size reads 0).
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    handle
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| input_error(format!("cannot read the env file: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Ok(too_large());
    }
    Ok(match decode_utf8(&bytes) {
        Ok(text) => EnvText::Text(text.to_string()),
        Err((line, column, byte)) => refused(
            line,
            column,
            format!(
                "not UTF-8 text: invalid byte 0x{byte:02x} (docker compose reads .env files as UTF-8; re-save the file as UTF-8)"
            ),
        ),
    })
}

/// The text of `bytes`, or the line, column (1-based, in characters) and value of the first
/// byte that is not UTF-8.
fn decode_utf8(bytes: &[u8]) -> Result<&str, (u32, u32, u8)> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            // The prefix is valid UTF-8 by definition of `valid_up_to`.
            let prefix = std::str::from_utf8(valid).unwrap_or("");
            let line = prefix.matches('\n').count() + 1;
            let line_start = prefix.rfind('\n').map_or(0, |p| p + 1);
            let column = prefix[line_start..].chars().count() + 1;
            Err((
                to_u32(line),
                to_u32(column),
                bytes.get(e.valid_up_to()).copied().unwrap_or(0),
            ))
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Blank characters inside a line, as compose's dotenv reads them: not the newline.
fn is_blank(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{0b}' | '\u{0c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

/// Characters a key may hold besides blanks (compose: letters, numbers, `_ . - [ ]`).
fn is_key_char(c: char) -> bool {
    matches!(c, '_' | '.' | '-' | '[' | ']') || c.is_alphabetic() || c.is_numeric()
}

/// A statement the parser could not read: where, what, and where to resume.
struct Failure {
    offset: usize,
    message: String,
    resume: usize,
}

struct Parser<'a> {
    file: &'a str,
    text: &'a str,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    /// Consulted after this file's own entries (values of env files read before this one).
    earlier: &'a dyn Fn(&str) -> Option<String>,
    positions: Positions<'a>,
    /// The values defined so far in this file (last wins), visible to later `${…}`.
    defined: HashMap<String, String>,
    out: EnvFile,
}

impl Parser<'_> {
    fn run(&mut self) {
        let mut pos = 0;
        while let Some(start) = self.statement_start(pos) {
            if self.out.entries.len() >= MAX_ENTRIES || self.out.errors.len() >= MAX_ERRORS {
                let span = self.span(start);
                let message = format!(
                    "line {}: more than {MAX_ENTRIES} entries or {MAX_ERRORS} errors: this is not a usable .env file, the rest is not read",
                    span.line
                );
                self.out.errors.push(EnvSyntaxError { span, message });
                return;
            }
            pos = match self.statement(start) {
                Ok(next) => next,
                Err(failure) => {
                    let span = self.span(failure.offset);
                    self.out.errors.push(EnvSyntaxError {
                        span,
                        message: failure.message,
                    });
                    failure.resume
                }
            };
            // Every statement consumes at least one character; this guards the loop anyway.
            if pos <= start {
                pos = self.line_after(start);
            }
        }
    }

    fn span(&mut self, offset: usize) -> Span {
        let (line, column) = self.positions.at(offset);
        Span::new(self.file, line, column)
    }

    /// The offset just after the newline that ends the line holding `offset` (or the end).
    fn line_after(&self, offset: usize) -> usize {
        self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |p| offset + p + 1)
    }

    /// The start of the next statement at or after `pos`, skipping white space and comments.
    fn statement_start(&self, mut pos: usize) -> Option<usize> {
        loop {
            let rest = &self.text[pos..];
            let skip = rest.find(|c: char| !c.is_whitespace())?;
            pos += skip;
            if !self.text[pos..].starts_with('#') {
                return Some(pos);
            }
            pos += self.text[pos..].find('\n')?;
        }
    }

    /// Reads one statement starting at `start`; returns where the next one may start.
    fn statement(&mut self, start: usize) -> Result<usize, Failure> {
        let text = self.text;
        let line_no = |p: &mut Positions<'_>, at: usize| p.at(at).0;

        // `export` + white space (compose matches `^export\s+`, then strips blanks).
        let mut key_start = start;
        let mut exported = false;
        if let Some(after) = text[start..].strip_prefix("export")
            && after.starts_with(['\t', '\n', '\u{0c}', '\r', ' '])
        {
            exported = true;
            let trimmed = after.trim_start_matches(is_blank);
            key_start = text.len() - trimmed.len();
        }

        // The key, up to `=`, `:` or a newline.
        let mut terminator = None;
        for (i, c) in text[key_start..].char_indices() {
            if is_blank(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    terminator = Some((key_start + i, c));
                    break;
                }
                c if is_key_char(c) => {}
                c => {
                    let at = key_start + i;
                    let line = line_no(&mut self.positions, at);
                    // compose-go quotes the whole line; when the name looks secret, the name
                    // only: what follows `=` is then a password.
                    let whole_line = text[key_start..].split('\n').next().unwrap_or("");
                    let first_line = match whole_line.split_once('=') {
                        Some((name, _)) if crate::redact::is_secret_key(name) => name,
                        _ => whole_line,
                    };
                    return Err(Failure {
                        offset: at,
                        message: format!(
                            "line {line}: unexpected character {:?} in variable name {:?}",
                            c.to_string(),
                            truncate(first_line)
                        ),
                        resume: self.line_after(at),
                    });
                }
            }
        }
        if key_start >= text.len() {
            let line = line_no(&mut self.positions, start);
            return Err(Failure {
                offset: start,
                message: format!("line {line}: `export` without a variable name"),
                resume: text.len(),
            });
        }

        let (key, inherited, value_search) = match terminator {
            Some((at, c)) => (
                text[key_start..at].trim_end_matches(char::is_whitespace),
                c == '\n',
                at + c.len_utf8(),
            ),
            // No separator before the end of the file: compose reads an empty key whose value
            // is the text (so a last line `KEY` without a newline is `""="KEY"`, not a bare key).
            None => ("", false, key_start),
        };
        if key.contains(' ') {
            let line = line_no(&mut self.positions, key_start);
            return Err(Failure {
                offset: key_start,
                message: format!("line {line}: key cannot contain a space"),
                resume: self.line_after(key_start),
            });
        }
        let key = key.to_string();
        let key_span = self.span(key_start);

        let value_start = {
            let rest = &text[value_search..];
            value_search + (rest.len() - rest.trim_start_matches(is_blank).len())
        };

        if inherited {
            let value = (self.lookup)(&key);
            if let Some(v) = &value {
                self.defined.insert(key.clone(), v.clone());
            }
            self.out.entries.push(EnvEntry {
                key,
                value,
                raw_value: String::new(),
                value_span: key_span.clone(),
                key_span,
                quote: Quote::None,
                exported,
            });
            return Ok(value_start);
        }

        let value_span = |p: &mut Self, at: usize| p.span(at);
        match text[value_start..].chars().next() {
            Some(q @ ('"' | '\'')) => {
                let Some((close, content)) = scan_quoted(text, value_start, q) else {
                    let line = line_no(&mut self.positions, value_start);
                    let first_line = text[value_start..].split('\n').next().unwrap_or("");
                    // Never quote the value of a secret-named key: the message reaches
                    // every report format (the value is also registered as a secret).
                    let shown = if crate::redact::is_secret_key(&key) {
                        format!("of {key} (value not shown: the key names a secret)")
                    } else {
                        truncate(first_line)
                    };
                    return Err(Failure {
                        offset: value_start,
                        message: format!("line {line}: unterminated quoted value {shown}"),
                        resume: self.line_after(value_start),
                    });
                };
                let raw_start = value_start + 1;
                let raw_value = text[raw_start..close].to_string();
                let span = value_span(self, raw_start);
                let (quote, value) = if q == '"' {
                    let unescaped = expand_escapes(&content);
                    // Offsets into the unescaped text match the file only without escapes.
                    let offset_base = (!raw_value.contains('\\')).then_some(raw_start);
                    let value = self.interpolate(&key, &unescaped, &span, offset_base);
                    (Quote::Double, value)
                } else {
                    (Quote::Single, Some(content))
                };
                self.push(key, value, raw_value, key_span, span, quote, exported);
                Ok(close + 1)
            }
            _ => {
                let line_end = text[value_start..]
                    .find('\n')
                    .map_or(text.len(), |p| value_start + p);
                let line = &text[value_start..line_end];
                let line = line.find(" #").map_or(line, |p| &line[..p]);
                let raw_value = line.trim_end_matches(char::is_whitespace).to_string();
                let span = value_span(self, value_start);
                let value = self.interpolate(&key, &raw_value, &span, Some(value_start));
                self.push(key, value, raw_value, key_span, span, Quote::None, exported);
                Ok(line_end)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        key: String,
        value: Option<String>,
        raw_value: String,
        key_span: Span,
        value_span: Span,
        quote: Quote,
        exported: bool,
    ) {
        if let Some(v) = &value {
            self.defined.insert(key.clone(), v.clone());
        }
        self.out.entries.push(EnvEntry {
            key,
            value,
            raw_value,
            key_span,
            value_span,
            quote,
            exported,
        });
    }

    /// Interpolates a value; records unset variables and errors as findings. `offset_base` is
    /// the file offset of `template`'s first byte when offsets in it map to the file.
    fn interpolate(
        &mut self,
        key: &str,
        template: &str,
        span: &Span,
        offset_base: Option<usize>,
    ) -> Option<String> {
        if !template.contains('$') {
            return Some(template.to_string());
        }
        let room = MAX_FINDINGS.saturating_sub(self.out.interpolation.len());
        let (lookup, earlier) = (self.lookup, self.earlier);
        let defined = &self.defined;
        let resolve = |name: &str| {
            lookup(name)
                .or_else(|| defined.get(name).cloned())
                .or_else(|| earlier(name))
        };
        match interpolate::interpolate(template, &resolve) {
            Ok(done) => {
                for name in done.unset.into_iter().take(room) {
                    self.out.interpolation.push(InterpolationFinding {
                        variable: name,
                        kind: InterpolationProblem::Unset,
                        span: Some(span.clone()),
                        service: None,
                    });
                }
                Some(done.value)
            }
            Err(_) if room == 0 => None,
            Err(InterpolationError::Required { variable, message }) => {
                self.out.interpolation.push(InterpolationFinding {
                    variable,
                    kind: InterpolationProblem::Required(message),
                    span: Some(span.clone()),
                    service: None,
                });
                None
            }
            Err(InterpolationError::Invalid { offset, message }) => {
                let at = match offset_base {
                    Some(base) => self.span(base + offset),
                    None => span.clone(),
                };
                self.out.interpolation.push(InterpolationFinding {
                    variable: key.to_string(),
                    kind: InterpolationProblem::Invalid(message),
                    span: Some(at),
                    service: None,
                });
                None
            }
        }
    }
}

/// Finds the closing quote of the value opening with `quote` at `open`. Returns its offset and
/// the content with `\<quote>` turned into the quote (every other backslash is kept).
fn scan_quoted(text: &str, open: usize, quote: char) -> Option<(usize, String)> {
    let bytes = text.as_bytes();
    let q = quote as u8; // ASCII: `"` or `'`
    let mut content = Vec::new();
    let mut escaped = false;
    let mut i = open + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if escaped {
            escaped = false;
            if b != q {
                content.push(b'\\');
            }
            content.push(b);
        } else if b == b'\\' {
            escaped = true;
        } else if b == q {
            // Only ASCII bytes were removed, so the content is still UTF-8.
            return Some((i, String::from_utf8_lossy(&content).into_owned()));
        } else {
            content.push(b);
        }
        i += 1;
    }
    None
}

/// The escapes of a double-quoted value, as compose applies them before interpolation.
/// `\$` becomes `$$`, which interpolation then turns into a literal `$`.
fn expand_escapes(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut literal_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' || i + 1 >= bytes.len() {
            i += 1;
            continue;
        }
        let replacement: Option<(String, usize)> = match bytes[i + 1] {
            b'a' => Some(("\u{07}".into(), 2)),
            b'b' => Some(("\u{08}".into(), 2)),
            b'f' => Some(("\u{0c}".into(), 2)),
            b'n' => Some(("\n".into(), 2)),
            b'r' => Some(("\r".into(), 2)),
            b't' => Some(("\t".into(), 2)),
            b'v' => Some(("\u{0b}".into(), 2)),
            b'\\' => Some(("\\".into(), 2)),
            b'"' => Some(("\"".into(), 2)),
            b'$' => Some(("$$".into(), 2)),
            // `\c` is in compose's escape pattern but is no escape: it stays as written.
            b'c' => Some(("\\c".into(), 2)),
            b'0' => {
                let digits = bytes[i + 2..]
                    .iter()
                    .take(3)
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let ds = &s[i + 2..i + 2 + digits];
                Some((octal_escape(ds), 2 + digits))
            }
            _ => None,
        };
        match replacement {
            Some((text, len)) => {
                out.push_str(&s[literal_start..i]);
                out.push_str(&text);
                i += len;
                literal_start = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&s[literal_start..]);
    out
}

/// `\0` followed by `digits` (at most three ASCII digits): exactly three octal digits worth at
/// most 255 give that character; anything else is kept as `\` + digits (compose drops the 0).
fn octal_escape(digits: &str) -> String {
    if digits.len() == 3 && digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        let value = digits
            .bytes()
            .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
        if let Some(c) = char::from_u32(value).filter(|_| value <= 255) {
            return c.to_string();
        }
    }
    format!("\\{digits}")
}

/// At most 80 characters, for messages.
fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// Line and column (1-based, column in characters) of byte offsets, asked mostly in
/// increasing order: a cursor makes each answer cost the distance from the previous one, so
/// many statements on one long line stay linear.
struct Positions<'a> {
    text: &'a str,
    offset: usize,
    line: u32,
    column: u32,
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Self {
        Positions {
            text,
            offset: 0,
            line: 1,
            column: 1,
        }
    }

    fn at(&mut self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        if offset < self.offset {
            // Backwards (rare): restart from the beginning of that line.
            let line_start = self.text[..offset].rfind('\n').map_or(0, |p| p + 1);
            self.line = to_u32(self.text[..line_start].matches('\n').count() + 1);
            self.offset = line_start;
            self.column = 1;
        }
        for c in self.text[self.offset..offset].chars() {
            if c == '\n' {
                self.line = self.line.saturating_add(1);
                self.column = 1;
            } else {
                self.column = self.column.saturating_add(1);
            }
        }
        self.offset = offset;
        (self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn map(file: &EnvFile) -> BTreeMap<String, String> {
        file.to_map()
    }

    fn pairs(items: &[(&str, &str)]) -> BTreeMap<String, String> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Rules from compose-go's dotenv, one row each: (input, expected map).
    #[test]
    fn table_of_rules() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("# only a comment\n\n   \n", &[]),
            ("A=1", &[("A", "1")]),
            ("A=1\nB=2\n", &[("A", "1"), ("B", "2")]),
            ("A = 1", &[("A", "1")]),
            ("A: 1", &[("A", "1")]),
            ("A: x=y", &[("A", "x=y")]),
            ("A=1:B", &[("A", "1:B")]),
            ("export A=1", &[("A", "1")]),
            ("export\tA=1", &[("A", "1")]),
            ("  export A=1", &[("A", "1")]),
            ("exportA=1", &[("exportA", "1")]),
            ("export=1", &[("export", "1")]),
            ("A.B-C[0]=1", &[("A.B-C[0]", "1")]),
            ("A=bar ", &[("A", "bar")]),
            ("A=bar\r\nB=2\r\n", &[("A", "bar"), ("B", "2")]),
            ("A=bar # comment", &[("A", "bar")]),
            ("A=bar #", &[("A", "bar")]),
            ("A=123#not-a-comment", &[("A", "123#not-a-comment")]),
            (
                "A=bar\t#tab-hash-is-no-comment",
                &[("A", "bar\t#tab-hash-is-no-comment")],
            ),
            ("A=", &[("A", "")]),
            ("A=\nB=2", &[("A", ""), ("B", "2")]),
            ("A='x y'", &[("A", "x y")]),
            ("A='a\\nb'", &[("A", "a\\nb")]),
            ("A='it\\'s'", &[("A", "it's")]),
            ("A='$HOME ${X}'", &[("A", "$HOME ${X}")]),
            ("A=\"a\\nb\"", &[("A", "a\nb")]),
            ("A=\"a\\tb\"", &[("A", "a\tb")]),
            ("A=a\\tb", &[("A", "a\\tb")]),
            ("A=\"q\\\"q\"", &[("A", "q\"q")]),
            ("A=\"\\\\\"", &[("A", "\\")]),
            ("A=\"\\0123\"", &[("A", "S")]),
            ("A=\"\\0\"", &[("A", "\\")]),
            ("A=\"\\x07\\u12e4\"", &[("A", "\\x07\\u12e4")]),
            ("A=\"\\$X\"", &[("A", "$X")]),
            ("A=\"bar#baz\" # comment", &[("A", "bar#baz")]),
            ("A=\"bar\"#", &[("A", "bar")]),
            (
                "A=\"line1\nline2\"\nB=2",
                &[("A", "line1\nline2"), ("B", "2")],
            ),
            ("A='line1\nline2'", &[("A", "line1\nline2")]),
            ("=\"value\"", &[("", "value")]),
            ("A=1\nB=$A", &[("A", "1"), ("B", "1")]),
            ("A=1\nB=${A}x", &[("A", "1"), ("B", "1x")]),
            ("A=1\nB=\"${A}\"", &[("A", "1"), ("B", "1")]),
            ("B=$A\nA=1", &[("A", "1"), ("B", "")]),
            ("B=${A:-${C:-deep}}", &[("B", "deep")]),
            ("A=$$x", &[("A", "$x")]),
            ("A=1\nA=2", &[("A", "2")]),
            ("\u{feff}A=1", &[("A", "1")]),
            ("ÁRVÍZTŰRŐ-TÜKÖR=á", &[("ÁRVÍZTŰRŐ-TÜKÖR", "á")]),
            ("456 = ABC", &[("456", "ABC")]),
            // A bare key on the last line without a newline: compose's reading.
            ("LAST", &[("", "LAST")]),
            // A bare key with a newline, not in the environment: no value.
            ("BARE\n", &[]),
            // Text after a closing quote starts a new statement.
            ("A=\"x\" B=y", &[("A", "x"), ("B", "y")]),
        ];
        for (input, expected) in cases {
            let file = parse(".env", input, &no_env);
            assert!(file.errors.is_empty(), "{input:?}: {:?}", file.errors);
            assert_eq!(map(&file), pairs(expected), "{input:?}");
        }
    }

    #[test]
    fn process_environment_wins_for_references_not_for_entries() {
        let lookup = |k: &str| match k {
            "A" => Some("5".to_string()),
            "BARE" => Some("from-os".to_string()),
            _ => None,
        };
        let file = parse(".env", "A=1\nB=${A}\nBARE\nC=${BARE}-${A:-x}\n", &lookup);
        assert_eq!(
            map(&file),
            pairs(&[
                ("A", "1"),
                ("B", "5"),
                ("BARE", "from-os"),
                ("C", "from-os-5")
            ])
        );
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let src =
            "# c\n  export KEY=value\nQ = \"multi\nline\"\nNEXT='x'\n\u{e9}\u{e9}=\u{e9}\nBARE\n";
        let file = parse("dir/.env", src, &no_env);
        let spans: Vec<_> = file
            .entries
            .iter()
            .map(|e| {
                (
                    e.key.as_str(),
                    (e.key_span.line, e.key_span.column),
                    (e.value_span.line, e.value_span.column),
                )
            })
            .collect();
        assert_eq!(
            spans,
            vec![
                ("KEY", (2, 10), (2, 14)),
                ("Q", (3, 1), (3, 6)),
                ("NEXT", (5, 1), (5, 7)),
                ("\u{e9}\u{e9}", (6, 1), (6, 4)),
                ("BARE", (7, 1), (7, 1)),
            ]
        );
        assert!(file.entries.iter().all(|e| e.key_span.file == "dir/.env"));
        assert!(file.entries[0].exported);
        assert_eq!(file.entries[1].quote, Quote::Double);
        assert_eq!(file.entries[1].raw_value, "multi\nline");
        assert_eq!(file.entries[2].quote, Quote::Single);
        assert_eq!(file.entries[4].value, None);
        // A BOM does not count as a column.
        let bom = parse(".env", "\u{feff}A=1", &no_env);
        assert_eq!(
            (bom.entries[0].key_span.line, bom.entries[0].key_span.column),
            (1, 1)
        );
    }

    #[test]
    fn raw_value_keeps_the_text_as_written() {
        let file = parse(
            ".env",
            "URL=${REDIS_URL:-redis://redis:6379} # comment\nD=\"a\\n$$\"\n",
            &no_env,
        );
        assert_eq!(
            file.entries[0].raw_value,
            "${REDIS_URL:-redis://redis:6379}"
        );
        assert_eq!(file.entries[0].value.as_deref(), Some("redis://redis:6379"));
        assert_eq!(file.entries[1].raw_value, "a\\n$$");
        assert_eq!(file.entries[1].value.as_deref(), Some("a\n$"));
    }

    #[test]
    fn duplicates_are_all_kept_and_the_last_wins() {
        let file = parse(".env", "A=1\nB=2\nA=3\n", &no_env);
        let keys: Vec<_> = file.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["A", "B", "A"]);
        assert_eq!(file.get("A").and_then(|e| e.value.as_deref()), Some("3"));
        assert_eq!(file.get("A").map(|e| e.key_span.line), Some(3));
    }

    #[test]
    fn syntax_errors_are_recorded_and_parsing_goes_on() {
        // (input, [(line, column, message start)], keys read)
        type Case<'a> = (&'a str, &'a [(u32, u32, &'a str)], &'a [&'a str]);
        let cases: &[Case] = &[
            (
                "A=1\nINVALID LINE\nB=2",
                &[(2, 1, "line 2: key cannot contain a space")],
                &["A", "B"],
            ),
            (
                "lol$wut\nB=2",
                &[(
                    1,
                    4,
                    "line 1: unexpected character \"$\" in variable name \"lol$wut\"",
                )],
                &["B"],
            ),
            (
                "A=\"open\nB=2",
                &[(1, 3, "line 1: unterminated quoted value \"open")],
                &["B"],
            ),
            (
                "A='x\\'\nB=2",
                &[(1, 3, "line 1: unterminated quoted value")],
                &["B"],
            ),
            (
                "K Y=1\nX Z=2\nOK=3",
                &[
                    (1, 1, "line 1: key cannot contain a space"),
                    (2, 1, "line 2: key cannot contain a space"),
                ],
                &["OK"],
            ),
            ("export ", &[(1, 1, "line 1: `export` without")], &[]),
        ];
        for (input, errors, keys) in cases {
            let file = parse(".env", input, &no_env);
            let got: Vec<_> = file
                .errors
                .iter()
                .map(|e| (e.span.line, e.span.column, e.message.as_str()))
                .collect();
            assert_eq!(got.len(), errors.len(), "{input:?}: {got:?}");
            for ((line, column, message), (el, ec, em)) in got.iter().zip(errors.iter()) {
                assert_eq!((line, column), (el, ec), "{input:?}: {message}");
                assert!(message.starts_with(em), "{input:?}: {message:?} !~ {em:?}");
            }
            let got_keys: Vec<_> = file.entries.iter().map(|e| e.key.as_str()).collect();
            assert_eq!(got_keys, *keys, "{input:?}");
        }
    }

    #[test]
    fn compose_go_invalid1_fixture_reports_line_7() {
        let src = "# some comments\nfoo=\"\n  a\n  multine\n  value\n\"\nINVALID LINE\nzot=qix";
        let file = parse("invalid1.env", src, &no_env);
        assert_eq!(file.errors.len(), 1);
        assert_eq!(file.errors[0].message, "line 7: key cannot contain a space");
        assert_eq!(
            (file.errors[0].span.line, file.errors[0].span.column),
            (7, 1)
        );
        assert_eq!(
            map(&file),
            pairs(&[("foo", "\n  a\n  multine\n  value\n"), ("zot", "qix")])
        );
    }

    #[test]
    fn interpolation_findings_carry_the_value_span() {
        let src = "A=1\nURL=redis://${HOST}:${PORT:-6379}\nNEED=${SECRET:?set SECRET}\nBAD=x ${oops\nQ=\"${HOST}\"\n";
        let file = parse(".env", src, &no_env);
        let got: Vec<_> = file
            .interpolation
            .iter()
            .map(|f| {
                let span = f.span.as_ref().map(|s| (s.line, s.column));
                (f.variable.as_str(), f.kind.clone(), span)
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("HOST", InterpolationProblem::Unset, Some((2, 5))),
                (
                    "SECRET",
                    InterpolationProblem::Required("set SECRET".into()),
                    Some((3, 6))
                ),
                ("BAD", got[2].1.clone(), Some((4, 7))),
                ("HOST", InterpolationProblem::Unset, Some((5, 4))),
            ]
        );
        assert!(matches!(got[2].1, InterpolationProblem::Invalid(_)));
        assert_eq!(
            file.get("URL").and_then(|e| e.value.as_deref()),
            Some("redis://:6379")
        );
        // A failed interpolation leaves the entry without a value (compose refuses the file).
        assert_eq!(file.get("NEED").map(|e| e.value.clone()), Some(None));
        assert!(file.errors.is_empty());
    }

    #[test]
    fn escapes_in_double_quotes() {
        let cases: &[(&str, &str)] = &[
            (
                "Z\\aZ\\bZ\\fZ\\nZ\\rZ\\tZ\\vZ\\\\Z\\0123Z",
                "Z\u{7}Z\u{8}Z\u{c}Z\nZ\rZ\tZ\u{b}Z\\ZSZ",
            ),
            ("\\c\\q\\'", "\\c\\q\\'"),
            ("\\01", "\\1"),
            ("\\0777", "\\777"),
            ("\\0101\\01012", "AA2"),
            ("\\0377", "\u{ff}"),
            ("\\\\n", "\\n"),
            ("ends with \\", "ends with \\"),
        ];
        for (input, expected) in cases {
            assert_eq!(expand_escapes(input), *expected, "{input:?}");
        }
    }

    #[test]
    fn non_utf8_content_is_a_syntax_error_with_line_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(".env");
        std::fs::write(&path, b"A=1\nB=caf\xe9\n").expect("write");
        let file = read(&path, ".env", &no_env).expect("the file exists: a finding, not a stop");
        assert_eq!(file.errors.len(), 1, "{file:?}");
        let error = &file.errors[0];
        assert_eq!(error.span.file, ".env");
        assert_eq!((error.span.line, error.span.column), (2, 6));
        assert!(error.message.contains("UTF-8"), "{}", error.message);
    }

    #[test]
    fn read_refuses_missing_files_and_directories_and_reports_huge_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = read(&dir.path().join("nope.env"), "nope.env", &no_env);
        assert!(
            matches!(&missing, Err(CliError::Input { file, line: None, .. }) if file == "nope.env"),
            "{missing:?}"
        );
        let is_dir = read(dir.path(), "dir", &no_env);
        assert!(
            matches!(&is_dir, Err(CliError::Input { message, .. }) if message.contains("directory")),
            "{is_dir:?}"
        );
        let big = dir.path().join("big.env");
        let f = std::fs::File::create(&big).expect("create");
        f.set_len(MAX_FILE_SIZE + 1).expect("sparse file");
        let huge = read(&big, "big.env", &no_env).expect("exists: a finding");
        assert!(
            huge.errors
                .iter()
                .any(|e| e.message.contains("larger than 10 MiB")),
            "{huge:?}"
        );
    }

    #[test]
    fn read_parses_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(".env");
        std::fs::write(&path, "\u{feff}REDIS_URL=redis://redis:6379\n").expect("write");
        let file = read(&path, ".env", &no_env).expect("reads");
        assert_eq!(file.path, ".env");
        assert_eq!(
            file.get("REDIS_URL").and_then(|e| e.value.as_deref()),
            Some("redis://redis:6379")
        );
    }

    /// A tiny xorshift generator: random input without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    #[test]
    fn random_input_never_panics_and_spans_point_at_keys() {
        let pieces = [
            "A", "KEY", "é", "_", ".", "-", "[", "]", "=", ":", " ", "\t", "\n", "\r\n", "#", " #",
            "'", "\"", "\\", "\\\"", "\\'", "$", "$$", "${", "}", "{", ":-", "-", ":?", "?", "+",
            "export ", "\u{feff}", "\u{a0}", "\u{85}", "\u{2028}", "0", "\\0", "x", "€", "🦀",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let lookup = |k: &str| (k == "A").then(|| "from-env".to_string());
        // WSDOCTOR_FUZZ_ITERATIONS raises the count for a longer local run.
        let iterations = std::env::var("WSDOCTOR_FUZZ_ITERATIONS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(3000);
        for _ in 0..iterations {
            let len = (rng.next() % 40) as usize;
            let input: String = (0..len).map(|_| rng.pick(&pieces)).collect();
            let file = parse(".env", &input, &lookup);
            let text = input.strip_prefix('\u{feff}').unwrap_or(&input);
            let lines: Vec<&str> = text.split('\n').collect();
            for e in &file.entries {
                let line = lines
                    .get(e.key_span.line as usize - 1)
                    .unwrap_or_else(|| panic!("{input:?}: line {} out of range", e.key_span.line));
                let at: String = line.chars().skip(e.key_span.column as usize - 1).collect();
                if e.key.is_empty() {
                    continue;
                }
                assert!(
                    at.starts_with(&e.key),
                    "{input:?}: key {:?} not at {}:{} ({at:?})",
                    e.key,
                    e.key_span.line,
                    e.key_span.column
                );
            }
            for err in &file.errors {
                assert!(err.span.line as usize <= lines.len(), "{input:?}");
            }
        }
    }

    #[test]
    fn huge_inputs_are_linear() {
        // Many statements on one line (columns are counted incrementally), a 4 MB value full
        // of references, and many lines with references to earlier ones.
        let one_line = "A=\"x\"".repeat(MAX_ENTRIES);
        let file = parse(".env", &one_line, &no_env);
        assert_eq!(file.entries.len(), MAX_ENTRIES);
        assert_eq!(
            file.entries[MAX_ENTRIES - 1].key_span.column,
            (MAX_ENTRIES as u32 - 1) * 5 + 1
        );
        let long_value = format!("A=1\nB={}\n", "${A:-x}$A ".repeat(400_000));
        let file = parse(".env", &long_value, &no_env);
        assert_eq!(
            file.get("B")
                .and_then(|e| e.value.as_ref())
                .map(String::len),
            Some(1_199_999)
        );
        let many: String = (0..MAX_ENTRIES)
            .map(|i| format!("K{i}=${{K{}}}\n", i.max(1) - 1))
            .collect();
        let file = parse(".env", &many, &no_env);
        assert_eq!(file.entries.len(), MAX_ENTRIES);
        let unterminated = format!("A=\"{}\nB='{}", "x".repeat(1_000_000), "y\n".repeat(5_000));
        let file = parse(".env", &unterminated, &no_env);
        assert_eq!(file.errors.len(), 2);
    }

    #[test]
    fn hostile_files_are_bounded() {
        let entries = "A=1\n".repeat(MAX_ENTRIES + 500);
        let file = parse(".env", &entries, &no_env);
        assert_eq!(file.entries.len(), MAX_ENTRIES);
        assert_eq!(file.errors.len(), 1);
        assert!(
            file.errors[0].message.contains("not read"),
            "{:?}",
            file.errors
        );
        assert_eq!(file.errors[0].span.line, MAX_ENTRIES as u32 + 1);
        let errors = "a b=1\n".repeat(MAX_ERRORS * 3);
        let file = parse(".env", &errors, &no_env);
        assert_eq!(file.errors.len(), MAX_ERRORS + 1);
        let unset: String = (0..5_000).map(|i| format!("K{i}=${{U{i}}}\n")).collect();
        let file = parse(".env", &unset, &no_env);
        assert_eq!(file.entries.len(), 5_000);
        assert_eq!(file.interpolation.len(), MAX_FINDINGS);
    }
}
