//! Shrinking a sequence that shows a difference: drop operations one at
//! a time while the difference stays.

use crate::gen::{Fd, Sequence};

/// `seq` without operation `i`: fds it made become -1 where later
/// operations used them, later references move down, an emptied segment
/// goes. `None` when that leaves nothing.
pub fn without(seq: &Sequence, i: usize) -> Option<Sequence> {
    if seq.ops.len() <= 1 {
        return None;
    }
    let mut s = seq.clone();
    s.ops.remove(i);
    s.raw.remove(i);
    for op in &mut s.ops {
        for fd in op.fds_mut() {
            *fd = match *fd {
                Fd::Res(k) | Fd::Pair(k, _) if k == i => Fd::Bad(-1),
                Fd::Res(k) if k > i => Fd::Res(k - 1),
                Fd::Pair(k, e) if k > i => Fd::Pair(k - 1, e),
                other => other,
            };
        }
    }
    for seg in &mut s.segments {
        if seg.start > i {
            seg.start -= 1;
        }
        if seg.end > i {
            seg.end -= 1;
        }
    }
    s.segments.retain(|seg| seg.end > seg.start);
    Some(s)
}

/// The smallest sequence found for which `fails` holds, trying at most
/// `attempts` candidates (`fails` runs the twins: it is slow).
pub fn minimize(
    seq: &Sequence,
    attempts: usize,
    fails: &mut dyn FnMut(&Sequence) -> bool,
) -> Sequence {
    let mut best = seq.clone();
    let mut tried = 0;
    loop {
        let mut shrunk = false;
        let mut i = best.ops.len();
        while i > 0 {
            i -= 1;
            if tried >= attempts {
                return best;
            }
            let Some(cand) = without(&best, i) else {
                continue;
            };
            if cand.check().is_err() {
                continue;
            }
            tried += 1;
            if fails(&cand) {
                best = cand;
                shrunk = true;
                i = i.min(best.ops.len());
            }
        }
        if !shrunk {
            return best;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::{self, Op};

    #[test]
    fn removal_keeps_the_sequence_well_formed() {
        for i in 0..200 {
            let s = gen::sequence(11, i);
            for k in 0..s.ops.len() {
                if let Some(c) = without(&s, k) {
                    c.check()
                        .unwrap_or_else(|e| panic!("{e}\nremoving {k} of\n{s}"));
                    assert_eq!(c.ops.len(), s.ops.len() - 1);
                }
            }
        }
    }

    #[test]
    fn shrinks_to_what_matters() {
        // "Fails" while an fstat of an fd some openat made is left: the
        // minimum is that openat and the fstat using it.
        let fails = |s: &Sequence| {
            s.ops.iter().any(|o| match o {
                Op::Fstat { fd: Fd::Res(k) } => matches!(s.ops[*k], Op::Openat { .. }),
                _ => false,
            })
        };
        let mut n = 0;
        let mut found = 0;
        for i in 0..300 {
            let s = gen::sequence(12, i);
            if !fails(&s) {
                continue;
            }
            found += 1;
            let m = minimize(&s, 1000, &mut |c| {
                n += 1;
                fails(c)
            });
            assert!(fails(&m));
            assert_eq!(m.ops.len(), 2, "{m}");
            m.check().unwrap();
        }
        assert!(found > 0 && n > 0);
    }
}
