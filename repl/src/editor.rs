//! The terminal front end on rustyline: prompts, history, completion and highlighting.
//!
//! Continuation lines are read with their own prompt, one `readline` per line, as
//! Python's REPL does: rustyline's own multi-line mode shows no prompt on the lines after
//! the first, and a continuation prompt is what tells the user the entry is still open.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use qi_bytecode::token::Keyword;
use qi_vm::vm::Shared;

use crate::highlight;
use crate::input::needs_more;
use crate::session::{Session, members_of};

pub const PROMPT: &str = "气> ";
pub const CONTINUATION: &str = "……  ";

/// What completion can offer, refreshed after every entry.
#[derive(Default)]
struct Completions {
    /// Keywords, built-ins and the names entries defined, sorted.
    names: Vec<String>,
    /// Members of each defined variable's current value.
    members: HashMap<String, Vec<String>>,
    /// Every built-in method name, for a receiver that is not a plain name.
    all_methods: Vec<String>,
}

struct QiHelper {
    completions: Rc<RefCell<Completions>>,
    color: bool,
}

impl Completer for QiHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, found) = candidates(&self.completions.borrow(), line, pos);
        let pairs = found
            .into_iter()
            .map(|n| Pair {
                display: n.clone(),
                replacement: n,
            })
            .collect();
        Ok((start, pairs))
    }
}

/// Where the word being completed starts, and what could complete it: members of the
/// receiver after `.` or `。`, else keywords, built-ins and defined names.
fn candidates(c: &Completions, line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = &line[..pos.min(line.len())];
    let word_start = |text: &str| {
        text.char_indices()
            .rev()
            .find(|&(_, c)| !is_name_char(c))
            .map_or(0, |(i, c)| i + c.len_utf8())
    };
    let start = word_start(before);
    let prefix = &before[start..];
    let dot = before[..start].chars().next_back();
    let pool: &[String] = if matches!(dot, Some('.' | '。')) {
        let receiver_end = start - dot.map_or(0, char::len_utf8);
        let receiver = &before[word_start(&before[..receiver_end])..receiver_end];
        c.members.get(receiver).unwrap_or(&c.all_methods)
    } else {
        &c.names
    };
    let found = pool
        .iter()
        .filter(|n| n.starts_with(prefix))
        .cloned()
        .collect();
    (start, found)
}

impl Hinter for QiHelper {
    type Hint = String;
}

impl Validator for QiHelper {}

impl Highlighter for QiHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> Cow<'l, str> {
        if !self.color {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight::ansi(line, Some(pos)))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, kind: CmdKind) -> bool {
        // Re-highlight on every edit and cursor move: the matching bracket follows the
        // cursor.
        self.color && kind != CmdKind::ForcedRefresh
    }
}

impl Helper for QiHelper {}

fn is_name_char(c: char) -> bool {
    c == '_' || unicode_ident::is_xid_continue(c)
}

/// Where history lives: `$XDG_DATA_HOME/qi/历史`, else `~/.local/share/qi/历史`
/// (`%APPDATA%\qi\历史` on Windows).
fn history_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("qi").join("历史"))
}

