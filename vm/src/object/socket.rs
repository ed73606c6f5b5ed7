//! Sockets: TCP listeners and connections on the reactor's `mio::Poll`.
//!
//! Every operation is non-blocking. A read that finds no data parks the task until the
//! reactor reports the socket readable, then the read runs again. Writes go into an
//! outgoing buffer that is flushed at once as far as the kernel takes it; a writer whose
//! data did not all fit waits until the reactor, on a writable event, has flushed the rest
//! — so a slow reader makes the writing task wait, not the process.
//!
//! Edge-triggered readiness can be lost between "would block" and "park": each direction
//! has an epoch the reactor bumps on every event, read before the attempt and compared
//! (under the same lock the reactor takes) when parking.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::sync::OnceLock;

use parking_lot::Mutex;

use crate::sched::wait::{WaitToken, Wake};

pub enum SocketKind {
    /// `None` once closed: 关闭 drops the listener, releasing its descriptor at once, so
    /// the port refuses connections and can be listened on again while the value lives.
    /// The lock is held across each `accept`, so closing never races a descriptor in use.
    Listener(Mutex<Option<mio::net::TcpListener>>),
    /// A connection keeps its descriptor until the value goes: 关闭 shuts it down (the
    /// peer sees the end), so the stream needs no lock of its own to stay valid.
    Stream(mio::net::TcpStream),
}

impl SocketKind {
    pub fn listener(l: mio::net::TcpListener) -> SocketKind {
        SocketKind::Listener(Mutex::new(Some(l)))
    }
}

/// How the socket prints: `<监听器 …>`, `<连接 …>`, `<服务 …>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Listener,
    Connection,
    Server,
}

#[derive(Default)]
pub struct SocketState {
    pub read_epoch: u64,
    pub write_epoch: u64,
    /// Tasks waiting for the socket to become readable (they will retry).
    pub readers: Vec<WaitToken>,
    /// Tasks waiting for the outgoing buffer to drain.
    pub writers: Vec<WaitToken>,
    /// Bytes read and not yet consumed (an incomplete line or UTF-8 character).
    pub inbuf: Vec<u8>,
    pub outbuf: VecDeque<u8>,
    pub closed: bool,
    /// The peer closed its side.
    pub eof: bool,
    /// A write failed; later writes fail the same way.
    pub broken: Option<ErrorKind>,
    /// When the readers waiting now give up (E6004), and the timeout in milliseconds
    /// (for the message). One per socket, re-armed by each read that waits: a server
    /// connection waiting for its next request moves it forward instead of leaving a
    /// timer behind per request.
    pub read_deadline: Option<(std::time::Instant, u64)>,
    /// This socket's deadline timer is in the reactor's heap.
    pub deadline_armed: bool,
}

pub struct SocketObj {
    pub kind: SocketKind,
    /// A listener becomes a server when `HTTP服务` takes it over.
    role: parking_lot::Mutex<Role>,
    /// Set when registered with the reactor.
    pub token: OnceLock<mio::Token>,
    /// `主机:端口` of this end.
    pub local: String,
    /// `主机:端口` of the other end (connections).
    pub peer: String,
    pub state: Mutex<SocketState>,
}

impl std::fmt::Debug for SocketObj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.printed())
    }
}

impl SocketObj {
    pub fn new(kind: SocketKind, role: Role, local: String, peer: String) -> SocketObj {
        SocketObj {
            kind,
            role: parking_lot::Mutex::new(role),
            token: OnceLock::new(),
            local,
            peer,
            state: Mutex::new(SocketState::default()),
        }
    }

    pub fn role(&self) -> Role {
        *self.role.lock()
    }

    pub fn set_role(&self, role: Role) {
        *self.role.lock() = role;
    }

