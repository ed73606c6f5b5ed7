//! The blocking pool: a few threads for work that has no non-blocking form — file I/O,
//! DNS and connecting, reading the console.
//!
//! A task that needs such work parks; a pool thread runs the job and hands the result to
//! the reactor, which wakes the task. Threads start on demand, up to [`MAX_THREADS`], and
//! wait for work when idle. Pending jobs count as work that can still happen, like timers,
//! so a program waiting on a file read is not taken for deadlocked.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::{Condvar, Mutex};

use super::wait::{WaitToken, Wake};

/// Enough to overlap slow disks and DNS without a thread per request.
pub const MAX_THREADS: usize = 8;

/// The work itself: runs on a pool thread and says what wakes the task.
pub type Work = Box<dyn FnOnce() -> Wake + Send>;

struct Job {
    token: WaitToken,
    work: Work,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
    shutdown: bool,
}

/// A finished job, waiting for the reactor to deliver it.
pub enum Finished {
    /// Wake the parked task with this.
    Wake(WaitToken, Wake),
    /// End this task (a host function's future, which is a task of its own).
    Complete(Arc<super::task::Task>, super::task::Ending),
}

/// Finished jobs, waiting for the reactor to deliver them.
pub type Done = Mutex<Vec<Finished>>;

pub struct Pool {
    queue: Mutex<Queue>,
    cv: Condvar,
    /// Results for the reactor to deliver.
    pub done: Done,
    /// Jobs submitted and not yet delivered.
    pub pending: AtomicUsize,
    /// How many times pending work of any kind was added — a job, a timer, a socket wait —
    /// counted after the work itself (`Pool::added_work`): quiescence reads it before and
    /// after it looks (`Scheduler::quiescent`).
    pub added: AtomicU64,
}

impl Default for Pool {
    fn default() -> Pool {
        Pool {
            queue: Mutex::new(Queue::default()),
            cv: Condvar::new(),
            done: Mutex::new(Vec::new()),
            pending: AtomicUsize::new(0),
            added: AtomicU64::new(0),
        }
    }
}

impl Pool {
    /// Pending work was just added (after its own count went up): see `added`.
    pub fn added_work(&self) {
        self.added.fetch_add(1, Ordering::SeqCst);
    }

    /// Queues `work` for `token`; `notify` wakes the reactor when it is done.
    pub fn submit(
        self: &Arc<Pool>,
        token: WaitToken,
        work: Work,
        notify: Arc<dyn Fn() + Send + Sync>,
    ) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        self.added_work();
        let mut q = self.queue.lock();
        q.jobs.push_back(Job { token, work });
        if q.idle > 0 {
            self.cv.notify_one();
        } else if q.threads < MAX_THREADS {
            q.threads += 1;
            let pool = self.clone();
            let spawned = std::thread::Builder::new()
                .name("qi-阻塞池".into())
                .spawn(move || pool.serve(notify));
            if spawned.is_err() {
                q.threads -= 1;
            }
        }
    }

    fn serve(&self, notify: Arc<dyn Fn() + Send + Sync>) {
        loop {
            let job = {
                let mut q = self.queue.lock();
                loop {
                    if q.shutdown {
                        q.threads -= 1;
                        return;
                    }
                    if let Some(job) = q.jobs.pop_front() {
                        break job;
                    }
                    q.idle += 1;
                    self.cv.wait(&mut q);
                    q.idle -= 1;
                }
            };
            let wake = (job.work)();
            self.done.lock().push(Finished::Wake(job.token, wake));
            notify();
        }
    }

    /// Stops the threads once they finish their current job.
    pub fn shut_down(&self) {
        self.queue.lock().shutdown = true;
        self.cv.notify_all();
    }
}
