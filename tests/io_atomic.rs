//! `写入文件` is atomic even when the process dies halfway (QI-LANGUAGE.md §8: "A write is
//! atomic: readers see the old or the new file, never half of it").
//!
//! A Qi program overwrites a file that holds known old content with a large (about 50 MB)
//! new content, again and again, alternating between two versions of different lengths.
//! The test kills it with SIGKILL (`Child::kill`) after a range of delays — before the
//! first write starts, during the building of the text, in the middle of writes — and
//! after every kill the file must be exactly the old content or exactly one of the two
//! complete new versions. Which of those it is depends on timing; that it is one of them
//! must not, so the assertion holds however fast or slow the machine is.
//!
//! A killed process may leave its temporary file behind (the implementation writes to
//! `.<name>.写入中.<pid>.<nanoseconds>` beside the target and renames it over the target);
//! that is allowed and not checked here. The test removes them between rounds.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::run_with_timeout;

/// Characters in the first new version ("甲" is 3 bytes in UTF-8: about 51 MB).
const CHARS_A: usize = 17_000_000;
/// Characters in the second new version: shorter, so a torn mix of the two shows.
const CHARS_B: usize = 16_000_000;

/// Overwrites the file named by the first argument, alternating between the two versions,
/// as many times as the second argument says (0: until killed).
const PROGRAM: &str = r#"// 反复用两个大版本覆盖同一个文件
变量 目标 = 参数()[0];
变量 次数 = 整数(参数()[1]);
变量 版本 = [
    "开始\n" + "甲".重复(整数(参数()[2])) + "\n甲结束\n",
    "开始\n" + "乙".重复(整数(参数()[3])) + "\n乙结束\n",
];
可变 i = 0;
当 次数 == 0 || i < 次数 {
    写入文件(目标, 版本[i % 2]);
    i += 1;
}
"#;

fn version_a() -> Vec<u8> {
    format!("开始\n{}\n甲结束\n", "甲".repeat(CHARS_A)).into_bytes()
}

fn version_b() -> Vec<u8> {
    format!("开始\n{}\n乙结束\n", "乙".repeat(CHARS_B)).into_bytes()
}

fn old_content() -> Vec<u8> {
    "旧内容：这一行会重复很多次。\n".repeat(20_000).into_bytes()
}

/// A scratch directory of this test run.
fn scratch() -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("io_atomic-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("建临时目录");
    std::fs::write(dir.join("写大文件.qi"), PROGRAM).expect("写程序");
    dir
}

fn qi(dir: &Path, times: usize) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qi"));
    cmd.arg("run")
        .arg("写大文件.qi")
        .arg("目标.txt")
        .arg(times.to_string())
        .arg(CHARS_A.to_string())
        .arg(CHARS_B.to_string())
        .current_dir(dir)
        .env("NO_COLOR", "1");
    cmd
}

/// Removes everything in `dir` but the program and the target; gives how many files
/// (temporary files of killed writes) there were.
fn remove_leftovers(dir: &Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("列出临时目录") {
        let path = entry.expect("目录项").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name != "写大文件.qi" && name != "目标.txt" {
            n += 1;
            let _ = std::fs::remove_file(&path);
        }
    }
    n
}

/// Which of the allowed contents `got` is, or `None` if it is none of them.
fn classify(got: &[u8], old: &[u8], a: &[u8], b: &[u8]) -> Option<&'static str> {
    if got == old {
        Some("旧")
    } else if got == a {
        Some("甲")
    } else if got == b {
        Some("乙")
    } else {
        None
    }
}

