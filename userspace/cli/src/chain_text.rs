//! The text form of a chain: `openat AT_FDCWD "/proc/version" O_RDONLY;
//! read $0 buf:64; close $0`.

use std::fmt;

/// An argument as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// A number or a constant.
    Num(u64),
    /// A quoted string: a path, or data to write.
    Str(String),
    /// `$N`: the result of step N.
    Ref(usize),
    /// `buf:N`: an N-byte buffer to read into.
    Buf(usize),
}

impl Token {
    /// What it is, for messages: `the number 64`, `the string "x"`.
    pub fn what(&self) -> String {
        match self {
            Token::Num(_) => format!("the number {self}"),
            Token::Str(_) => format!("the string {self}"),
            Token::Ref(_) => format!("{self} (the result of a step)"),
            Token::Buf(_) => format!("{self} (a buffer to read into)"),
        }
    }
}

/// As it is written in a chain.
impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Num(v) => write!(f, "{}", *v as i64),
            Token::Str(s) => write!(f, "{s:?}"),
            Token::Ref(k) => write!(f, "${k}"),
            Token::Buf(n) => write!(f, "buf:{n}"),
        }
    }
}

/// A step as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextStep {
    pub name: String,
    pub args: Vec<Token>,
    /// Written with a trailing `?`: go on when it fails.
    pub keep_going: bool,
}

/// A parse error: which step (and its call, once known), and what.
#[derive(Debug, PartialEq, Eq)]
pub struct ParseError {
    pub step: usize,
    pub name: Option<String>,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "step {} ({name}): {}", self.step, self.message),
            None => write!(f, "step {}: {}", self.step, self.message),
        }
    }
}

/// Words that start loops or conditions in shells and languages: a chain
/// has none of them, and says so rather than reading them as calls.
const CONTROL_WORDS: &[&str] = &[
    "for", "while", "until", "loop", "repeat", "do", "done", "if", "then", "else", "fi",
];

/// What to say to a step that starts with one of [`CONTROL_WORDS`].
fn no_control_flow(word: &str) -> String {
    format!(
        "`{word}`: `anycall chain` has no loop or condition syntax, each step is one system \
         call and runs once. Write a step as often as it should run, use --repeat N to run \
         the whole chain N times, or end a step with `?` to go on when it fails (loops over \
         arrays are in the Rust crate, ChainBuilder::for_each, and in C programs)"
    )
}

const CONSTANTS: &[(&str, i64)] = &[
    ("AT_FDCWD", libc::AT_FDCWD as i64),
    ("AT_SYMLINK_NOFOLLOW", libc::AT_SYMLINK_NOFOLLOW as i64),
    ("AT_REMOVEDIR", libc::AT_REMOVEDIR as i64),
    ("O_RDONLY", libc::O_RDONLY as i64),
    ("O_WRONLY", libc::O_WRONLY as i64),
    ("O_RDWR", libc::O_RDWR as i64),
    ("O_CREAT", libc::O_CREAT as i64),
    ("O_EXCL", libc::O_EXCL as i64),
    ("O_TRUNC", libc::O_TRUNC as i64),
    ("O_APPEND", libc::O_APPEND as i64),
    ("O_DIRECTORY", libc::O_DIRECTORY as i64),
    ("O_CLOEXEC", libc::O_CLOEXEC as i64),
    ("SEEK_SET", libc::SEEK_SET as i64),
    ("SEEK_CUR", libc::SEEK_CUR as i64),
    ("SEEK_END", libc::SEEK_END as i64),
    ("STDIN_FILENO", 0),
    ("STDOUT_FILENO", 1),
    ("STDERR_FILENO", 2),
];

/// A number as C and the shell write it: `0x1f` hex, `0644` (a leading 0)
/// octal, `0o644` octal too, anything else decimal; `-` in front negates.
fn integer(part: &str) -> Option<Result<u64, String>> {
    let (negative, digits) = match part.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, part),
    };
    let (radix, body) = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, hex)
    } else if let Some(oct) = digits.strip_prefix("0o") {
        (8, oct)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    // Only words that start like a number are numbers (O_RDONLY is not).
    if !body.starts_with(|c: char| c.is_ascii_digit()) && radix == 10 {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).map_err(|_| match radix {
        8 if body.chars().all(|c| c.is_ascii_digit()) => format!(
            "{part:?} is not a number: a leading 0 means octal, as in C and the shell \
             (write {} for decimal)",
            part.replacen('0', "", 1)
        ),
        16 => format!("{part:?} is not a hexadecimal number"),
        8 => format!("{part:?} is not an octal number"),
        _ => format!("{part:?} is not a number"),
    });
    Some(magnitude.and_then(|m| {
        if negative {
            // -9223372036854775808 is the lowest a 64-bit argument holds.
            if m > 1 << 63 {
                return Err(format!("{part:?} is below the lowest 64-bit number"));
            }
            Ok(m.wrapping_neg())
        } else {
            Ok(m)
        }
    }))
}

