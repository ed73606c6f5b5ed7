//! What the end of a program, a deadlock or a snapshot prints about tasks.

use std::sync::Arc;

use qi_bytecode::diagnostic::{Code, Diagnostic};

use super::Scheduler;
use super::task::{Ending, Status, Task};
use crate::object::ErrorObj;

/// The state in a printed form (QI-LANGUAGE.md §3, §10): a task waiting for something
/// is still 运行中 to the program.
pub fn printed_status(task: &Task) -> &'static str {
    match task.status() {
        Status::Runnable | Status::Blocked => "运行中",
        Status::Done => "已完成",
        Status::Failed => "已失败",
        Status::Cancelled => "已取消",
    }
}

/// 运行中 / 等待中 / 已完成 / 已失败 / 已取消, for snapshots and reports.
pub fn status_name(task: &Task) -> &'static str {
    match task.status() {
        Status::Runnable => "运行中",
        Status::Blocked => "等待中",
        Status::Done => "已完成",
        Status::Failed => "已失败",
        Status::Cancelled => "已取消",
    }
}

/// A task's Qi stack, innermost frame first, then where it was made. Only for a task that
/// is not running (its execution lock is free).
pub fn task_stack(task: &Task) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(exec) = task.exec().try_lock() {
        for r in exec.chain.iter().rev() {
            lines.extend(r.fiber.stack_lines());
        }
        if let Some(root) = &exec.root {
            lines.extend(root.stack_lines());
        }
    } else {
        lines.push("  （正在运行）".to_string());
    }
    lines.extend(task.created_line());
    lines
}

/// `任务 #3（等待中）` followed by its stack.
fn task_block(task: &Task) -> Vec<String> {
    let mut lines = vec![format!("任务 #{}（{}）", task.id, status_name(task))];
    lines.extend(task_stack(task));
    lines
}

/// Every live task with its state and stack (`qi run --任务快照`, SIGQUIT).
pub fn snapshot(sched: &Scheduler) -> String {
    let mut out = format!(
        "—— 任务快照 ——\n（可运行 {}，计时器 {}，阻塞池作业 {}，等待连接的任务 {}）\n",
        sched.active_count(),
        sched.reactor.live.load(std::sync::atomic::Ordering::SeqCst),
        sched
            .reactor
            .pool
            .pending
            .load(std::sync::atomic::Ordering::SeqCst),
        sched
            .reactor
            .io_waiting
            .load(std::sync::atomic::Ordering::SeqCst),
    );
    let w = sched.worker_summary();
    out.push_str(&format!(
        "（工作线程 {}：休眠 {}，未启动 {}；独行模式{}，已进入 {} 次）\n",
        w.workers,
        w.parked,
        w.unstarted,
        if w.solo { "中" } else { "外" },
        w.solo_entries
    ));
    let mut listed = 0;
    for t in sched.live_tasks() {
        if t.is_finished() {
            continue;
        }
        listed += 1;
        for line in task_block(&t) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    // Tasks are recorded when a turn of theirs first ends unfinished; the others are
    // still in a queue or in their first turn (`Scheduler::count_spawned`).
    let unlisted = sched.unfinished_tasks().saturating_sub(listed);
    if unlisted > 0 {
        out.push_str(&format!(
            "（另有 {unlisted} 个任务还在第一轮运行或排队中）\n"
        ));
    }
    out
}

/// E6006: main is blocked and nothing can wake anything. Points at main's operation.
pub fn deadlock(sched: &Scheduler) -> Diagnostic {
    let mut d = Diagnostic::bare(Code::E6006);
    if let Some(main) = sched.main.get()
        && let Some(exec) = main.exec().try_lock()
    {
        let fiber = exec.chain.last().map(|r| &*r.fiber).or(exec.root.as_ref());
        if let Some((file, span)) = fiber.and_then(|f| f.current_site()) {
            d.location = Some((file, span));
        }
    }
    for t in sched.live_tasks() {
        if !t.is_finished() {
            d.trailer.extend(task_block(&t));
        }
    }
    d
}

/// W6002: the program ended with tasks still waiting on channels or locks.
pub fn still_waiting(sched: &Scheduler) -> Option<Diagnostic> {
    let waiting: Vec<Arc<Task>> = sched
        .live_tasks()
        .into_iter()
        .filter(|t| t.status() == Status::Blocked)
        .collect();
    if waiting.is_empty() {
        return None;
    }
    let mut d = Diagnostic::bare(Code::W6002).with_detail(format!("：{} 个", waiting.len()));
    for t in waiting {
        d.trailer.extend(task_block(&t));
    }
    Some(d)
}

/// The diagnostic for a task that failed and whose error nobody received.
pub fn failure(task: &Task) -> Option<Diagnostic> {
    let ending = task.state().lock().ending.clone()?;
    let Ending::Error(failure) = ending else {
        return None;
    };
    let mut d = crate::program::uncaught(&failure.value, failure.site);
    // Where the task was made closes its stack (QI-LANGUAGE.md §11).
    let created = task.created_line();
    let already = failure
        .value
        .as_obj::<ErrorObj>()
        .and_then(|e| e.site())
        .is_some_and(|s| s.stack.iter().any(|l| Some(l) == created.as_ref()));
    if !already {
        d.trailer.extend(created);
    }
    Some(d)
}

/// Tasks that failed (not cancelled) and were never awaited: reported at the end.
pub fn unobserved_failures(sched: &Scheduler) -> Vec<Diagnostic> {
    let failed = sched.failed.lock().clone();
    failed
        .into_iter()
        .filter(|t| t.status() == Status::Failed && !t.is_observed() && !t.flags().detached)
        .filter(|t| !sched.main.get().is_some_and(|m| Arc::ptr_eq(m, t)))
        .filter_map(|t| failure(&t))
        .collect()
}
