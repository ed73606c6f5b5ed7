//! A small HTTP/1.1 layer (QI-LANGUAGE.md §8, §9, §11): the pieces `HTTP服务` (written in Qi,
//! prelude.qi) is built from, the 请求 and 响应 values, and the client `HTTP获取`.
//!
//! Parsing uses `httparse`. A malformed request, headers over 64 KiB or a body over
//! 16 MiB get `400` and the connection is closed; a client that sends nothing for 30
//! seconds is dropped. The server goes on serving others either way.

use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};

use qi_bytecode::diagnostic::Code;
use qi_vm::native::{Arity, Capability, NativeCtx, NativeResult, error, error_value, string};
use qi_vm::object::{DictKey, DictMap, DictObj, Instance, Role, SocketObj, StrObj, StructType};
use qi_vm::print::display;
use qi_vm::sched::block::BlockOp;
use qi_vm::sched::wait::Wake;
use qi_vm::symbol::Symbol;
use qi_vm::value::Value;
use qi_vm::vm::VmBuilder;

use crate::args;
use crate::net::{socket, write_bytes};

/// Headers larger than this get 400.
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Bodies larger than this get 400.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// A connection that sends nothing for this long is closed (slow or idle clients).
const READ_TIMEOUT_MS: u64 = 30_000;
/// httparse needs a fixed array of header slots.
const MAX_HEADERS: usize = 100;

pub fn install(b: &mut VmBuilder) {
    b.function("响应", Arity::Between(2, 3), response)
        .function("HTTP获取", Arity::Exact(1), http_get)
        .function("__HTTP读取请求", Arity::Exact(1), read_request)
        .function("__HTTP写回复", Arity::Exact(3), write_reply)
        .function("__HTTP保持连接", Arity::Exact(1), keep_alive)
        .function("__HTTP报告错误", Arity::Exact(1), report_error)
        .function("__成为服务", Arity::Exact(1), become_server);
}

fn struct_type(name: &str, fields: &[&str]) -> Arc<StructType> {
    let t = Arc::new(StructType {
        name: name.into(),
        fields: fields.iter().map(|f| (Symbol::intern(f), None)).collect(),
        methods: OnceLock::new(),
    });
    let _ = t.methods.set(Default::default());
    t
}

/// The type of 请求 values.
fn request_type() -> &'static Arc<StructType> {
    static T: OnceLock<Arc<StructType>> = OnceLock::new();
    T.get_or_init(|| struct_type("请求", &["方法", "路径", "查询", "头", "正文"]))
}

/// The type of 响应 values.
fn response_type() -> &'static Arc<StructType> {
    static T: OnceLock<Arc<StructType>> = OnceLock::new();
    T.get_or_init(|| struct_type("响应", &["状态", "头", "正文"]))
}

fn instance(ty: &Arc<StructType>, fields: Vec<Value>) -> Value {
    Value::new(Instance {
        ty: ty.clone(),
        fields: parking_lot::Mutex::new(fields),
    })
}

fn dict(pairs: impl IntoIterator<Item = (String, String)>) -> Value {
    let mut map = DictMap::default();
    for (k, v) in pairs {
        if let Some(key) = DictKey::new(string(k)) {
            map.insert(key, string(v));
        }
    }
    Value::new(DictObj::new(map))
}

/// `响应(状态, 正文)` / `响应(状态, 正文, 头)`.
fn response(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let status = args::int(args, 0, "状态")?;
    if !(100..=999).contains(&status) {
        return Err(error(Code::E7008, format!("：HTTP 状态码 {status} 无效")));
    }
    let headers = match args.get(2) {
        Some(h) if h.tag() == qi_vm::value::Tag::Dict => h.clone(),
        Some(h) if !h.is_nil() => {
            return Err(error(Code::E3001, "：响应的头应当是字典"));
        }
        _ => dict([]),
    };
    Ok(instance(
        response_type(),
        vec![Value::int(status), headers, args[1].clone()],
    ))
}

