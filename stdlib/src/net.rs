//! TCP on the reactor (QI-LANGUAGE.md §8, §9): 监听, 接受, 连接到, and the methods of a
//! connection. Every call blocks only the calling task.

use std::io::ErrorKind;
use std::sync::Arc;

use qi_bytecode::diagnostic::Code;
use qi_vm::native::{Arity, Capability, Exit, NativeCtx, NativeResult, error, error_value, string};
use qi_vm::object::{Role, SocketKind, SocketObj, SocketState};
use qi_vm::sched::block::BlockOp;
use qi_vm::sched::wait::Wake;
use qi_vm::value::{Tag, Value};
use qi_vm::vm::VmBuilder;

use crate::args;
use crate::fs::io_error;

/// How many bytes `读取()` gives at most when not told.
const DEFAULT_READ: i64 = 4096;

pub fn install(b: &mut VmBuilder) {
    b.function("监听", Arity::Exact(1), listen)
        .function("连接到", Arity::Exact(1), connect);
    let s = Tag::Socket;
    b.method(s, "接受", Arity::Exact(0), accept)
        .method(s, "地址", Arity::Exact(0), local_address)
        .method(s, "对端地址", Arity::Exact(0), peer_address)
        .method(s, "读取", Arity::Between(0, 1), read)
        .method(s, "读取行", Arity::Exact(0), read_line)
        .method(s, "写入", Arity::Exact(1), write)
        .method(s, "关闭", Arity::Exact(0), close);
}

/// An address error: E8005 with the reason.
fn address_error(addr: &str, e: &std::io::Error) -> Value {
    match e.kind() {
        ErrorKind::ConnectionRefused | ErrorKind::PermissionDenied => io_error(addr, e),
        _ => error_value(
            Code::E8005,
            &format!("：{addr}：{}", qi_vm::object::io_reason(e.kind())),
        ),
    }
}

/// The socket behind a value, registered with the reactor (a connection made on the
/// blocking pool is registered at its first use).
pub fn socket<'a>(ctx: &NativeCtx<'_>, v: &'a Value) -> Result<&'a SocketObj, Exit> {
    let Some(sock) = v.as_obj::<SocketObj>() else {
        return Err(error(Code::E3001, "：需要连接或监听器"));
    };
    if sock.token.get().is_none()
        && let Some(fd) = sock.fd()
        && let Some(arc) = v.to_arc::<SocketObj>()
    {
        let token = ctx
            .cx
            .sched
            .reactor
            .register(fd, Arc::downgrade(&arc))
            .map_err(|e| Exit::Throw(io_error(&sock.peer, &e)))?;
        let _ = sock.token.set(token);
    }
    Ok(sock)
}

/// The listen backlog. std and mio use 128, which a burst of clients connecting at once
/// overflows: the kernel drops their SYNs and they retry a second later. Go uses the
/// system maximum; so do we (the kernel caps it at `net.core.somaxconn`).
const BACKLOG: i32 = 4096;

fn bind(addr: std::net::SocketAddr) -> std::io::Result<mio::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(mio::net::TcpListener::from_std(socket.into()))
}

fn listen(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    ctx.require(Capability::Network)?;
    let addr = args::str(args, 0, "地址")?;
    let resolved = std::net::ToSocketAddrs::to_socket_addrs(addr)
        .map_err(|e| Exit::Throw(address_error(addr, &e)))?
        .next()
        .ok_or_else(|| {
            Exit::Throw(error_value(
                Code::E8005,
                &format!("：{addr}：找不到这个地址"),
            ))
        })?;
    let listener = bind(resolved).map_err(|e| Exit::Throw(address_error(addr, &e)))?;
    let local = listener
        .local_addr()
        .map_or_else(|_| addr.to_string(), |a| a.to_string());
    let v = Value::new(SocketObj::new(
        SocketKind::listener(listener),
        Role::Listener,
        local,
        String::new(),
    ));
    socket(ctx, &v)?;
    Ok(v)
}

