//! Files (QI-LANGUAGE.md §8, §9, §11): every call runs on the blocking pool, so only the
//! calling task waits. Failures are E8xxx errors naming the path and the reason.
//!
//! `写入文件` is atomic: the text goes to a temporary file beside the target, is synced,
//! and is renamed over it, so a reader — or a crash halfway — sees the old file or the new
//! one, never half of either. The new file keeps the old one's permissions; a symbolic
//! link is written through (the file it names is replaced, the link stays); and a device,
//! pipe or socket is written in place, as renaming over it would replace it with a
//! regular file (`写入文件("/dev/null", …)` run as root did).

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use qi_bytecode::diagnostic::Code;
use qi_vm::native::{Arity, Capability, Exit, NativeCtx, NativeResult, error_value, string};
use qi_vm::object::{ListObj, io_reason};
use qi_vm::sched::block::BlockOp;
use qi_vm::sched::wait::Wake;
use qi_vm::value::Value;
use qi_vm::vm::VmBuilder;

use crate::args;

pub fn install(b: &mut VmBuilder) {
    b.function("读取文件", Arity::Exact(1), read_file)
        .function("写入文件", Arity::Exact(2), write_file)
        .function("追加文件", Arity::Exact(2), append_file)
        .function("文件存在", Arity::Exact(1), exists)
        .function("删除文件", Arity::Exact(1), remove_file)
        .function("列出目录", Arity::Exact(1), list_dir)
        .function("创建目录", Arity::Exact(1), create_dir)
        .function("删除目录", Arity::Exact(1), remove_dir);
}

/// The E8xxx error for an I/O failure on `path` (QI-LANGUAGE.md §11's mapping).
pub fn io_error(path: &str, e: &std::io::Error) -> Value {
    use std::io::ErrorKind::*;
    let code = match e.kind() {
        NotFound => Code::E8001,
        PermissionDenied => Code::E8002,
        AlreadyExists => Code::E8003,
        ConnectionRefused => Code::E8004,
        AddrInUse | AddrNotAvailable | InvalidInput => Code::E8005,
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected => {
            Code::E8006
        }
        _ => Code::E8099,
    };
    error_value(code, &format!("：{path}：{}", io_reason(e.kind())))
}

/// Runs `work` on the blocking pool for the file at `path`.
fn on_pool(
    ctx: &mut NativeCtx<'_>,
    path: String,
    work: impl FnOnce(&Path) -> std::io::Result<Value> + Send + 'static,
) -> NativeResult {
    ctx.require(Capability::Files)?;
    Err(ctx.block(BlockOp::Io(Box::new(move || {
        match work(Path::new(&path)) {
            Ok(v) => Wake::Value(v),
            // An empty path would vanish from the message: show it quoted.
            Err(e) if path.is_empty() => Wake::Throw(io_error("\"\"", &e)),
            Err(e) => Wake::Throw(io_error(&path, &e)),
        }
    }))))
}

fn path_arg(args: &[Value]) -> Result<String, Exit> {
    Ok(args::str(args, 0, "路径")?.to_string())
}

fn read_file(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let path = path_arg(args)?;
    ctx.require(Capability::Files)?;
    if let Some(text) = cached::read(Path::new(&path)) {
        // A step per 4 KiB copied: a task reading cached files in a loop still yields.
        ctx.charge(crate::args::steps_for_bytes(text.len()));
        return Ok(string(text));
    }
    on_pool(ctx, path, |p| std::fs::read_to_string(p).map(string))
}

/// Reading a file the page cache already holds, on the worker itself.
///
/// Handing a read to the blocking pool costs three thread hand-offs (worker → pool →
/// reactor → worker), about 40 µs, while copying a cached file costs microseconds per
/// megabyte. `preadv2` with `RWF_NOWAIT` copies only what is cached and says "would
/// block" otherwise, so a cached file is read here and anything else still goes to the
/// pool, where waiting on the disk blocks no worker. Concurrent reads of cached files then
/// spread over the workers instead of queueing behind the pool.
#[cfg(target_os = "linux")]
mod cached {
    use std::io::IoSliceMut;
    use std::path::Path;

    use rustix::io::{ReadWriteFlags, preadv2};