fn reason(status: i64) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// Decodes `%XX` and `+` in a query component.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_dict(query: &str) -> Value {
    dict(query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k), percent_decode(v))
    }))
}

/// What parsing the bytes received so far gave.
enum Parsed {
    Request { value: Value, consumed: usize },
    Incomplete,
    Bad,
}

fn parse_request(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let header_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return if buf.len() > MAX_HEADER_BYTES {
                Parsed::Bad
            } else {
                Parsed::Incomplete
            };
        }
        Err(_) => return Parsed::Bad,
    };
    let mut content_length = 0usize;
    let mut pairs = Vec::with_capacity(req.headers.len());
    for h in req.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        let value = String::from_utf8_lossy(h.value).into_owned();
        if name == "content-length" {
            match value.trim().parse::<usize>() {
                Ok(n) if n <= MAX_BODY_BYTES => content_length = n,
                _ => return Parsed::Bad,
            }
        }
        // Chunked request bodies are not supported: refuse rather than misread.
        if name == "transfer-encoding" && !value.eq_ignore_ascii_case("identity") {
            return Parsed::Bad;
        }
        pairs.push((name, value));
    }
    if buf.len() < header_len + content_length {
        return Parsed::Incomplete;
    }
    let target = req.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let body = String::from_utf8_lossy(&buf[header_len..header_len + content_length]).into_owned();
    let value = instance(
        request_type(),
        vec![
            string(req.method.unwrap_or("GET")),
            string(path),
            query_dict(query),
            dict(pairs),
            string(body),
        ],
    );
    Parsed::Request {
        value,
        consumed: header_len + content_length,
    }
}

fn bad_request() -> &'static [u8] {
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Request"
}

/// `__HTTP读取请求(连)`: the next request, 空 when the client is gone; a malformed or
/// oversized one is answered with 400 and gives 空.
fn read_request(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let sock = socket(ctx, &args[0])?;
    let mut st = sock.state.lock();
    loop {
        if st.closed {
            return Ok(Value::NIL);
        }
        let epoch = st.read_epoch;
        if !st.inbuf.is_empty() {
            match parse_request(&st.inbuf) {
                Parsed::Request { value, consumed } => {
                    st.inbuf.drain(..consumed);
                    return Ok(value);
                }
                Parsed::Bad => {
                    st.inbuf.clear();
                    st.outbuf.extend(bad_request());
                    let _ = sock.flush(&mut st);
                    return Ok(Value::NIL);
                }
                Parsed::Incomplete => {}
            }
        }
        if st.eof {
            // A request cut off halfway gets 400; a clean close ends quietly.
            if !st.inbuf.is_empty() {
                st.inbuf.clear();
                st.outbuf.extend(bad_request());
                let _ = sock.flush(&mut st);
            }
            return Ok(Value::NIL);
        }
        match sock.fill(&mut st) {
            Ok(true) => {}
            Ok(false) => {
                return Err(ctx.block(BlockOp::SocketRead {
                    socket: args[0].clone(),
                    epoch,
                    timeout: Some(READ_TIMEOUT_MS),
                }));
            }
            // A reset connection is just gone.
            Err(_) => return Ok(Value::NIL),
        }
    }
}

fn field(inst: &Instance, name: &str) -> Option<Value> {
    let i = inst.ty.field_index(Symbol::intern(name))?;
    inst.fields.lock().get(i).cloned()
}

