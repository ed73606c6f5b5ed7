//! Pins the sizes that make a parked task small (issue: ≤ 256 bytes of RSS per task
//! parked on a channel). A change that grows one of these must say why here.

use qi_vm::fiber::Fiber;
use qi_vm::interp::frame::Frame;
use qi_vm::object::RecvWaiter;
use qi_vm::sched::task::Task;
use qi_vm::sched::wait::WaitToken;
use qi_vm::value::Value;

/// Current sizes, as ceilings. A parked task once cost about 540 bytes in all (the
/// task, its closure, one register segment, one frame, its wait token and its waiter
/// entry); these keep any of the parts from growing unnoticed. Task grew from 296 to 304
/// with `finished_seq` (全部等待 reports the error that happened first in time), and to
/// 312 with `exec.pending` (a host call that ran inline and then had to wait); it shrank
/// to 232 when the vectors that are usually empty (a fiber's handlers, kept closures and
/// extra register segments, a task's coroutine chain and awaiters) became `ThinVec`s,
/// one word each. With its `Arc` counts that is 248 bytes: mimalloc's 256-byte class,
/// where 312 took a 384-byte block. It grew to 240 with `exec.spare` (a task that blocks
/// often reuses one wait token instead of allocating one per wait): 256 with the counts,
/// still that class. The next word moves it to the 320-byte one. Fiber grew from 64 to 80
/// bytes when the closure its entry frame runs moved inline (`fiber::Keep`) instead of
/// into a one-element vector, a 32-byte allocation per task; Task stayed at 240 because
/// the `入口` function task #1 runs moved out of every task into the scheduler. A wait
/// token (one per parked task) went from 56 to 48 bytes, 64 with its `Arc` counts, when a
/// `Wake` shrank to 24 (a `选择` case number in a `u32`, the rare await error boxed);
/// measured, a million parked tasks went from 507 to 503 bytes each. Task went to 208
/// bytes (224 with its counts, the class below 256) when its parked and spare wait tokens
/// shared one field (a task never has both), `observed` moved from behind the state lock
/// to the flags beside it, and a fiber kept its entry closure typed, in one word (Fiber
/// 72). That shrink showed in the RSS only once the `qi` allocator stopped asking
/// mimalloc for every block with an explicit alignment (`src/alloc.rs`), which put a
/// block that fills a class exactly into the next one: 503 to 457 bytes per parked task.
/// Task went to 176 (192 with its counts, the next class down) when a failure's value,
/// throw site and sequence number moved into a box (`Ending` is two words; failures are
/// rare) instead of a 40-byte ending and an 8-byte number in every task. Fiber went to 64
/// (Task 168) when it kept one entry closure in one word (`fiber::Keep`: an entry frame
/// starts only on a fiber without frames), and Task to 160 when the outcome a host call's
/// fiber stopped with before its task existed (rare) moved out of every task into the
/// scheduler (`Scheduler::hold_outcome`). It went to 144 (160 with its counts, the class
/// below 192) when the flags of its two spin locks moved into one word with its own
/// byte-sized fields (`spin::SpinPair`), instead of each padded to a word of its own:
/// 329 -> 297 bytes per parked task. The wait token stopped being an allocation of its own
/// (48 bytes per parked task) when a wait became a generation in the task's wait word
/// (`Task::wait`, where `exec.token` was: Task stayed at 144) and a waker started putting
/// the wake-up straight into the parked task's registers instead of carrying it in the
/// token: 297 -> 249 bytes per parked task.
#[test]
fn headers_do_not_grow() {
    assert_eq!(std::mem::size_of::<Value>(), 16);
    assert!(
        std::mem::size_of::<Frame>() <= 48,
        "Frame {}",
        std::mem::size_of::<Frame>()
    );
    assert!(
        std::mem::size_of::<Fiber>() <= 64,
        "Fiber {}",
        std::mem::size_of::<Fiber>()
    );
    assert!(
        std::mem::size_of::<Task>() <= 144,
        "Task {}",
        std::mem::size_of::<Task>()
    );
    // One per task parked on a channel, in the channel's queue: a `选择` case index kept
    // in four bytes makes it 16 instead of 32.
    assert!(
        std::mem::size_of::<RecvWaiter>() <= 16,
        "RecvWaiter {}",
        std::mem::size_of::<RecvWaiter>()
    );
    // A closure holds up to three captured cells inline: 40 bytes, 56 with its counts, and
    // no allocation for the cells. (A `启动` block's closure was one per task until
    // `TaskClosure` let the tasks a loop starts share one: 377 -> 329 bytes per parked task.)
    // It held two, 48 bytes with its counts, until closures and cells moved to mimalloc's
    // 64-byte class, whose blocks are whole cache lines: at 48 they sat beside task frame
    // vectors (48 bytes), written by the task running on one core, and the lines every
    // task reads left the other core (`object::cell::APART`). Exact: at 48 or less with
    // the counts they would go back.
    assert_eq!(std::mem::size_of::<qi_vm::object::Closure>(), 40);
    assert_eq!(std::mem::size_of::<qi_vm::object::CellObj>(), 40);
    // A waiter's handle on a wait: the task and the generation, no allocation. (A
    // `选择` case rides in the generation's word, which keeps `RecvWaiter` at 16.)
    assert_eq!(std::mem::size_of::<WaitToken>(), 16);
    // A run-queue entry is the task's handle alone.
    assert_eq!(std::mem::size_of::<qi_vm::sched::queue::Runnable>(), 8);
}