/// `监听器.接受()`: the next connection; 空 once the listener is closed.
fn accept(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let sock = socket(ctx, &args[0])?;
    let SocketKind::Listener(listener) = &sock.kind else {
        return Err(no_method("监听器", "接受"));
    };
    let epoch = {
        let st = sock.state.lock();
        if st.closed {
            return Ok(Value::NIL);
        }
        st.read_epoch
    };
    loop {
        // The lock is held only for the non-blocking call; `None`: closed meanwhile.
        let Some(accepted) = listener.lock().as_ref().map(|l| l.accept()) else {
            return Ok(Value::NIL);
        };
        match accepted {
            Ok((stream, peer)) => {
                let local = stream
                    .local_addr()
                    .map_or_else(|_| sock.local.clone(), |a| a.to_string());
                let v = Value::new(SocketObj::new(
                    SocketKind::Stream(stream),
                    Role::Connection,
                    local,
                    peer.to_string(),
                ));
                socket(ctx, &v)?;
                return Ok(v);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                return Err(ctx.block(BlockOp::SocketRead {
                    socket: args[0].clone(),
                    epoch,
                    timeout: None,
                }));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A connection reset before it was accepted: take the next one.
            Err(e) if e.kind() == ErrorKind::ConnectionAborted => {}
            Err(e) => return Err(Exit::Throw(io_error(&sock.local, &e))),
        }
    }
}

/// E3008 for a method only the other kind of socket has (`owner`: 监听器 or 连接).
fn no_method(owner: &str, method: &str) -> Exit {
    error(Code::E3008, format!("：只有{owner}能「{method}」"))
}

/// The socket behind a connection value: reading, writing and 对端地址 on a listener are
/// E3008 at once (a listener has no data and no peer; waiting for some would hang).
fn connection<'a>(ctx: &NativeCtx<'_>, v: &'a Value, method: &str) -> Result<&'a SocketObj, Exit> {
    if v.as_obj::<SocketObj>().is_some_and(SocketObj::is_listener) {
        return Err(no_method("连接", method));
    }
    socket(ctx, v)
}

/// `连接到(地址)`: resolving and connecting run on the blocking pool.
fn connect(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    ctx.require(Capability::Network)?;
    let addr = args::str(args, 0, "地址")?.to_string();
    Err(
        ctx.block(BlockOp::Io(Box::new(move || match open_stream(&addr) {
            Ok(v) => Wake::Value(v),
            Err(e) => Wake::Throw(e),
        }))),
    )
}

fn open_stream(addr: &str) -> Result<Value, Value> {
    use std::net::ToSocketAddrs;
    let addrs: Vec<std::net::SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| address_error(addr, &e))?
        .collect();
    let mut last = None;
    for a in addrs {
        match std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(10)) {
            Ok(stream) => {
                stream
                    .set_nonblocking(true)
                    .map_err(|e| io_error(addr, &e))?;
                let _ = stream.set_nodelay(true);
                let local = stream
                    .local_addr()
                    .map_or_else(|_| String::new(), |a| a.to_string());
                let peer = stream
                    .peer_addr()
                    .map_or_else(|_| addr.to_string(), |a| a.to_string());
                return Ok(Value::new(SocketObj::new(
                    SocketKind::Stream(mio::net::TcpStream::from_std(stream)),
                    Role::Connection,
                    local,
                    peer,
                )));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => address_error(addr, &e),
        None => error_value(Code::E8005, &format!("：{addr}：找不到这个地址")),
    })
}

fn local_address(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let sock = args[0].as_obj::<SocketObj>();
    Ok(string(sock.map_or_else(String::new, |s| s.local.clone())))
}

fn peer_address(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(string(connection(ctx, &args[0], "对端地址")?.peer.as_str()))
}

fn broken(sock: &SocketObj, e: &std::io::Error) -> Exit {
    Exit::Throw(error_value(
        Code::E8006,
        &format!("：{}：{}", sock.peer, qi_vm::object::io_reason(e.kind())),
    ))
}

/// The longest prefix of `bytes` that is whole UTF-8 characters, at most `max` bytes (but
/// at least one character if there is one).
fn utf8_prefix(bytes: &[u8], max: usize) -> usize {
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    };
    if valid <= max {
        return valid;
    }
    let text = std::str::from_utf8(&bytes[..valid]).unwrap_or("");
    let mut cut = max;
    while cut > 0 && !text.is_char_boundary(cut) {
        cut -= 1;
    }
    if cut == 0 {
        text.chars().next().map_or(0, char::len_utf8)
    } else {
        cut
    }
}