    /// The raw descriptor, for the reactor's registration; `None` for a closed listener.
    pub fn fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        match &self.kind {
            SocketKind::Listener(l) => l.lock().as_ref().map(AsRawFd::as_raw_fd),
            SocketKind::Stream(s) => Some(s.as_raw_fd()),
        }
    }

    pub fn is_listener(&self) -> bool {
        matches!(self.kind, SocketKind::Listener(_))
    }

    /// Forgets a closed socket: `deregister` takes it out of the reactor's poll, then a
    /// listener's descriptor is released. Both happen under the listener's lock, so two
    /// racing 关闭 cannot deregister a descriptor number that was closed and reused.
    pub fn release(&self, deregister: impl FnOnce(std::os::fd::RawFd)) {
        use std::os::fd::AsRawFd;
        match &self.kind {
            SocketKind::Listener(l) => {
                let mut l = l.lock();
                if let Some(listener) = l.take() {
                    deregister(listener.as_raw_fd());
                }
            }
            SocketKind::Stream(s) => deregister(s.as_raw_fd()),
        }
    }

    pub fn printed(&self) -> String {
        match self.role() {
            Role::Listener => format!("<监听器 {}>", self.local),
            Role::Server => format!("<服务 {}>", self.local),
            Role::Connection => format!("<连接 {}>", self.peer),
        }
    }

    pub fn stream(&self) -> Option<&mio::net::TcpStream> {
        match &self.kind {
            SocketKind::Stream(s) => Some(s),
            SocketKind::Listener(_) => None,
        }
    }

    /// Writes as much of the outgoing buffer as the kernel takes now.
    pub fn flush(&self, st: &mut SocketState) -> std::io::Result<()> {
        let Some(mut stream) = self.stream() else {
            return Ok(());
        };
        while !st.outbuf.is_empty() {
            let (front, _) = st.outbuf.as_slices();
            match stream.write(front) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => {
                    st.outbuf.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads what is available into the incoming buffer: `Ok(true)` if anything arrived
    /// (or the peer closed), `Ok(false)` if it would block.
    pub fn fill(&self, st: &mut SocketState) -> std::io::Result<bool> {
        let Some(mut stream) = self.stream() else {
            return Ok(false);
        };
        let mut buf = [0u8; 16 * 1024];
        let mut got = false;
        loop {
            match stream.read(&mut buf) {
                Ok(0) => {
                    st.eof = true;
                    return Ok(true);
                }
                Ok(n) => {
                    st.inbuf.extend_from_slice(&buf[..n]);
                    got = true;
                    if n < buf.len() {
                        return Ok(true);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(got),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The reactor saw readiness: the tasks to wake, and with what.
    pub fn on_ready(&self, readable: bool, writable: bool) -> Vec<(WaitToken, Wake)> {
        let mut st = self.state.lock();
        let mut woken = Vec::new();
        if readable {
            st.read_epoch += 1;
            woken.extend(st.readers.drain(..).map(|t| (t, Wake::Retry)));
        }
        if writable {
            st.write_epoch += 1;
            if !st.writers.is_empty() {
                match self.flush(&mut st) {
                    Ok(()) if st.outbuf.is_empty() => {
                        woken.extend(
                            st.writers
                                .drain(..)
                                .map(|t| (t, Wake::Value(crate::value::Value::NIL))),
                        );
                    }
                    Ok(()) => {}
                    Err(e) => {
                        st.broken = Some(e.kind());
                        st.outbuf.clear();
                        let err = crate::native::error_value(
                            qi_bytecode::diagnostic::Code::E8006,
                            &format!("：{}：{}", self.peer, crate::object::io_reason(e.kind())),
                        );
                        woken.extend(st.writers.drain(..).map(|t| (t, Wake::Throw(err.clone()))));
                    }
                }
            }
        }
        woken
    }

    /// Closes the socket: waiters are woken to find it closed. The caller then
    /// [`release`](SocketObj::release)s it.
    pub fn close(&self) -> Vec<(WaitToken, Wake)> {
        let mut st = self.state.lock();
        if st.closed {
            return Vec::new();
        }
        st.closed = true;
        if let Some(s) = self.stream() {
            let _ = self.flush(&mut st);
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        let mut woken: Vec<(WaitToken, Wake)> =
            st.readers.drain(..).map(|t| (t, Wake::Retry)).collect();
        woken.extend(
            st.writers
                .drain(..)
                .map(|t| (t, Wake::Value(crate::value::Value::NIL))),
        );
        woken
    }
}

/// The Chinese reason for an I/O error kind (messages name the path or address first).
pub fn io_reason(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "不存在",
        ErrorKind::PermissionDenied => "权限不足",
        ErrorKind::AlreadyExists => "已经存在",
        ErrorKind::ConnectionRefused => "连接被拒绝",
        ErrorKind::ConnectionReset => "连接被对方重置",
        ErrorKind::ConnectionAborted => "连接被中止",
        ErrorKind::BrokenPipe => "连接已断开",
        ErrorKind::UnexpectedEof => "意外地读到了结尾",
        ErrorKind::AddrInUse => "地址已被占用",
        ErrorKind::AddrNotAvailable => "地址不可用",
        ErrorKind::InvalidInput => "参数无效",
        ErrorKind::TimedOut => "超时",
        ErrorKind::NotADirectory => "不是目录",
        ErrorKind::IsADirectory => "是一个目录",
        ErrorKind::DirectoryNotEmpty => "目录不是空的",
        ErrorKind::ReadOnlyFilesystem => "文件系统是只读的",
        ErrorKind::StorageFull => "磁盘已满",
        ErrorKind::InvalidData => "内容不是有效的 UTF-8",
        _ => "输入输出错误",
    }
}
