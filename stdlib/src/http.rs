//! A small HTTP/1.1 layer (QI-LANGUAGE.md §8, §9, §11): the pieces `HTTP服务` (written in Qi,
//! prelude.qi) is built from, the 请求 and 响应 values, and the client `HTTP获取`.
//!
//! Parsing uses `httparse`. A malformed request, headers over 64 KiB, a body over
//! 16 MiB or a path whose percent-encoding is not valid UTF-8 get `400` and the
//! connection is closed; a client that sends nothing for 30 seconds is dropped. The
//! server goes on serving others either way. HTTP/1.1 connections stay open unless the
//! request says `Connection: close`; HTTP/1.0 ones close unless it says `keep-alive`.

use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};

use qi_bytecode::diagnostic::Code;
use qi_vm::native::{
    Arity, Capability, NativeCtx, NativeResult, error, error_value, error_with_hint, string,
};
use qi_vm::object::{
    DictKey, DictMap, DictObj, ErrorObj, Instance, ListObj, Role, SocketObj, StrObj, StructType,
};
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
        .function("__HTTP报告错误", Arity::Exact(1), report_error)
        .function("__成为服务", Arity::Exact(1), become_server);
}

fn struct_type(name: &str, fields: &[&str]) -> Arc<StructType> {
    let t = Arc::new(StructType {
        name: name.into(),
        fields: fields.iter().map(|f| (Symbol::intern(f), None)).collect(),
        methods: Default::default(),
    });
    t.methods.set(Default::default());
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
    // Checked here so that a handler's mistake is reported where it made the 响应.
    if let Some((detail, hint)) = header_pairs(&headers).and_then(|h| bad_header(&h)) {
        return Err(error_with_hint(Code::E7008, detail, hint));
    }
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

/// The byte an escape `%XX` starting at `i` stands for, if it is one.
fn escaped_byte(bytes: &[u8], i: usize) -> Option<u8> {
    let hex = bytes.get(i + 1..i + 3)?;
    let digit = |b: u8| char::from(b).to_digit(16);
    Some((digit(hex[0])? * 16 + digit(hex[1])?) as u8)
}

/// Decodes a path: every `%` must start an escape, and the result must be UTF-8 (else
/// `None`: the request gets 400). `+` is itself here; only a query means a space by it.
fn decode_path(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(escaped_byte(bytes, i)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Decodes a query component leniently, as browsers and most servers do: a bare `%` in
/// a hand-typed query stays as it is, and bytes that are not UTF-8 become U+FFFD.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if let Some(b) = escaped_byte(bytes, i) => {
                out.push(b);
                i += 2;
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
    Request {
        value: Value,
        consumed: usize,
        /// The reply's `connection` header: "close", "keep-alive" (HTTP/1.0 must be told),
        /// or "" (HTTP/1.1 keeps the connection without saying so).
        connection: &'static str,
    },
    Incomplete,
    Bad,
}

/// Whether a `Connection` header value lists `token` (it is a comma-separated list).
fn lists_token(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn parse_request(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let header_len = match req.parse(buf) {
        // The limit holds however the bytes arrived: all at once, they parse complete.
        Ok(httparse::Status::Complete(n)) if n > MAX_HEADER_BYTES => return Parsed::Bad,
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
    let mut close = false;
    let mut keep_alive = false;
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
        if name == "connection" {
            close |= lists_token(&value, "close");
            keep_alive |= lists_token(&value, "keep-alive");
        }
        pairs.push((name, value));
    }
    if buf.len() < header_len + content_length {
        return Parsed::Incomplete;
    }
    let target = req.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // Handlers route on the decoded path, as they read the decoded query.
    let Some(path) = decode_path(path) else {
        return Parsed::Bad;
    };
    let connection = match req.version {
        _ if close => "close",
        Some(0) if keep_alive => "keep-alive",
        Some(0) => "close",
        _ => "",
    };
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
        connection,
    }
}

fn bad_request() -> &'static [u8] {
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Request"
}

/// `__HTTP读取请求(连)`: `[请求, 连接]` for the next request (连接 is the reply's
/// `connection` header, "close" meaning the connection ends after the reply), 空 when
/// the client is gone; a malformed or oversized request is answered with 400 and gives 空.
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
                Parsed::Request {
                    value,
                    consumed,
                    connection,
                } => {
                    st.inbuf.drain(..consumed);
                    return Ok(Value::new(ListObj::new(vec![value, string(connection)])));
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

/// A header dict's entries as printed text (`None` if it is not a dict).
fn header_pairs(headers: &Value) -> Option<Vec<(String, String)>> {
    let d = headers.as_obj::<DictObj>()?;
    let pairs = d
        .inner
        .lock()
        .map
        .iter()
        .map(|(k, v)| (display(k.value()), display(v)))
        .collect();
    Some(pairs)
}

/// A token character (RFC 9110 §5.6.2): what a header name is made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Why a header cannot be sent as it is (the message's detail and a hint), if it cannot.
/// A name must be a token; a value may hold any text but control characters (UTF-8
/// bytes are RFC 9110's obs-text; a line break would end the header early and let the
/// value forge others).
fn bad_header(pairs: &[(String, String)]) -> Option<(String, &'static str)> {
    pairs.iter().find_map(|(name, value)| {
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            Some((
                format!("：响应头的名字「{name}」不是合法的 HTTP 头名字"),
                "头的名字只能用 ASCII 字母、数字和 !#$%&'*+-.^_`|~；汉字等文本可以放在头的值里或正文里",
            ))
        } else if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            Some((
                format!("：响应头「{name}」的值含有换行或其他控制字符"),
                "一个头的值只能占一行；多个值用逗号隔开，或者放进正文",
            ))
        } else {
            None
        }
    })
}