/// Runs the interactive loop on the terminal; the exit code.
pub fn run(shared: Arc<Shared>) -> i32 {
    let color = std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none();
    let mut session = Session::new(shared);
    session.set_color(color);
    let completions = Rc::new(RefCell::new(Completions::default()));
    refresh(&session, &mut completions.borrow_mut());
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .max_history_size(5000)
        .map_or_else(|_| rustyline::Config::default(), |b| b.build());
    let mut editor: Editor<QiHelper, rustyline::history::DefaultHistory> =
        match Editor::with_config(config) {
            Ok(e) => e,
            Err(e) => {
                warn(&format!("错误：无法打开终端：{e}\n"));
                return 1;
            }
        };
    editor.set_helper(Some(QiHelper {
        completions: completions.clone(),
        color,
    }));
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    // Ctrl-C while an entry runs cancels it (at its next suspension point, which a loop
    // reaches within a budget). While reading a line the terminal is raw and rustyline
    // gets Ctrl-C as a key instead.
    let interrupted = Arc::new(AtomicBool::new(false));
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, interrupted.clone());

    say(&format!(
        "气 {} 交互式解释器。输入 :帮助 查看命令，Ctrl-D 退出。\n",
        env!("CARGO_PKG_VERSION")
    ));
    let code = loop {
        let Some(entry) = read_entry(&mut editor) else {
            break 0;
        };
        if entry.trim().is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(entry.trim_end());
        interrupted.store(false, Ordering::SeqCst);
        let reply = session.eval_interruptible(&entry, &interrupted);
        warn(&reply.diagnostics);
        if let Some(shown) = &reply.shown {
            say(&format!("{shown}\n"));
        }
        if let Some(code) = reply.exit {
            break code;
        }
        refresh(&session, &mut completions.borrow_mut());
    };
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
    code
}

/// One entry: a first line, then continuation lines while brackets are open. `None` at
/// Ctrl-D; Ctrl-C abandons what was typed and starts over.
fn read_entry(editor: &mut Editor<QiHelper, rustyline::history::DefaultHistory>) -> Option<String> {
    let mut entry = String::new();
    loop {
        let prompt = if entry.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        match editor.readline(prompt) {
            Ok(line) => {
                entry.push_str(&line);
                entry.push('\n');
                let command = entry.trim_start().starts_with([':', '：']);
                if command || !needs_more(&entry) {
                    return Some(entry);
                }
            }
            Err(ReadlineError::Interrupted) => {
                entry.clear();
            }
            Err(ReadlineError::Eof) => return None,
            Err(e) => {
                warn(&format!("错误：读取输入失败：{e}\n"));
                return None;
            }
        }
    }
}

fn refresh(session: &Session, c: &mut Completions) {
    let shared = session.shared();
    let mut names: Vec<String> = Keyword::ALL.iter().map(|k| k.text().to_string()).collect();
    names.extend(
        shared
            .builtin_names()
            .map(|k| k.name().to_string())
            .filter(|n| !n.starts_with("__")),
    );
    names.extend(session.defined_names().map(str::to_string));
    names.sort();
    names.dedup();
    c.names = names;
    c.members = session
        .defined_names()
        .filter_map(|n| Some((n.to_string(), members_of(shared, &session.value_of(n)?))))
        .collect();
    let mut all: Vec<String> = shared
        .method_keys()
        .map(|(_, n)| n.name().to_string())
        .filter(|n| !n.starts_with("__"))
        .collect();
    all.sort();
    all.dedup();
    c.all_methods = all;
}

/// Writes to stdout. A failed write (a full disk, a closed pipe) is dropped, where
/// `print!` would panic: there is nowhere left to report it.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Writes to stderr; as `say`.
fn warn(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completions() -> Completions {
        Completions {
            names: vec!["打印".into(), "打印行".into(), "函数".into(), "名单".into()],
            members: HashMap::from([(
                "名单".to_string(),
                vec!["长度".to_string(), "添加".to_string()],
            )]),
            all_methods: vec!["长度".into(), "转大写".into()],
        }
    }

    #[test]
    fn names_complete_from_the_word_at_the_cursor() {
        let c = completions();
        let line = "变量 x = 打";
        let (start, found) = candidates(&c, line, line.len());
        assert_eq!(&line[start..], "打");
        assert_eq!(found, ["打印", "打印行"]);
    }

    #[test]
    fn members_follow_a_dot_or_a_full_width_dot() {
        let c = completions();
        for line in ["名单.长", "名单。长"] {
            let (start, found) = candidates(&c, line, line.len());
            assert_eq!(&line[start..], "长");
            assert_eq!(found, ["长度"]);
        }
        // An unknown receiver offers every built-in method.
        let (_, found) = candidates(&c, "\"a\".转", "\"a\".转".len());
        assert_eq!(found, ["转大写"]);
    }
}
