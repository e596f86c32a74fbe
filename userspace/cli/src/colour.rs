//! Whether clap may colour help and errors.
//!
//! Colour only on a terminal (clap checks each stream, and `TERM=dumb`),
//! never when `NO_COLOR` is set to anything, and never on the system or a
//! serial console: its `TERM` is the kernel's default (`linux`), not the
//! terminal at the other end, and what is written there ends up in boot
//! and VM logs (run-in-vm's), where colour codes are noise.

use clap::ColorChoice;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// A console device: the kernel's console or a serial line.
fn is_console(tty: &Path) -> bool {
    let Some(name) = tty.to_str().and_then(|p| p.strip_prefix("/dev/")) else {
        return false;
    };
    name == "console"
        || ["ttyS", "ttyAMA", "ttyUSB", "hvc", "xvc"]
            .iter()
            .any(|serial| name.starts_with(serial))
}

/// Colour is allowed with `NO_COLOR` as given, stdout and stderr opened on
/// `targets` (what `/proc/self/fd/N` links to).
fn allowed(no_color: Option<&OsStr>, targets: &[Option<PathBuf>]) -> bool {
    // https://no-color.org: set and not empty.
    if no_color.is_some_and(|v| !v.is_empty()) {
        return false;
    }
    !targets.iter().flatten().any(|t| is_console(t))
}

/// The choice for this process: `Never`, or `Auto` (colour on terminals).
pub fn choice() -> ColorChoice {
    let targets = [1, 2].map(|fd| std::fs::read_link(format!("/proc/self/fd/{fd}")).ok());
    if allowed(std::env::var_os("NO_COLOR").as_deref(), &targets) {
        ColorChoice::Auto
    } else {
        ColorChoice::Never
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_colour_on_consoles_or_with_no_color() {
        let on = |paths: [&str; 2]| paths.map(|p| Some(PathBuf::from(p)));
        assert!(allowed(None, &on(["/dev/pts/3", "/dev/pts/3"])));
        assert!(allowed(None, &on(["/dev/tty1", "/dev/tty1"])));
        assert!(allowed(None, &[None, None]));
        // An empty NO_COLOR does not count.
        assert!(allowed(
            Some(OsStr::new("")),
            &on(["/dev/pts/0", "/dev/pts/0"])
        ));
        assert!(!allowed(
            Some(OsStr::new("1")),
            &on(["/dev/pts/0", "/dev/pts/0"])
        ));
        assert!(!allowed(None, &on(["/dev/console", "/dev/console"])));
        assert!(!allowed(None, &on(["/dev/ttyS0", "/dev/ttyS0"])));
        assert!(!allowed(None, &on(["pipe:[1234]", "/dev/ttyS0"])));
        assert!(!allowed(None, &on(["/dev/hvc0", "/tmp/log"])));
        assert!(!allowed(None, &on(["/dev/ttyAMA0", "/dev/ttyAMA0"])));
    }
}