/// `连接.读取(最多字节)`: the text available now (waiting for some if there is none), 空
/// at the end. A character split across reads is completed by the next read.
fn read(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let max = if args.len() > 1 {
        args::int(args, 1, "最多字节")?
    } else {
        DEFAULT_READ
    };
    if max <= 0 {
        return Err(error(Code::E7008, format!("：最多字节应当是正数（{max}）")));
    }
    let sock = connection(ctx, &args[0], "读取")?;
    let mut st = sock.state.lock();
    loop {
        if st.closed {
            return Ok(Value::NIL);
        }
        let epoch = st.read_epoch;
        let n = utf8_prefix(&st.inbuf, max as usize);
        if n > 0 {
            let text = String::from_utf8_lossy(&st.inbuf[..n]).into_owned();
            st.inbuf.drain(..n);
            return Ok(string(text));
        }
        if let Some(done) = rest_or_refill(ctx, sock, &mut st, &args[0], epoch) {
            return done;
        }
    }
}

/// `连接.读取行()`: the next line without its ending, 空 at the end.
fn read_line(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let sock = connection(ctx, &args[0], "读取行")?;
    let mut st = sock.state.lock();
    let mut searched = 0;
    loop {
        if st.closed {
            return Ok(Value::NIL);
        }
        let epoch = st.read_epoch;
        if let Some(i) = st.inbuf[searched..].iter().position(|&b| b == b'\n') {
            let end = searched + i;
            let mut line: Vec<u8> = st.inbuf.drain(..=end).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(string(String::from_utf8_lossy(&line).into_owned()));
        }
        searched = st.inbuf.len();
        if let Some(done) = rest_or_refill(ctx, sock, &mut st, &args[0], epoch) {
            return done;
        }
    }
}

/// What `读取` and `读取行` do when the buffer holds nothing they can give yet: at the end
/// of the stream, whatever is left (half a character, a last line without its ending), or
/// 空; otherwise read more from the socket (`None`: look at the buffer again) or wait for
/// it to become readable.
fn rest_or_refill(
    ctx: &mut NativeCtx<'_>,
    sock: &SocketObj,
    st: &mut SocketState,
    socket: &Value,
    epoch: u64,
) -> Option<NativeResult> {
    if st.eof {
        if st.inbuf.is_empty() {
            return Some(Ok(Value::NIL));
        }
        let text = String::from_utf8_lossy(&st.inbuf).into_owned();
        st.inbuf.clear();
        return Some(Ok(string(text)));
    }
    match sock.fill(st) {
        Ok(true) => None,
        Ok(false) => Some(Err(ctx.block(BlockOp::SocketRead {
            socket: socket.clone(),
            epoch,
            timeout: None,
        }))),
        Err(e) => Some(Err(broken(sock, &e))),
    }
}

/// `连接.写入(文本)`: returns once the kernel has all of it (a slow reader makes this task
/// wait, not the process).
fn write(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    connection(ctx, &args[0], "写入")?;
    let text = args::str(args, 1, "文本")?.as_bytes().to_vec();
    write_bytes(ctx, &args[0], &text)
}

/// Queues `bytes` on the connection and waits until they are flushed.
pub fn write_bytes(ctx: &mut NativeCtx<'_>, conn: &Value, bytes: &[u8]) -> NativeResult {
    let sock = socket(ctx, conn)?;
    let mut st = sock.state.lock();
    if st.closed {
        return Err(Exit::Throw(error_value(
            Code::E8006,
            &format!("：{}：连接已关闭", sock.peer),
        )));
    }
    if let Some(kind) = st.broken {
        return Err(broken(sock, &kind.into()));
    }
    st.outbuf.extend(bytes);
    if let Err(e) = sock.flush(&mut st) {
        st.broken = Some(e.kind());
        st.outbuf.clear();
        return Err(broken(sock, &e));
    }
    if st.outbuf.is_empty() {
        return Ok(Value::NIL);
    }
    drop(st);
    Err(ctx.block(BlockOp::SocketDrain(conn.clone())))
}

/// `关闭()`: waiters wake to find it closed; the reactor forgets it, and a listener's
/// port is released at once (connecting to it is refused; it can be listened on again).
fn close(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let Some(sock) = args[0].as_obj::<SocketObj>() else {
        return Ok(Value::NIL);
    };
    for (token, wake) in sock.close() {
        ctx.cx.sched.wake(token, wake, Some(ctx.cx.local));
    }
    let reactor = &ctx.cx.sched.reactor;
    sock.release(|fd| {
        if let Some(token) = sock.token.get() {
            reactor.deregister(fd, *token);
        }
    });
    Ok(Value::NIL)
}
