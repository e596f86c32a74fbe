//! What a twin saw, as `key = value` facts, and how two twins' facts
//! are compared.
//!
//! A twin reports its facts through a pipe as text, one `key\tvalue` per
//! line; the parent adds the scratch tree, which it reads itself once
//! the twin is gone (also when it died).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Obs {
    pub facts: Vec<(String, String)>,
}

impl Obs {
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.facts.push((key.into(), value.into()));
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut s = String::new();
        for (k, v) in &self.facts {
            debug_assert!(!k.contains(['\t', '\n']) && !v.contains('\n'));
            let _ = writeln!(s, "{k}\t{v}");
        }
        s.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Obs, String> {
        let text = std::str::from_utf8(bytes).map_err(|e| format!("report is not UTF-8: {e}"))?;
        let mut obs = Obs::default();
        for line in text.lines() {
            let (k, v) = line
                .split_once('\t')
                .ok_or_else(|| format!("report line without a tab: {line:?}"))?;
            obs.push(k, v);
        }
        Ok(obs)
    }

    #[cfg(test)]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.facts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// One fact the twins disagree on: its key, and each twin's value
/// (`None` where a twin did not report it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub key: String,
    pub direct: Option<String>,
    pub anycall: Option<String>,
}

/// The facts that differ, in the order the direct twin reported them
/// (then those only the AnyCall twin has).
pub fn diff(direct: &Obs, anycall: &Obs) -> Vec<Difference> {
    let a: BTreeMap<&str, &str> = direct
        .facts
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let b: BTreeMap<&str, &str> = anycall
        .facts
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut out = Vec::new();
    for (k, v) in &direct.facts {
        match b.get(k.as_str()) {
            Some(w) if *w == v => {}
            w => out.push(Difference {
                key: k.clone(),
                direct: Some(v.clone()),
                anycall: w.map(|w| w.to_string()),
            }),
        }
    }
    for (k, v) in &anycall.facts {
        if !a.contains_key(k.as_str()) {
            out.push(Difference {
                key: k.clone(),
                direct: None,
                anycall: Some(v.clone()),
            });
        }
    }
    out
}

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// FNV-1a, 64 bits: a short name for long contents.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Contents as a fact: all of it when short, else its length and hash.
pub fn contents(bytes: &[u8]) -> String {
    if bytes.len() <= 96 {
        format!("[{}] {}", bytes.len(), hex(bytes))
    } else {
        format!(
            "[{}] fnv {:016x} head {}",
            bytes.len(),
            fnv(bytes),
            hex(&bytes[..32])
        )
    }
}

/// A result as a fact: the number, with the errno's name when negative.
pub fn result(r: Option<i64>) -> String {
    match r {
        None => "not run".into(),
        Some(r) if (-4095..0).contains(&r) => {
            format!("-{} ({})", errno_name(-r as i32), -r)
        }
        Some(r) => r.to_string(),
    }
}

pub fn errno_name(e: i32) -> &'static str {
    match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::EMFILE => "EMFILE",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EPIPE => "EPIPE",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ENXIO => "ENXIO",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ENOTCONN => "ENOTCONN",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::ELOOP => "ELOOP",
        libc::ENOBUFS => "ENOBUFS",
        libc::E2BIG => "E2BIG",
        libc::ENOEXEC => "ENOEXEC",
        libc::EROFS => "EROFS",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        _ => "E?",
    }
}

/// The fields of a `struct stat` two twins share: not the inode number
/// (each twin has its own files) nor the times.
pub fn stat_fact(st: &libc::stat) -> String {
    format!(
        "mode {:o} nlink {} uid {} gid {} size {} blocks {} blksize {} rdev {:x}",
        st.st_mode,
        st.st_nlink,
        st.st_uid,
        st.st_gid,
        st.st_size,
        st.st_blocks,
        st.st_blksize,
        st.st_rdev
    )
}

/// Makes a `/proc/self/fd` link comparable between the twins: the
/// twin's scratch directory becomes `$S`, and pipe and socket inode
/// numbers become their order of appearance (`seen` keeps it).
pub fn normalize_link(link: &str, scratch: &str, seen: &mut Vec<String>) -> String {
    for kind in ["pipe:[", "socket:["] {
        if let Some(rest) = link.strip_prefix(kind) {
            let ino = rest.trim_end_matches(']').to_string();
            let n = match seen.iter().position(|s| *s == ino) {
                Some(n) => n,
                None => {
                    seen.push(ino);
                    seen.len() - 1
                }
            };
            return format!("{kind}#{n}]");
        }
    }
    let link = match link.strip_prefix(scratch) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("$S{rest}"),
        _ => link.to_string(),
    };
    // An O_TMPFILE file is named by its inode number: "/dir/#1234 (deleted)".
    match link.rsplit_once("/#") {
        Some((dir, ino))
            if ino.ends_with(" (deleted)")
                && ino
                    .trim_end_matches(" (deleted)")
                    .bytes()
                    .all(|b| b.is_ascii_digit()) =>
        {
            format!("{dir}/#ino (deleted)")
        }
        _ => link,
    }
}

