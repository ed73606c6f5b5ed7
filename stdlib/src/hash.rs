//! The module 哈希: digests of the UTF-8 bytes, as lowercase hex (QI-LANGUAGE.md §8, §9).

use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use qi_vm::native::{Arity, NativeCtx, NativeResult, string};
use qi_vm::value::Value;
use qi_vm::vm::VmBuilder;
use sha2::{Digest, Sha256, Sha512};

use crate::args;

pub fn install(b: &mut VmBuilder) {
    let native = VmBuilder::native;
    b.module(
        "哈希",
        vec![
            ("MD5", native("哈希.MD5", Arity::Exact(1), md5)),
            ("SHA256", native("哈希.SHA256", Arity::Exact(1), sha256)),
            ("SHA512", native("哈希.SHA512", Arity::Exact(1), sha512)),
            (
                "HMAC_SHA256",
                native("哈希.HMAC_SHA256", Arity::Exact(2), hmac_sha256),
            ),
        ],
    );
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn md5(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let text = args::str(args, 0, "参数")?;
    Ok(string(hex(&Md5::digest(text.as_bytes()))))
}

fn sha256(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let text = args::str(args, 0, "参数")?;
    Ok(string(hex(&Sha256::digest(text.as_bytes()))))
}

fn sha512(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let text = args::str(args, 0, "参数")?;
    Ok(string(hex(&Sha512::digest(text.as_bytes()))))
}

/// `HMAC_SHA256(密钥, 消息)`.
fn hmac_sha256(_: &mut NativeCtx<'_>, args: &[Value]) -> NativeResult {
    let key = args::str(args, 0, "密钥")?;
    let message = args::str(args, 1, "消息")?;
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()) else {
        return Ok(Value::NIL);
    };
    mac.update(message.as_bytes());
    Ok(string(hex(&mac.finalize().into_bytes())))
}