    /// Larger files go to the pool even when cached: copying them would hold a worker
    /// for milliseconds.
    const MAX: u64 = 8 << 20;

    /// The whole file as text, if every byte of it is in the page cache; `None` to go the
    /// slow way (not cached, too big, not UTF-8, any error — the pool reports those).
    pub fn read(path: &Path) -> Option<String> {
        let file = std::fs::File::open(path).ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() > MAX {
            return None;
        }
        let mut buf = vec![0u8; meta.len() as usize + 1];
        let mut done = 0;
        loop {
            let mut slice = [IoSliceMut::new(&mut buf[done..])];
            match preadv2(&file, &mut slice, done as u64, ReadWriteFlags::NOWAIT) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(_) => return None,
            }
            if done == buf.len() {
                // Grew since it was measured: let the pool read it whole.
                return None;
            }
        }
        buf.truncate(done);
        String::from_utf8(buf).ok()
    }
}

#[cfg(not(target_os = "linux"))]
mod cached {
    pub fn read(_: &std::path::Path) -> Option<String> {
        None
    }
}

fn write_file(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let path = path_arg(args)?;
    let text = args::str(args, 1, "内容")?.to_string();
    on_pool(ctx, path, move |p| {
        write_atomically(p, text.as_bytes())?;
        Ok(Value::NIL)
    })
}

/// Numbers the temporary files of one process's writes: the clock alone can give two
/// writes started at once the same name, and one would then rename the other's half
/// written text into place.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it over
/// `path` (see the module docs for links, permissions and devices).
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // Through symbolic links, to the file they name (a missing file stays as named).
    let real = std::fs::canonicalize(path);
    let path = real.as_deref().unwrap_or(path);
    let keep = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Some(meta.permissions()),
        Ok(meta) if !meta.is_dir() => {
            let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
            return f.write_all(bytes);
        }
        _ => None,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(name) = path.file_name() else {
        // "", "/", ".", "d/..": a path without a file name is not a file. Report what it
        // is: a directory (E8099 是一个目录), or not there at all (E8001).
        return Err(match std::fs::metadata(path) {
            Ok(_) => ErrorKind::IsADirectory.into(),
            Err(e) => e,
        });
    };
    let tmp = dir.join(format!(
        ".{}.写入中.{}.{}.{}",
        name.to_string_lossy(),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if let Some(permissions) = keep {
            f.set_permissions(permissions)?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `追加文件` creates a missing file.
fn append_file(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let path = path_arg(args)?;
    let text = args::str(args, 1, "内容")?.to_string();
    on_pool(ctx, path, move |p| {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)?;
        f.write_all(text.as_bytes())?;
        Ok(Value::NIL)
    })
}

/// 真 for files and directories.
fn exists(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let path = path_arg(args)?;
    on_pool(ctx, path, |p| Ok(Value::bool(p.exists())))
}

fn remove_file(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let path = path_arg(args)?;
    on_pool(ctx, path, |p| std::fs::remove_file(p).map(|_| Value::NIL))
}

/// Bare names, sorted by code point.
fn list_dir(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let path = path_arg(args)?;
    on_pool(ctx, path, |p| {
        let mut names: Vec<String> = std::fs::read_dir(p)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        Ok(Value::new(ListObj::new(
            names.into_iter().map(string).collect(),
        )))
    })
}

/// `创建目录(路径)`: creates the directory, making any missing parents first (as
/// `mkdir -p`). The directory itself must be new: an existing one is E8003, so a program
/// can claim a name with it the way `mkdtemp` does. An empty path is E8001.
fn create_dir(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let path = path_arg(args)?;
    on_pool(ctx, path, |p| {
        match std::fs::create_dir(p) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                match p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    // `create_dir_all` accepts parents another task makes meanwhile.
                    Some(parent) => {
                        std::fs::create_dir_all(parent)?;
                        std::fs::create_dir(p)
                    }
                    None => Err(e),
                }
            }
            made => made,
        }
        .map(|_| Value::NIL)
    })
}

/// Removes an empty directory.
fn remove_dir(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let path = path_arg(args)?;
    on_pool(ctx, path, |p| std::fs::remove_dir(p).map(|_| Value::NIL))
}
