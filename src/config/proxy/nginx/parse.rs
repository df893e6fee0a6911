//! nginx configuration syntax: tokens and the directive tree, with line numbers.
//!
//! The lexer follows nginx's `ngx_conf_read_token` (src/core/ngx_conf_file.c, nginx 1.26) as
//! crossplane 0.5.8 (`crossplane/lexer.py`) reproduces it, so the two trees can be compared
//! in a test: words are separated by whitespace, `;`, `{` and `}`; a `"` or `'` at the start
//! of a word quotes up to the matching quote (`\"` inside gives `"`, other escapes stay as
//! written); `#` at the start of a word comments to the end of the line; `${` keeps going to
//! the matching `}`. Errors use nginx's own words (`unexpected "}"`, `unexpected end of
//! file, expecting ";" or "}"`, `directive "x" is not terminated by ";"`) so a user who
//! runs `nginx -t` sees the same sentence.

/// One directive: `name args…;` or `name args… { block }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    /// 1-based line and column of the directive's name.
    pub line: u32,
    pub column: u32,
    /// `Some` for a block directive (`server {…}`), even when empty.
    pub block: Option<Vec<Directive>>,
}

/// A syntax error at a line (and column) of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    line: u32,
    column: u32,
    quoted: bool,
}

/// Splits a file into tokens. An unterminated quote is an error at the quote.
fn lex(text: &str) -> (Vec<Token>, Option<SyntaxError>) {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    let mut word = String::new();
    let (mut word_line, mut word_col) = (1u32, 1u32);
    let advance = |i: &mut usize, line: &mut u32, col: &mut u32, c: char| {
        *i += 1;
        if c == '\n' {
            *line += 1;
            *col = 1;
        } else {
            *col += 1;
        }
    };
    macro_rules! flush {
        () => {
            if !word.is_empty() {
                tokens.push(Token {
                    text: std::mem::take(&mut word),
                    line: word_line,
                    column: word_col,
                    quoted: false,
                });
            }
        };
    }
    while i < chars.len() {
        let c = chars[i];
        // An escape keeps the backslash and the next character together, in a word.
        if c == '\\' && i + 1 < chars.len() {
            if word.is_empty() {
                word_line = line;
                word_col = col;
            }
            word.push(c);
            advance(&mut i, &mut line, &mut col, c);
            let n = chars[i];
            word.push(n);
            advance(&mut i, &mut line, &mut col, n);
            continue;
        }
        if c.is_whitespace() {
            flush!();
            advance(&mut i, &mut line, &mut col, c);
            continue;
        }
        if word.is_empty() && c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                let d = chars[i];
                advance(&mut i, &mut line, &mut col, d);
            }
            continue;
        }
        if word.is_empty() && (c == '"' || c == '\'') {
            let (qline, qcol) = (line, col);
            advance(&mut i, &mut line, &mut col, c);
            let mut s = String::new();
            loop {
                if i >= chars.len() {
                    return (
                        tokens,
                        Some(SyntaxError {
                            line: qline,
                            column: qcol,
                            message: "unexpected end of file, expecting the closing quote"
                                .to_string(),
                        }),
                    );
                }
                let q = chars[i];
                if q == '\\' && i + 1 < chars.len() {
                    let n = chars[i + 1];
                    if n != c {
                        s.push(q);
                    }
                    s.push(n);
                    advance(&mut i, &mut line, &mut col, q);
                    advance(&mut i, &mut line, &mut col, n);
                    continue;
                }
                advance(&mut i, &mut line, &mut col, q);
                if q == c {
                    break;
                }
                s.push(q);
            }
            tokens.push(Token {
                text: s,
                line: qline,
                column: qcol,
                quoted: true,
            });
            continue;
        }
        if c == '{' && word.ends_with('$') {
            // `${var}`: the braces belong to the variable.
            while i < chars.len() && !chars[i].is_whitespace() {
                let d = chars[i];
                word.push(d);
                advance(&mut i, &mut line, &mut col, d);
                if d == '}' {
                    break;
                }
            }
            continue;
        }
        if matches!(c, ';' | '{' | '}') {
            flush!();
            tokens.push(Token {
                text: c.to_string(),
                line,
                column: col,
                quoted: false,
            });
            advance(&mut i, &mut line, &mut col, c);
            continue;
        }
        if word.is_empty() {
            word_line = line;
            word_col = col;
        }
        word.push(c);
        advance(&mut i, &mut line, &mut col, c);
    }
    flush!();
    (tokens, None)
}