/// `__HTTP写回复(连, 回复, 请求)`: a 字符串 is 200 text/plain; a 响应 says its own status,
/// body and headers.
fn write_reply(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let (status, body, headers) = match args[1].as_obj::<Instance>() {
        Some(r) if Arc::ptr_eq(&r.ty, response_type()) => (
            field(r, "状态").and_then(|v| v.as_int()).unwrap_or(200),
            field(r, "正文").map_or_else(String::new, |v| display(&v)),
            field(r, "头"),
        ),
        _ => (200, display(&args[1]), None),
    };
    let close = !wants_keep_alive(&args[2]);
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    let mut has_type = false;
    if let Some(h) = headers.as_ref().and_then(|h| h.as_obj::<DictObj>()) {
        for (k, v) in h.inner.lock().map.iter() {
            let name = display(k.value());
            let lower = name.to_ascii_lowercase();
            if lower == "content-length" || lower == "connection" {
                continue;
            }
            has_type |= lower == "content-type";
            head.push_str(&format!(
                "{name}: {}\r\n",
                display(v).replace(['\r', '\n'], " ")
            ));
        }
    }
    if !has_type {
        head.push_str("content-type: text/plain; charset=utf-8\r\n");
    }
    head.push_str(&format!("content-length: {}\r\n", body.len()));
    if close {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    write_bytes(ctx, &args[0], &bytes)
}

fn wants_keep_alive(request: &Value) -> bool {
    let Some(req) = request.as_obj::<Instance>() else {
        return false;
    };
    let connection = field(req, "头")
        .and_then(|h| {
            let d = h.as_obj::<DictObj>()?;
            let key = DictKey::new(string("connection"))?;
            d.inner.lock().map.get(&key).cloned()
        })
        .map(|v| display(&v).to_ascii_lowercase());
    connection.as_deref() != Some("close")
}

/// `__HTTP保持连接(请求)`: whether the connection serves another request.
fn keep_alive(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    Ok(Value::bool(wants_keep_alive(&args[0])))
}

/// `__HTTP报告错误(错误)`: a handler's error goes to stderr; the server goes on.
fn report_error(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let d = qi_vm::program::uncaught(&args[0], None);
    ctx.flush_out();
    eprint!("{}", qi_bytecode::diagnostic::render(&d, false));
    Ok(Value::NIL)
}

fn become_server(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    if let Some(s) = args[0].as_obj::<SocketObj>() {
        s.set_role(Role::Server);
    }
    Ok(args[0].clone())
}

/// `HTTP获取(网址)`: a GET over plain HTTP, on the blocking pool. Any status gives a
/// 响应; E8007 is for protocol failures.
fn http_get(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    ctx.require(Capability::Network)?;
    let url = args::str(args, 0, "网址")?.to_string();
    Err(ctx.block(BlockOp::Io(Box::new(move || match fetch(&url) {
        Ok(v) => Wake::Value(v),
        Err(e) => Wake::Throw(e),
    }))))
}

fn protocol_error(url: &str, why: &str) -> Value {
    error_value(Code::E8007, &format!("：{url}：{why}"))
}

fn fetch(url: &str) -> Result<Value, Value> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(protocol_error(url, "只支持 http:// 网址"));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(error_value(Code::E8005, &format!("：{url}：缺少主机")));
    }
    let addr = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let mut stream =
        std::net::TcpStream::connect(&addr).map_err(|e| crate::fs::io_error(&addr, &e))?;
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(30)));
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: {authority}\r\nuser-agent: qi\r\naccept: */*\r\nconnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| crate::fs::io_error(&addr, &e))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| crate::fs::io_error(&addr, &e))?;
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let header_len = match resp.parse(&raw) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return Err(protocol_error(url, "响应格式不对")),
    };
    let mut pairs = Vec::new();
    let mut chunked = false;
    let mut length = None;
    for h in resp.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        let value = String::from_utf8_lossy(h.value).into_owned();
        if name == "transfer-encoding" && value.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        }
        if name == "content-length" {
            length = value.trim().parse::<usize>().ok();
        }
        pairs.push((name, value));
    }
    let body = &raw[header_len..];
    let body = if chunked {
        dechunk(body).ok_or_else(|| protocol_error(url, "分块编码格式不对"))?
    } else {
        let n = length.unwrap_or(body.len()).min(body.len());
        body[..n].to_vec()
    };
    Ok(instance(
        response_type(),
        vec![
            Value::int(resp.code.unwrap_or(0) as i64),
            dict(pairs),
            Value::new(StrObj::new(String::from_utf8_lossy(&body).into_owned())),
        ],
    ))
}

/// Decodes a chunked body.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}
