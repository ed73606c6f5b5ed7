//! `启动 { … }` tasks that are queued before they are made.
//!
//! With more than one worker, a `启动` of a block queues only the block's closure and the
//! task's number ([`Fresh`]). The worker that takes the entry makes the task, in memory it
//! recycled itself (`recycle`), and runs it.
//!
//! The reason is the cache. A task made by the spawner had its lines written on the
//! spawner's core and then on the core that stole and ran it; the runner then kept the
//! finished task for later spawns, and the pools sent it back to the spawner in batches.
//! Every line of every task crossed between the cores twice per life. (On a million
//! `启动`s with two workers, the profile's extra samples over one worker were half in
//! making, recycling and entering tasks.) Now the queue entry is all that crosses: two
//! words, where a task is several lines.
//!
//! Nothing else sees the difference. The number is taken at the `启动`, so tasks are
//! numbered in the order they were made (QI-LANGUAGE.md §7); the task counts as made and
//! active from the `启动` on (`Scheduler::count_spawned`, `schedule_fresh`); and it is
//! recorded for reports only when a turn of it ends unfinished, as every task is. Its
//! creation site is the block's own span, which the compiler gives the block's function
//! and the `启动` alike (`Fresh::of` checks that it is so).
//!
//! One worker makes its tasks at once: nothing crosses cores there, and queueing the
//! entry first only adds work (as deferring the entry did, `TaskExec::entry_pending`).

use std::sync::Arc;

use super::Scheduler;
use super::queue::Runnable;
use super::task::{SiteAt, Task};
use super::worker::Local;
use crate::fiber::Fiber;
use crate::object::Closure;
use crate::value::Value;

/// A `启动 { … }` task not made yet: the block's closure, which the task will keep, and
/// the task's number.
pub struct Fresh {
    closure: Arc<Closure>,
    id: u64,
}

impl Fresh {
    /// The entry for a `启动` at `site` of `callee` with no arguments, when `callee` is the
    /// closure of the block written there: a function of no parameters whose span is the
    /// `启动`'s, in the same file. Anything else (`启动 f()`, say) is made at once, by the
    /// caller, with `callee` given back.
    pub fn of(callee: Value, site: SiteAt<'_>, id: impl FnOnce() -> u64) -> Result<Fresh, Value> {
        let is_block = callee.as_obj::<Closure>().is_some_and(|c| {
            let proto = &c.info.proto;
            c.info.arity == 0
                && !c.info.uses_self
                && !proto.is_async
                && proto.span == site.span
                && Arc::ptr_eq(&proto.file, site.file)
        });
        if !is_block {
            return Err(callee);
        }
        let closure = callee.into_arc::<Closure>()?;
        Ok(Fresh { closure, id: id() })
    }

    /// Makes the task, on the worker that will run it (`local`): in a task this worker
    /// recycled when it has one, else new. Its first turn enters the block
    /// (`TaskExec::entry_pending`).
    pub fn make(self, sched: &Scheduler, local: &Local) -> Runnable {
        let Fresh { closure, id } = self;
        let proto = &closure.info.proto;
        let site = SiteAt {
            file: &proto.file,
            span: proto.span,
        };
        if let Some(mut task) = super::recycle::take(sched, local)
            && let Some(t) = super::solo::task_mut(&mut task)
            && t.exec_mut().root.is_some()
        {
            t.renew(id, true, Some(site));
            let exec = t.exec_mut();
            if let Some(fiber) = exec.root.as_mut() {
                // Emptied when it was kept (`Task::clear_for_reuse`).
                fiber.keep.set(closure);
                exec.entry_pending = true;
            }
            return Runnable::from(task);
        }
        let site = site.to_site();
        let mut fiber = Fiber::new(closure.info.num_regs as usize);
        fiber.keep.set(closure);
        Runnable::from(Arc::new(Task::entering(
            id,
            Some(fiber),
            true,
            true,
            Some(site),
        )))
    }

    /// The task's number.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The closure and the number, for a queue entry (`queue::Queued`).
    pub(super) fn into_parts(self) -> (Arc<Closure>, u64) {
        (self.closure, self.id)
    }

    pub(super) fn from_parts(closure: Arc<Closure>, id: u64) -> Fresh {
        Fresh { closure, id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qi_bytecode::source::Span;

    /// The closure of the first nested function of a program's top level, with its span.
    fn block_of(source: &str) -> (Value, Arc<qi_bytecode::source::SourceFile>, Span) {
        let module = crate::loader::test_module(source);
        let main = module.main.as_obj::<Closure>().expect("top level");
        let info = main.info.protos[0].clone();
        let (file, span) = (info.proto.file.clone(), info.proto.span);
        let c = Closure {
            info,
            upvalues: Default::default(),
        };
        (Value::new(c), file, span)
    }

    /// A block spawned where it is written is queued; a function spawned elsewhere, or
    /// from another file, is not, and comes back untouched.
    #[test]
    fn only_a_block_spawned_where_it_is_written_is_queued_unmade() {
        let (block, file, span) = block_of("启动 { 变量 x = 1; };\n");
        let at = |span| SiteAt { file: &file, span };
        let mut numbered = 0;
        let fresh = Fresh::of(block.clone(), at(span), || {
            numbered += 1;
            7
        });
        assert!(matches!(&fresh, Ok(f) if f.id() == 7));
        assert_eq!(numbered, 1);
        let elsewhere = Span::new(span.start + 1, span.end);
        let back = Fresh::of(block.clone(), at(elsewhere), || {
            unreachable!("not numbered")
        });
        assert!(matches!(back, Err(v) if v.same(&block)));
        let other = qi_bytecode::source::SourceFile::new("乙.qi", "启动 { 变量 x = 1; };\n");
        let site = SiteAt { file: &other, span };
        assert!(Fresh::of(block.clone(), site, || 0).is_err());
        assert!(Fresh::of(Value::int(1), at(span), || 0).is_err());
    }

    /// Made, the task has the number, the site and the closure to enter, and is detached.
    #[test]
    fn a_made_task_has_its_number_site_and_block() {
        let (block, file, span) = block_of("启动 { 变量 x = 1; };\n");
        let sched = Scheduler::new(2, 1000);
        let local = Local::new(0, false);
        let Ok(fresh) = Fresh::of(block, SiteAt { file: &file, span }, || 12) else {
            panic!("a block");
        };
        let runnable = fresh.make(&sched, &local);
        let task = runnable.task();
        assert_eq!(task.id, 12);
        assert!(task.flags().detached);
        assert!(matches!(&task.created_at, Some((f, s)) if Arc::ptr_eq(f, &file) && *s == span));
        let exec = task.exec();
        let exec = exec.lock();
        assert!(exec.entry_pending && !exec.started);
        assert_eq!(exec.root.as_ref().map(|f| f.keep.iter().count()), Some(1));
    }
}