/// The bytes of a reply: status line, headers, body. `Err` (with the error to report)
/// when the 响应 cannot be sent as HTTP — a handler changed its fields after making it.
fn reply_bytes(reply: &Value, connection: &str) -> Result<Vec<u8>, Value> {
    let (status, body, headers) = match reply.as_obj::<Instance>() {
        Some(r) if Arc::ptr_eq(&r.ty, response_type()) => (
            field(r, "状态").and_then(|v| v.as_int()),
            field(r, "正文").map_or_else(String::new, |v| display(&v)),
            field(r, "头")
                .and_then(|h| header_pairs(&h))
                .unwrap_or_default(),
        ),
        _ => (Some(200), display(reply), Vec::new()),
    };
    // 响应(…) checked both; these catch a 响应 changed after it was made.
    let unsendable = |detail: &str| {
        let mut e = ErrorObj::new(
            Code::E7008.as_str(),
            format!("{}{detail}", Code::E7008.title()),
        );
        e.hint = Some("响应 做好之后它的字段被改成了这样；客户得到的是 500".into());
        Value::new(e)
    };
    let status = match status {
        Some(s) if (100..=999).contains(&s) => s,
        _ => return Err(unsendable("：响应的状态应当是 100 到 999 之间的整数")),
    };
    if let Some((detail, _)) = bad_header(&headers) {
        return Err(unsendable(&detail));
    }
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    let mut has_type = false;
    for (name, value) in &headers {
        let lower = name.to_ascii_lowercase();
        // The framing is ours to say: a handler's own would contradict the body we send.
        if matches!(
            lower.as_str(),
            "content-length" | "connection" | "transfer-encoding"
        ) {
            continue;
        }
        has_type |= lower == "content-type";
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !has_type {
        head.push_str("content-type: text/plain; charset=utf-8\r\n");
    }
    head.push_str(&format!("content-length: {}\r\n", body.len()));
    if !connection.is_empty() {
        head.push_str(&format!("connection: {connection}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    Ok(bytes)
}

/// `__HTTP写回复(连, 回复, 连接)`: a 字符串 is 200 text/plain; a 响应 says its own status,
/// body and headers. 连接 is what `__HTTP读取请求` said. A 响应 that cannot be sent is
/// reported like a handler's error, and the client gets 500.
fn write_reply(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let connection = args::str(args, 2, "连接")?.to_string();
    let bytes = match reply_bytes(&args[1], &connection) {
        Ok(bytes) => bytes,
        Err(e) => {
            report(ctx, &e);
            let fallback = instance(
                response_type(),
                vec![Value::int(500), dict([]), string("服务器内部错误")],
            );
            reply_bytes(&fallback, &connection).unwrap_or_default()
        }
    };
    write_bytes(ctx, &args[0], &bytes)
}

fn report(ctx: &mut NativeCtx<'_>, e: &Value) {
    let d = qi_vm::program::uncaught(e, None);
    ctx.flush_out();
    // A closed stderr loses the report; the server goes on.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr().lock(),
        qi_bytecode::diagnostic::render(&d, false).as_bytes(),
    );
}

/// `__HTTP报告错误(错误)`: a handler's error goes to stderr; the server goes on.
fn report_error(ctx: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    report(ctx, &args[0]);
    Ok(Value::NIL)
}

fn become_server(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    if let Some(s) = args[0].as_obj::<SocketObj>() {
        s.set_role(Role::Server);
    }
    Ok(args[0].clone())
}

/// `HTTP获取(网址)`: a GET over plain HTTP, on the blocking pool. Any status gives a
/// 响应; a reply that ends early is E8006 (the connection broke), one that is not HTTP
/// is E8007.
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

/// The request target as sent: bytes a target may not hold (non-ASCII, spaces,
/// controls) are percent-encoded as UTF-8; escapes already there are kept.
fn encode_target(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    for b in target.bytes() {
        if b.is_ascii_graphic() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How the body of a reply ends.
enum Framing {
    Length(usize),
    Chunked,
    /// Neither: the body is everything until the server closes.
    UntilClose,
    /// 1xx, 204 and 304 replies have none.
    NoBody,
}

/// The parts of a reply's head that reading the rest needs.
struct Head {
    len: usize,
    status: u16,
    pairs: Vec<(String, String)>,
    framing: Framing,
}

/// Parses the head once it is all there: `Ok(None)` while more is to come.
fn parse_head(raw: &[u8]) -> Result<Option<Head>, &'static str> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if raw.len() > MAX_HEADER_BYTES => {
            return Err("响应头太大");
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err("响应格式不对"),
    };
    let status = resp.code.unwrap_or(0);
    let mut pairs = Vec::with_capacity(resp.headers.len());
    let mut framing = Framing::UntilClose;
    for h in resp.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        let value = String::from_utf8_lossy(h.value).into_owned();
        if name == "transfer-encoding" && value.to_ascii_lowercase().contains("chunked") {
            framing = Framing::Chunked;
        } else if name == "content-length" && !matches!(framing, Framing::Chunked) {
            let n = value.trim().parse().map_err(|_| "Content-Length 不对")?;
            framing = Framing::Length(n);
        }
        pairs.push((name, value));
    }
    if status < 200 || status == 204 || status == 304 {
        framing = Framing::NoBody;
    }
    Ok(Some(Head {
        len,
        status,
        pairs,
        framing,
    }))
}

fn fetch(url: &str) -> Result<Value, Value> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(protocol_error(url, "只支持 http:// 网址"));
    };
    // A fragment stays with the client.
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (authority, target) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    if authority.is_empty() {
        return Err(error_value(Code::E8005, &format!("：{url}：缺少主机")));
    }
    let addr = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let io = |e: std::io::Error| {
        // A read timeout shows as "would block": say what it means.
        let e = if e.kind() == std::io::ErrorKind::WouldBlock {
            std::io::ErrorKind::TimedOut.into()
        } else {
            e
        };
        crate::fs::io_error(&addr, &e)
    };
    let mut stream = std::net::TcpStream::connect(&addr).map_err(io)?;
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(30)));
    let request = format!(
        "GET {} HTTP/1.1\r\nhost: {authority}\r\nuser-agent: qi\r\naccept: */*\r\nconnection: close\r\n\r\n",
        encode_target(&target)
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    let cut_off = || {
        error_value(
            Code::E8006,
            &format!(
                "：{url}：{}",
                qi_vm::object::io_reason(std::io::ErrorKind::UnexpectedEof)
            ),
        )
    };
    let mut raw = Vec::new();
    let mut head: Option<Head> = None;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        let at_end = n == 0;
        raw.extend_from_slice(&buf[..n]);
        if head.is_none() {
            head = parse_head(&raw).map_err(|why| protocol_error(url, why))?;
        }
        // Stop as soon as the reply is whole: a server may keep the connection open.
        if let Some(h) = &head {
            let rest = &raw[h.len..];
            let body = match h.framing {
                Framing::NoBody => Some(Vec::new()),
                Framing::Length(n) if rest.len() >= n => Some(rest[..n].to_vec()),
                Framing::Length(_) => None,
                Framing::UntilClose if at_end => Some(rest.to_vec()),
                Framing::UntilClose => None,
                // Decoding is tried only when the reply may have ended (at the close, or
                // after what could be the last chunk), so a long body is not decoded
                // again after every read.
                Framing::Chunked if at_end || rest.ends_with(b"\r\n\r\n") => {
                    dechunk(rest).map_err(|()| protocol_error(url, "分块编码格式不对"))?
                }
                Framing::Chunked => None,
            };
            if let Some(body) = body {
                return Ok(instance(
                    response_type(),
                    vec![
                        Value::int(i64::from(h.status)),
                        dict(h.pairs.clone()),
                        Value::new(StrObj::new(String::from_utf8_lossy(&body).into_owned())),
                    ],
                ));
            }
        }
        if at_end {
            return Err(cut_off());
        }
    }
}

/// Decodes a chunked body: `Ok(None)` while its last chunk has not arrived, `Err` if
/// it is not chunked encoding. Trailers after the last chunk are ignored.
fn dechunk(mut body: &[u8]) -> Result<Option<Vec<u8>>, ()> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_text = std::str::from_utf8(&body[..line_end]).map_err(|_| ())?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        if size_text.is_empty() || !size_text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(());
        }
        let size = usize::from_str_radix(size_text, 16).map_err(|_| ())?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(Some(out));
        }
        if body.len() < size.saturating_add(2) {
            return Ok(None);
        }
        if &body[size..size + 2] != b"\r\n" {
            return Err(());
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}