/// Directives that take a block, and directives that must end with `;` (nginx's
/// `NGX_CONF_BLOCK` flag, from the module sources of nginx 1.26 and the directives of
/// crossplane 0.5.8 `analyzer.py`). Unknown directives are accepted either way: modules add
/// their own.
const BLOCK_DIRECTIVES: &[&str] = &[
    "events",
    "http",
    "server",
    "location",
    "upstream",
    "map",
    "geo",
    "split_clients",
    "types",
    "if",
    "limit_except",
    "stream",
    "mail",
    "charset_map",
    "match",
];
const SIMPLE_DIRECTIVES: &[&str] = &[
    "worker_processes",
    "worker_connections",
    "error_log",
    "pid",
    "include",
    "user",
    "listen",
    "server_name",
    "root",
    "index",
    "return",
    "rewrite",
    "proxy_pass",
    "proxy_set_header",
    "proxy_http_version",
    "proxy_read_timeout",
    "proxy_send_timeout",
    "proxy_connect_timeout",
    "proxy_buffering",
    "add_header",
    "access_log",
    "ssl_certificate",
    "ssl_certificate_key",
    "client_max_body_size",
    "keepalive_timeout",
    "sendfile",
    "gzip",
    "set",
    "try_files",
    "alias",
    "ip_hash",
    "hash",
    "least_conn",
    "sticky",
    "default_type",
    "resolver",
    "expires",
];

/// Parses one file's text into its top-level directives. Syntax errors do not stop the
/// parse where nginx's message still leaves a sensible tree: the directives read before the
/// error are kept.
/// nginx's message for a block still open at the end of the file.
const UNCLOSED_BLOCK: &str = "unexpected end of file, expecting \"}\"";

pub fn parse(text: &str) -> (Vec<Directive>, Vec<SyntaxError>) {
    let (tokens, lex_error) = lex(text);
    let mut errors = Vec::new();
    let mut pos = 0usize;
    let (mut tree, _) = parse_block(&tokens, &mut pos, 0, "", &mut errors);
    if let Some(e) = lex_error {
        errors.push(e);
    }
    // nginx names the line it reached at the end of the file (its counter starts at 1 and
    // counts every newline: ngx_conf_file.c, ngx_conf_read_token), not the block left open;
    // the finding says both, at nginx's line, so it agrees with `nginx -t`.
    let eof_line = u32::try_from(text.matches('\n').count() + 1).unwrap_or(u32::MAX);
    for e in errors.iter_mut().filter(|e| e.message == UNCLOSED_BLOCK) {
        e.message = format!(
            "{UNCLOSED_BLOCK} (the block opened at line {} is not closed)",
            e.line
        );
        e.line = eof_line;
        e.column = 1;
    }
    // `unexpected "}"` at the top level: nginx stops; the rest is read here so later lines
    // are still known, as crossplane does with catch_errors.
    while pos < tokens.len() {
        pos += 1;
        tree.extend(parse_block(&tokens, &mut pos, 0, "", &mut errors).0);
    }
    (tree, errors)
}