#[test]
fn killed_write_leaves_old_or_new_file() {
    let dir = scratch();
    let target = dir.join("目标.txt");
    let (old, a, b) = (old_content(), version_a(), version_b());

    // Delays from "killed at once" to "killed after many complete writes".
    let delays_ms = [
        0u64, 2, 5, 10, 20, 40, 70, 100, 150, 250, 400, 600, 900, 1500,
    ];
    let mut seen = Vec::new();
    let mut leftovers = 0;
    for &delay in &delays_ms {
        std::fs::write(&target, &old).expect("写旧内容");
        let mut child = qi(&dir, 0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("运行 qi");
        std::thread::sleep(Duration::from_millis(delay));
        // The program never ends by itself: it must still be running, so this is a kill.
        let _ = child.kill();
        let _ = child.wait();
        let got = std::fs::read(&target).expect("目标文件在被杀之后必须还在");
        match classify(&got, &old, &a, &b) {
            Some(state) => seen.push((delay, state)),
            None => {
                let _ = std::fs::remove_dir_all(&dir);
                panic!(
                    "在 {delay} 毫秒时杀掉进程后，目标文件既不是旧内容，也不是完整的新内容\
                     （{} 字节；旧 {}，甲 {}，乙 {}）",
                    got.len(),
                    old.len(),
                    a.len(),
                    b.len()
                );
            }
        }
        leftovers += remove_leftovers(&dir);
    }
    eprintln!("各次杀掉时目标文件的状态（毫秒, 状态）：{seen:?}；留下的临时文件 {leftovers} 个");

    // Without a kill the program finishes its writes: one write gives the first version,
    // two give the second. This does not depend on timing, and it makes sure the rounds
    // above tested a writer that works.
    for (times, want, name) in [(1, &a, "甲"), (2, &b, "乙")] {
        std::fs::write(&target, &old).expect("写旧内容");
        let out = run_with_timeout(&mut qi(&dir, times)).expect("运行 qi");
        assert!(
            out.status.success(),
            "qi 失败：{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = std::fs::read(&target).expect("读目标文件");
        assert!(
            got == *want,
            "写 {times} 次之后应当是完整的版本「{name}」（{} 字节），实际 {} 字节",
            want.len(),
            got.len()
        );
        assert_eq!(remove_leftovers(&dir), 0, "正常结束的写入不应留下临时文件");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// An empty directory of this test run named after `name`.
fn empty_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("建临时目录");
    dir
}

/// Runs `写入文件(参数()[0], 参数()[1])` in `dir`.
fn write_with_qi(dir: &Path, target: &str, text: &str) {
    let program = dir.join("写一次.qi");
    std::fs::write(&program, "写入文件(参数()[0], 参数()[1]);\n").expect("写程序");
    let out = run_with_timeout(
        Command::new(env!("CARGO_BIN_EXE_qi"))
            .arg("run")
            .arg(&program)
            .arg(target)
            .arg(text)
            .current_dir(dir)
            .env("NO_COLOR", "1"),
    )
    .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The atomic write replaces the file a symbolic link names (the link stays a link), and
/// the new file keeps the old one's permissions.
#[test]
fn a_write_goes_through_links_and_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = empty_dir("io_link");
    let real = dir.join("真的.txt");
    std::fs::write(&real, "旧\n").expect("写旧文件");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("权限");
    std::os::unix::fs::symlink("真的.txt", dir.join("链接.txt")).expect("建链接");
    write_with_qi(&dir, "链接.txt", "新\n");
    let link = std::fs::symlink_metadata(dir.join("链接.txt")).expect("链接还在");
    assert!(link.file_type().is_symlink(), "still a link");
    assert_eq!(std::fs::read_to_string(&real).expect("读"), "新\n");
    let mode = std::fs::metadata(&real)
        .expect("元数据")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A named pipe is written in place: renaming over it would have replaced it with a
/// regular file (as `写入文件("/dev/null", …)` run as root replaced the device).
#[test]
fn a_write_to_a_pipe_leaves_the_pipe() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let dir = empty_dir("io_pipe");
    let pipe = dir.join("管道");
    let made = Command::new("mkfifo").arg(&pipe).status().expect("mkfifo");
    assert!(made.success());
    let reader = {
        let pipe = pipe.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            std::fs::File::open(pipe)
                .and_then(|mut f| f.read_to_string(&mut text))
                .expect("读管道");
            text
        })
    };
    write_with_qi(&dir, "管道", "经过管道\n");
    assert_eq!(reader.join().expect("reader"), "经过管道\n");
    let meta = std::fs::symlink_metadata(&pipe).expect("管道还在");
    assert!(meta.file_type().is_fifo(), "still a pipe");
    let _ = std::fs::remove_dir_all(&dir);
}