/// The scratch tree under `root`, as facts: each entry's type, mode,
/// size, links, owner and contents. Read by the parent (root), which
/// sees everything whatever the modes.
pub fn tree(root: &Path, obs: &mut Obs) {
    fn walk(dir: &Path, rel: &str, obs: &mut Obs) {
        let mut names: Vec<_> = match std::fs::read_dir(dir) {
            Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.file_name()).collect(),
            Err(e) => {
                obs.push(format!("tree {rel}/"), format!("unreadable: {e}"));
                return;
            }
        };
        names.sort();
        for name in names {
            let name = name.to_string_lossy().into_owned();
            let path = dir.join(&name);
            let rel = format!("{rel}/{name}");
            let md = match std::fs::symlink_metadata(&path) {
                Ok(md) => md,
                Err(e) => {
                    obs.push(format!("tree {rel}"), format!("gone: {e}"));
                    continue;
                }
            };
            use std::os::unix::fs::MetadataExt;
            let ft = md.file_type();
            let kind = if ft.is_dir() {
                "dir"
            } else if ft.is_file() {
                "file"
            } else if ft.is_symlink() {
                "symlink"
            } else {
                "other"
            };
            let mut v = format!(
                "{kind} mode {:o} nlink {} uid {} gid {}",
                md.mode() & 0o7777,
                md.nlink(),
                md.uid(),
                md.gid()
            );
            if ft.is_file() {
                match std::fs::read(&path) {
                    Ok(data) => {
                        let _ = write!(v, " {}", contents(&data));
                    }
                    Err(e) => {
                        let _ = write!(v, " unreadable: {e}");
                    }
                }
            }
            obs.push(format!("tree {rel}"), v);
            if ft.is_dir() {
                walk(&path, &rel, obs);
            }
        }
    }
    walk(root, "", obs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_survive_the_pipe() {
        let mut o = Obs::default();
        o.push("op 0 openat", "3");
        o.push("op 1 read out", contents(b"hello"));
        o.push("empty", "");
        assert_eq!(Obs::decode(&o.encode()).unwrap(), o);
        assert!(Obs::decode(b"no tab here\n").is_err());
    }

    #[test]
    fn differences_name_the_facts() {
        let mut a = Obs::default();
        let mut b = Obs::default();
        a.push("x", "1");
        a.push("y", "2");
        a.push("only direct", "3");
        b.push("y", "20");
        b.push("x", "1");
        b.push("only anycall", "4");
        let d = diff(&a, &b);
        assert_eq!(
            d,
            vec![
                Difference {
                    key: "y".into(),
                    direct: Some("2".into()),
                    anycall: Some("20".into())
                },
                Difference {
                    key: "only direct".into(),
                    direct: Some("3".into()),
                    anycall: None
                },
                Difference {
                    key: "only anycall".into(),
                    direct: None,
                    anycall: Some("4".into())
                },
            ]
        );
        assert!(diff(&a, &a).is_empty());
    }

    #[test]
    fn links_lose_what_differs_between_twins() {
        let mut seen = Vec::new();
        let s = "/tmp/fz/t0";
        assert_eq!(normalize_link("/tmp/fz/t0/d/a", s, &mut seen), "$S/d/a");
        assert_eq!(normalize_link("/tmp/fz/t0", s, &mut seen), "$S");
        assert_eq!(normalize_link("/tmp/fz/t01", s, &mut seen), "/tmp/fz/t01");
        assert_eq!(normalize_link("pipe:[812]", s, &mut seen), "pipe:[#0]");
        assert_eq!(normalize_link("socket:[99]", s, &mut seen), "socket:[#1]");
        assert_eq!(normalize_link("pipe:[812]", s, &mut seen), "pipe:[#0]");
        // The other twin, with other inode numbers in the same order.
        let mut other = Vec::new();
        assert_eq!(normalize_link("pipe:[5]", "/x", &mut other), "pipe:[#0]");
        assert_eq!(
            normalize_link("socket:[7]", "/x", &mut other),
            "socket:[#1]"
        );
        assert_eq!(
            normalize_link("anon_inode:bpf-prog", s, &mut seen),
            "anon_inode:bpf-prog"
        );
        assert_eq!(
            normalize_link("/tmp/fz/t0/d/#4711 (deleted)", s, &mut seen),
            "$S/d/#ino (deleted)"
        );
        assert_eq!(
            normalize_link("/tmp/fz/t0/#a (deleted)", s, &mut seen),
            "$S/#a (deleted)"
        );
    }

    #[test]
    fn results_and_contents_read_well() {
        assert_eq!(result(Some(-2)), "-ENOENT (2)");
        assert_eq!(result(Some(5)), "5");
        assert_eq!(result(None), "not run");
        assert_eq!(result(Some(i64::MIN)), i64::MIN.to_string());
        assert_eq!(contents(b"\x01\xff"), "[2] 01ff");
        assert!(contents(&[0u8; 200]).starts_with("[200] fnv "));
    }

    #[test]
    fn stat_facts_leave_out_inodes_and_times() {
        // SAFETY: `struct stat` is plain data; all zeroes is valid.
        let mut a: libc::stat = unsafe { std::mem::zeroed() };
        a.st_size = 5;
        let mut b = a;
        b.st_ino = 77;
        b.st_mtime = 12345;
        assert_eq!(stat_fact(&a), stat_fact(&b));
        b.st_size = 6;
        assert_ne!(stat_fact(&a), stat_fact(&b));
    }

    #[test]
    fn the_tree_lists_names_modes_and_contents() {
        let root = std::env::temp_dir().join(format!("anycall-fuzz-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("d")).unwrap();
        std::fs::write(root.join("a"), b"xyz").unwrap();
        std::fs::write(root.join("d/b"), b"").unwrap();
        let mut o = Obs::default();
        tree(&root, &mut o);
        std::fs::remove_dir_all(&root).unwrap();
        let keys: Vec<&str> = o.facts.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["tree /a", "tree /d", "tree /d/b"]);
        assert!(o.get("tree /a").unwrap().ends_with("[3] 78797a"), "{o:?}");
        assert!(o.get("tree /d").unwrap().starts_with("dir mode "));
    }
}
