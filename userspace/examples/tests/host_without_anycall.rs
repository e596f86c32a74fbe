//! Runs on the host, whose kernel has no AnyCall (CI machines and
//! developer machines run stock kernels): every way in says so clearly,
//! and nothing panics. On a host that has AnyCall the same calls work.

use anycall::batch::Batch;
use anycall::chain::ChainBuilder;
use anycall::Program;

fn says_no_anycall(err: std::io::Error) {
    let msg = err.to_string();
    assert!(msg.contains("has no AnyCall (ENOSYS)"), "{msg}");
    assert!(msg.contains("CONFIG_ANYCALL=y"), "{msg}");
}

#[test]
fn loading_on_a_kernel_without_anycall_explains_enosys() {
    let mut b = ChainBuilder::new();
    b.getppid();
    let chain = b.build().unwrap().load();
    let batch = Batch::load(4);
    let prog = Program::from_elf(anycall_examples::objects::READ_FILE, None);
    if anycall::kernel::support().syscall {
        chain.unwrap();
        batch.unwrap();
        prog.unwrap();
        return;
    }
    assert_eq!(
        chain.as_ref().unwrap_err().kind(),
        std::io::ErrorKind::Unsupported
    );
    says_no_anycall(chain.unwrap_err());
    says_no_anycall(batch.unwrap_err());
    says_no_anycall(prog.unwrap_err());
}