fn number(word: &str) -> Result<u64, String> {
    let mut total = 0u64;
    for part in word.split('|') {
        let v = if let Some(&(_, v)) = CONSTANTS.iter().find(|(n, _)| *n == part) {
            v as u64
        } else if let Some(v) = integer(part) {
            v?
        } else {
            return Err(format!(
                "{part:?} is not a number, a known constant, \"a string\", $N or buf:N"
            ));
        };
        total |= v;
    }
    Ok(total)
}

/// Splits `text` into steps; `known` says which names are calls (checked
/// before the arguments, so that a misspelt call is not blamed on them).
pub fn parse(text: &str, known: impl Fn(&str) -> bool) -> Result<Vec<TextStep>, ParseError> {
    let mut steps = Vec::new();
    let mut words: Vec<(String, bool)> = Vec::new();
    let mut chars = text.chars().peekable();
    let finish =
        |words: &mut Vec<(String, bool)>, steps: &mut Vec<TextStep>| -> Result<(), ParseError> {
            if words.is_empty() {
                return Ok(());
            }
            let step = steps.len();
            let err = |message: String| ParseError {
                step,
                name: None,
                message,
            };
            let mut keep_going = false;
            if let Some((last, false)) = words.last_mut() {
                if last == "?" {
                    words.pop();
                    keep_going = true;
                } else if let Some(stripped) = last.strip_suffix('?') {
                    *last = stripped.to_string();
                    keep_going = true;
                }
            }
            let (name, quoted) = words.remove(0);
            if quoted {
                return Err(err(format!(
                    "a step starts with a system call name, not the string {name:?}"
                )));
            }
            if CONTROL_WORDS.contains(&name.as_str()) {
                return Err(err(no_control_flow(&name)));
            }
            if !known(&name) {
                return Err(err(format!(
                    "`{name}` is not a system call `anycall chain` knows (--help lists them)"
                )));
            }
            let err = |message: String| ParseError {
                step,
                name: Some(name.clone()),
                message,
            };
            let mut args = Vec::new();
            for (w, quoted) in words.drain(..) {
                args.push(if quoted {
                    Token::Str(w)
                } else if let Some(n) = w.strip_prefix('$') {
                    Token::Ref(
                        n.parse()
                            .map_err(|_| err(format!("{w:?}: $ takes a step number")))?,
                    )
                } else if let Some(n) = w.strip_prefix("buf:") {
                    Token::Buf(
                        n.parse()
                            .map_err(|_| err(format!("{w:?}: buf: takes a size")))?,
                    )
                } else {
                    Token::Num(number(&w).map_err(err)?)
                });
            }
            steps.push(TextStep {
                name,
                args,
                keep_going,
            });
            Ok(())
        };
    let mut word = String::new();
    while let Some(c) = chars.next() {
        match c {
            ';' | '\n' => {
                if !word.is_empty() {
                    words.push((std::mem::take(&mut word), false));
                }
                finish(&mut words, &mut steps)?;
            }
            '#' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '"' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(ParseError {
                                step: steps.len(),
                                name: None,
                                message: "a string without its closing quote".into(),
                            })
                        }
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some('0') => s.push('\0'),
                            Some(other) => s.push(other),
                            None => {}
                        },
                        Some(other) => s.push(other),
                    }
                }
                words.push((s, true));
            }
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push((std::mem::take(&mut word), false));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push((word, false));
    }
    finish(&mut words, &mut steps)?;
    if steps.is_empty() {
        return Err(ParseError {
            step: 0,
            name: None,
            message: "the chain has no step".into(),
        });
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<TextStep>, ParseError> {
        const KNOWN: &[&str] = &[
            "openat", "read", "write", "lseek", "getpid", "close", "mkdirat",
        ];
        super::parse(text, |name| KNOWN.contains(&name))
    }

    #[test]
    fn parses_steps_arguments_and_policies() {
        let steps = parse(
            "openat AT_FDCWD \"/etc/host name\" O_RDONLY|O_CLOEXEC; read $0 buf:64 ?\n\
             # a comment\n write 1 \"a\\nb\"; lseek $0 -1 0x10?",
        )
        .unwrap();
        assert_eq!(steps.len(), 4);
        assert_eq!(steps[0].name, "openat");
        assert_eq!(
            steps[0].args,
            vec![
                Token::Num(libc::AT_FDCWD as i64 as u64),
                Token::Str("/etc/host name".into()),
                Token::Num((libc::O_RDONLY | libc::O_CLOEXEC) as u64),
            ]
        );
        assert!(!steps[0].keep_going);
        assert_eq!(steps[1].args, vec![Token::Ref(0), Token::Buf(64)]);
        assert!(steps[1].keep_going);
        assert_eq!(
            steps[2].args,
            vec![Token::Num(1), Token::Str("a\nb".into())]
        );
        assert_eq!(
            steps[3].args,
            vec![Token::Ref(0), Token::Num(u64::MAX), Token::Num(16)]
        );
        assert!(steps[3].keep_going);
    }

    #[test]
    fn numbers_are_read_as_c_and_the_shell_read_them() {
        let num = |w: &str| number(w);
        assert_eq!(num("0644"), Ok(0o644));
        assert_eq!(num("0755"), Ok(0o755));
        assert_eq!(num("0o644"), Ok(0o644));
        assert_eq!(num("00"), Ok(0));
        assert_eq!(num("0"), Ok(0));
        assert_eq!(num("644"), Ok(644));
        assert_eq!(num("0x1f"), Ok(31));
        assert_eq!(num("0X1F"), Ok(31));
        assert_eq!(num("-1"), Ok(u64::MAX));
        assert_eq!(num("-010"), Ok(-8i64 as u64));
        assert_eq!(num("-0x10"), Ok(-16i64 as u64));
        assert_eq!(num("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(num("-9223372036854775808"), Ok(i64::MIN as u64));
        assert_eq!(num("O_CREAT|0600"), Ok(libc::O_CREAT as u64 | 0o600));
        assert_eq!(
            num("0649"),
            Err(
                "\"0649\" is not a number: a leading 0 means octal, as in C and the shell \
                 (write 649 for decimal)"
                    .into()
            )
        );
        assert_eq!(
            num("0xg"),
            Err("\"0xg\" is not a hexadecimal number".into())
        );
        assert_eq!(num("12ab"), Err("\"12ab\" is not a number".into()));
        assert_eq!(
            num("-9223372036854775809"),
            Err("\"-9223372036854775809\" is below the lowest 64-bit number".into())
        );
        // In a step: mkdirat's mode.
        let steps = parse("mkdirat AT_FDCWD \"d\" 0644").unwrap();
        assert_eq!(steps[0].args[2], Token::Num(0o644));
    }

    #[test]
    fn errors_name_the_step() {
        assert_eq!(
            parse("getpid; read O_BOGUS buf:1").unwrap_err().to_string(),
            "step 1 (read): \"O_BOGUS\" is not a number, a known constant, \"a string\", $N \
             or buf:N"
        );
        assert_eq!(
            parse("openat 1 \"/x").unwrap_err().to_string(),
            "step 0: a string without its closing quote"
        );
        assert_eq!(
            parse(" ; ").unwrap_err().to_string(),
            "step 0: the chain has no step"
        );
        assert_eq!(
            parse("close $x").unwrap_err().to_string(),
            "step 0 (close): \"$x\": $ takes a step number"
        );
        // The call's name is checked before its arguments.
        assert_eq!(
            parse("getpid; frobnicate AT_FDCWD x")
                .unwrap_err()
                .to_string(),
            "step 1: `frobnicate` is not a system call `anycall chain` knows (--help lists them)"
        );
        assert_eq!(
            parse("\"getpid\"").unwrap_err().to_string(),
            "step 0: a step starts with a system call name, not the string \"getpid\""
        );
    }

    #[test]
    fn loop_syntax_is_answered_with_what_there_is() {
        for text in [
            "for 100000 getpid",
            "getpid; while 1 getpid",
            "repeat 3; getpid",
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(
                err.contains(
                    "`anycall chain` has no loop or condition syntax, each step is one system \
                     call and runs once. Write a step as often as it should run, use --repeat N \
                     to run the whole chain N times"
                ),
                "{text}: {err}"
            );
        }
        assert!(parse("for 100000 getpid")
            .unwrap_err()
            .to_string()
            .starts_with("step 0: `for`: "));
    }

    #[test]
    fn tokens_show_as_written() {
        assert_eq!(Token::Num(64).what(), "the number 64");
        assert_eq!(Token::Num(u64::MAX).what(), "the number -1");
        assert_eq!(Token::Str("x\n".into()).what(), "the string \"x\\n\"");
        assert_eq!(Token::Ref(2).what(), "$2 (the result of a step)");
        assert_eq!(Token::Buf(8).what(), "buf:8 (a buffer to read into)");
    }
}
