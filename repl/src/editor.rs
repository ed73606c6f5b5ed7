//! The terminal front end on rustyline: prompts, history, completion and highlighting.
//!
//! Continuation lines are read with their own prompt, one `readline` per line, as
//! Python's REPL does: rustyline's own multi-line mode shows no prompt on the lines after
//! the first, and a continuation prompt is what tells the user the entry is still open.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
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
        let before = &line[..pos];
        let start = before
            .char_indices()
            .rev()
            .find(|&(_, c)| !is_name_char(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let prefix = &before[start..];
        let c = self.completions.borrow();
        // After `.` or `。`: members of the receiver.
        let dot = before[..start].chars().next_back();
        let pool: Vec<&String> = if matches!(dot, Some('.' | '。')) {
            let receiver_end = start - dot.map_or(0, char::len_utf8);
            let receiver_start = before[..receiver_end]
                .char_indices()
                .rev()
                .find(|&(_, c)| !is_name_char(c))
                .map_or(0, |(i, c)| i + c.len_utf8());
            let receiver = &before[receiver_start..receiver_end];
            match c.members.get(receiver) {
                Some(m) => m.iter().collect(),
                None => c.all_methods.iter().collect(),
            }
        } else {
            c.names.iter().collect()
        };
        let found = pool
            .into_iter()
            .filter(|n| n.starts_with(prefix))
            .map(|n| Pair {
                display: n.clone(),
                replacement: n.clone(),
            })
            .collect();
        Ok((start, found))
    }
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
                eprintln!("错误：无法打开终端：{e}");
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

    println!(
        "气 {} 交互式解释器。输入 :帮助 查看命令，Ctrl-D 退出。",
        env!("CARGO_PKG_VERSION")
    );
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
        eprint!("{}", reply.diagnostics);
        if let Some(shown) = &reply.shown {
            println!("{shown}");
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
                eprintln!("错误：读取输入失败：{e}");
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
            .builtins
            .keys()
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
        .methods
        .keys()
        .map(|(_, n)| n.name().to_string())
        .filter(|n| !n.starts_with("__"))
        .collect();
    all.sort();
    all.dedup();
    c.all_methods = all;
}
