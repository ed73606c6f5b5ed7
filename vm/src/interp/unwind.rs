//! Throwing: finding the handler, unwinding frames, and recording where an error began.

use std::sync::Arc;

use super::Outcome;
use super::frame::{Frame, FrameKind};
use crate::fiber::Fiber;
use crate::native::Exit;
use crate::object::{ErrorObj, ThrowSite};
use crate::value::Value;
use crate::vm::Shared;

/// Stack traces show at most this many frames from each end.
const SHOWN_FRAMES: usize = 10;

/// `  在 名 (文件:行:列)` for one frame.
fn frame_line(f: &Frame) -> Option<String> {
    let proto = &f.info().proto;
    if proto.hidden {
        return None;
    }
    let (line, col) = proto.file.line_col(f.current_span().start);
    Some(format!(
        "  在 {} ({}:{line}:{col})",
        proto.name, proto.file.path
    ))
}

/// The stack of `frames`, innermost first, with the middle left out past 20 frames.
///
/// Only the frames shown are visited (from each end, skipping hidden ones): every throw
/// takes its stack, and collecting all frames first made a recursion that throws and
/// catches at each level quadratic — a million levels took minutes to reach E7006. The
/// count of the frames left out includes any hidden among them.
pub fn stack_lines(frames: &[Frame]) -> Vec<String> {
    let shown = |f: &&Frame| !f.info().proto.hidden;
    // Indexes of the innermost shown frames, innermost first, and of the outermost.
    let top: Vec<usize> = (0..frames.len())
        .rev()
        .filter(|&i| shown(&&frames[i]))
        .take(SHOWN_FRAMES + 1)
        .collect();
    let bottom: Vec<usize> = (0..frames.len())
        .filter(|&i| shown(&&frames[i]))
        .take(SHOWN_FRAMES)
        .collect();
    let (Some(&inner_end), Some(&outer_end)) = (top.get(SHOWN_FRAMES - 1), bottom.last()) else {
        return lines_of(frames.iter().rev().filter(shown));
    };
    if top.len() <= SHOWN_FRAMES || outer_end >= top[SHOWN_FRAMES] {
        // At most twice the shown frames: all of them.
        return lines_of(frames.iter().rev().filter(shown));
    }
    let mut lines = lines_of(top[..SHOWN_FRAMES].iter().map(|&i| &frames[i]));
    lines.push(format!("  … 省略 {} 帧 …", inner_end - outer_end - 1));
    lines.extend(lines_of(bottom.iter().rev().map(|&i| &frames[i])));
    lines
}

fn lines_of<'a>(frames: impl Iterator<Item = &'a Frame>) -> Vec<String> {
    frames.filter_map(frame_line).collect()
}

/// Joins stack lines for printing.
pub fn format_stack(lines: &[String]) -> String {
    lines.join("\n")
}

/// Where the fiber is now: the top visible frame's current instruction, and the stack.
fn current_site(fiber: &Fiber) -> Option<ThrowSite> {
    let top = fiber
        .frames
        .iter()
        .rev()
        .find(|f| !f.info().proto.hidden)
        .or(fiber.frames.last())?;
    Some(ThrowSite {
        file: top.info().proto.file.clone(),
        span: top.current_span(),
        stack: Arc::new(stack_lines(&fiber.frames)),
    })
}

/// Limit errors (E9001–E9003) cannot be caught (QI-LANGUAGE.md §10).
fn is_uncatchable(v: &Value) -> bool {
    v.as_obj::<ErrorObj>()
        .is_some_and(|e| matches!(e.code.as_str(), "E9001" | "E9002" | "E9003"))
}

/// Throws `exit` in `fiber`: on `Ok` a handler took it and the top frame continues there;
/// on `Err` the fiber is unwound completely and this is how it ended.
pub fn throw(_shared: &Shared, fiber: &mut Fiber, exit: Exit) -> Result<(), Outcome> {
    let value = match exit {
        Exit::Throw(v) => v,
        Exit::Exit(code) => {
            unwind_all(fiber);
            return Err(Outcome::Exit(code));
        }
        // The interpreter turns these into outcomes before throwing; reaching here is a
        // bug in the VM, reported as an ordinary error rather than a crash.
        Exit::Block(_) | Exit::Resume { .. } => crate::native::error_value(
            qi_bytecode::diagnostic::Code::E7000,
            "：内部错误：挂起请求没有被处理",
        ),
    };
    // An error keeps the site of its first throw; a rethrow does not move it.
    let mut site = None;
    match value.as_obj::<ErrorObj>() {
        Some(e) => {
            let mut thrown = e.thrown.lock();
            if thrown.is_none() {
                *thrown = current_site(fiber);
            }
        }
        None => site = current_site(fiber),
    }
    if !is_uncatchable(&value) {
        while let Some(h) = fiber.handlers.pop() {
            if h.frame as usize >= fiber.frames.len() {
                continue;
            }
            while fiber.frames.len() > h.frame as usize + 1 {
                pop_frame(fiber);
            }
            if let Some(top) = fiber.frames.last_mut() {
                top.pc = h.pc;
                top.set_reg(h.reg, value);
            }
            return Ok(());
        }
    }
    unwind_all(fiber);
    Err(Outcome::Threw { value, site })
}

fn pop_frame(fiber: &mut Fiber) {
    if let Some(f) = fiber.frames.pop() {
        f.clear_registers();
        if f.kind == FrameKind::ModuleInit
            && let Some(m) = f.info().module_arc()
        {
            // A module whose top level failed counts as run: importing it again gives
            // what it had defined.
            m.state.store(
                crate::object::module::MODULE_DONE,
                std::sync::atomic::Ordering::Release,
            );
        }
    }
}

fn unwind_all(fiber: &mut Fiber) {
    while !fiber.frames.is_empty() {
        pop_frame(fiber);
    }
    fiber.handlers.clear();
}

/// A parameter failed its annotation at function entry: the error belongs to the call,
/// pointing at the argument (QI-LANGUAGE.md §11). Pops the callee's frame.
pub fn param_error(fiber: &mut Fiber, exit: Exit, index: usize) -> Exit {
    let Exit::Throw(value) = &exit else {
        return exit;
    };
    let n = fiber.frames.len();
    if n < 2 || fiber.frames[n - 1].kind == FrameKind::Entry {
        return exit;
    }
    let caller = &fiber.frames[n - 2];
    let proto = &caller.info().proto;
    let call_pc = caller.pc.saturating_sub(1);
    let span = proto
        .arg_span(call_pc, index)
        .unwrap_or_else(|| caller.current_span());
    if let Some(e) = value.as_obj::<ErrorObj>() {
        *e.thrown.lock() = Some(ThrowSite {
            file: proto.file.clone(),
            span,
            stack: Arc::new(stack_lines(&fiber.frames[..n - 1])),
        });
    }
    pop_frame(fiber);
    exit
}