/// Reads directives up to the `}` that closes this block (true) or the end of the tokens
/// (false).
fn parse_block(
    tokens: &[Token],
    pos: &mut usize,
    depth: usize,
    parent: &str,
    errors: &mut Vec<SyntaxError>,
) -> (Vec<Directive>, bool) {
    let mut out = Vec::new();
    // Inside these blocks the entries are data (`default upgrade;`, `text/html html;`),
    // not directives; inside `upstream`, `server` is the simple directive of that module.
    let data_block = matches!(
        parent,
        "map" | "geo" | "types" | "split_clients" | "charset_map" | "match"
    );
    let known = |name: &str, list: &[&str]| {
        let upstream_server = parent == "upstream" && name == "server";
        !(data_block || upstream_server) && list.contains(&name)
    };
    while *pos < tokens.len() {
        let t = &tokens[*pos];
        if !t.quoted && t.text == "}" {
            if depth == 0 {
                errors.push(SyntaxError {
                    line: t.line,
                    column: t.column,
                    message: "unexpected \"}\"".to_string(),
                });
                return (out, false);
            }
            *pos += 1;
            return (out, true);
        }
        if !t.quoted && (t.text == ";" || t.text == "{") {
            errors.push(SyntaxError {
                line: t.line,
                column: t.column,
                message: format!("unexpected \"{}\"", t.text),
            });
            *pos += 1;
            if t.text == "{" {
                // Read the stray block so its closing brace does not end ours.
                let _ = parse_block(tokens, pos, depth + 1, "", errors);
            }
            continue;
        }
        let mut d = Directive {
            name: t.text.clone(),
            args: Vec::new(),
            line: t.line,
            column: t.column,
            block: None,
        };
        *pos += 1;
        let mut terminated = false;
        while *pos < tokens.len() {
            let a = &tokens[*pos];
            if !a.quoted && a.text == ";" {
                *pos += 1;
                terminated = true;
                if known(&d.name, BLOCK_DIRECTIVES) {
                    errors.push(SyntaxError {
                        line: d.line,
                        column: d.column,
                        message: format!("directive \"{}\" has no opening \"{{\"", d.name),
                    });
                }
                break;
            }
            if !a.quoted && a.text == "{" {
                *pos += 1;
                let open = a.line;
                let (inner, closed) = parse_block(tokens, pos, depth + 1, &d.name, errors);
                if !closed
                    && !errors
                        .iter()
                        .any(|e| e.message.starts_with("unexpected end of file"))
                {
                    errors.push(SyntaxError {
                        line: open,
                        column: a.column,
                        message: UNCLOSED_BLOCK.to_string(),
                    });
                }
                if known(&d.name, SIMPLE_DIRECTIVES) {
                    errors.push(SyntaxError {
                        line: d.line,
                        column: d.column,
                        message: format!("directive \"{}\" is not terminated by \";\"", d.name),
                    });
                }
                d.block = Some(inner);
                terminated = true;
                break;
            }
            if !a.quoted && a.text == "}" {
                break;
            }
            d.args.push(a.text.clone());
            *pos += 1;
        }
        if !terminated {
            errors.push(SyntaxError {
                line: d.line,
                column: d.column,
                message: format!(
                    "directive \"{}\" is not terminated by \";\" (unexpected {})",
                    d.name,
                    if *pos < tokens.len() {
                        "\"}\""
                    } else {
                        "end of file"
                    }
                ),
            });
        }
        out.push(d);
    }
    // End of file: inside a block, the caller reports it at the opening brace.
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_blocks_and_lines() {
        let (tree, errors) = parse(
            "http {\n  # c\n  server {\n    location /ws/ { proxy_pass http://a:1/; }\n  }\n}\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let server = &tree[0].block.as_ref().unwrap()[0];
        assert_eq!(server.line, 3);
        let loc = &server.block.as_ref().unwrap()[0];
        assert_eq!(
            (loc.name.as_str(), loc.line, loc.column),
            ("location", 4, 5)
        );
        assert_eq!(loc.args, vec!["/ws/"]);
        assert_eq!(loc.block.as_ref().unwrap()[0].args, vec!["http://a:1/"]);
    }

    #[test]
    fn quotes_escapes_and_variables() {
        let (tree, errors) =
            parse("add_header X \"a \\\"b\\\" ; {c}\";\nset $x ${y}z;\nreturn 200 'it''s';\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(tree[0].args, vec!["X", "a \"b\" ; {c}"]);
        assert_eq!(tree[1].args, vec!["$x", "${y}z"]);
        assert_eq!(tree[2].args, vec!["200", "it", "s"]);
    }

    #[test]
    fn unbalanced_braces_are_errors_not_panics() {
        // At nginx's line (the end of the file), naming the block left open.
        let (_, errors) = parse("http {\n server {\n");
        assert_eq!(errors[0].line, 3, "{errors:?}");
        assert!(errors[0].message.contains("end of file"));
        assert!(errors[0].message.contains("opened at line 2"), "{errors:?}");
        let (_, errors) = parse("server { }\n}\nlisten 80;\n");
        assert_eq!(errors[0].message, "unexpected \"}\"");
        assert_eq!(errors[0].line, 2);
        let (_, errors) = parse("listen 80");
        assert!(errors[0].message.contains("not terminated"));
        let (_, errors) = parse("add_header A {{ .Env.B }};\n");
        assert!(
            errors
                .iter()
                .any(|e| e.message == "directive \"add_header\" is not terminated by \";\""),
            "{errors:?}"
        );
        for text in ["\"", "{", "}", ";", "a \\", "${", "'x", "{{{", "}}}"] {
            let _ = parse(text);
        }
    }
}
