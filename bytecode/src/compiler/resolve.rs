//! Capture analysis: which variables must live in cells, which top-level variables are
//! module globals.
//!
//! The code generator needs to know, when it declares a variable, whether a closure will
//! capture it (then its register holds a cell that the closure shares) — before it has
//! seen the closure. This pass walks the tree once with the same scoping rules as the code
//! generator and answers that, keyed by the span start of each binding.
//!
//! A top-level `变量` becomes a module global (a slot `G[n]` instead of a register of the
//! top-level function) when it is public, when a named function or method uses it, when a
//! closure uses it before its declaration has run, or always in the REPL.

use std::collections::{HashMap, HashSet};

use crate::ast::*;

#[derive(Debug, Default)]
pub struct Resolution {
    /// Bindings (by span start) that closures capture or `取地址` takes.
    pub captured: HashSet<u32>,
    /// Top-level `变量`/`可变` declarations (by name span start) that are module globals.
    pub global_vars: HashSet<u32>,
    /// Methods (by span start) whose `自己` a nested closure captures.
    pub self_captured: HashSet<u32>,
    /// Methods (by span start) that use `自己` anywhere, closures included.
    pub self_used: HashSet<u32>,
    /// How many `协程`/`创建`/`启动` blocks each function makes directly inside one of its
    /// loops (not inside a nested function), by the span start of its body; the code
    /// generator gives each a register of its own for `Op::TaskClosure`.
    pub task_blocks: HashMap<u32, u16>,
    /// The same for the top level.
    pub toplevel_task_blocks: u16,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FnKind {
    TopLevel,
    /// A top-level function or method: sees module names, not the top-level's locals.
    Named,
    Closure,
}

struct FnScope<'a> {
    kind: FnKind,
    scopes: Vec<Vec<(&'a str, u32)>>,
    /// The span start of the method, when `自己` is bound.
    self_owner: Option<u32>,
    /// `协程`/`创建`/`启动` blocks seen so far directly in a loop of this function.
    task_blocks: u16,
    /// How many loops of this function enclose the current point.
    loops: u32,
}

impl FnScope<'_> {
    fn new(kind: FnKind, self_owner: Option<u32>) -> Self {
        FnScope {
            kind,
            scopes: vec![Vec::new()],
            self_owner,
            task_blocks: 0,
            loops: 0,
        }
    }
}

struct Resolver<'a> {
    fns: Vec<FnScope<'a>>,
    /// Every top-level `变量` by name.
    toplevel_vars: HashMap<&'a str, Vec<u32>>,
    out: Resolution,
}

/// Runs the analysis over a whole file.
pub fn resolve(program: &Program<'_>, repl: bool) -> Resolution {
    let mut r = Resolver {
        fns: Vec::new(),
        toplevel_vars: HashMap::new(),
        out: Resolution::default(),
    };
    for stmt in program.stmts {
        if let StmtKind::Let(decl) = stmt.kind {
            r.toplevel_vars
                .entry(decl.name.name)
                .or_default()
                .push(decl.name.span.start);
            if decl.public || repl {
                r.out.global_vars.insert(decl.name.span.start);
            }
        }
    }
    r.fns.push(FnScope::new(FnKind::TopLevel, None));
    for stmt in program.stmts {
        r.stmt(stmt);
    }
    r.out.toplevel_task_blocks = r.fns.pop().map_or(0, |f| f.task_blocks);
    r.out
}

impl<'a> Resolver<'a> {
    fn declare(&mut self, name: &'a str, decl: u32) {
        if let Some(f) = self.fns.last_mut()
            && let Some(s) = f.scopes.last_mut()
        {
            s.push((name, decl));
        }
    }

    fn push_scope(&mut self) {
        if let Some(f) = self.fns.last_mut() {
            f.scopes.push(Vec::new());
        }
    }

    fn pop_scope(&mut self) {
        if let Some(f) = self.fns.last_mut() {
            f.scopes.pop();
        }
    }

    /// Records a use of `name` from the innermost function.
    fn use_name(&mut self, name: &str, take_address: bool) {
        let current = self.fns.len() - 1;
        for i in (0..self.fns.len()).rev() {
            let f = &self.fns[i];
            let found = f
                .scopes
                .iter()
                .rev()
                .find_map(|s| s.iter().rev().find(|(n, _)| *n == name).map(|&(_, d)| d));
            if let Some(decl) = found {
                if i != current || take_address {
                    self.out.captured.insert(decl);
                }
                return;
            }
            if f.kind == FnKind::Named {
                break;
            }
        }
        if let Some(decls) = self.toplevel_vars.get(name) {
            // Not in scope here: either a function uses it, or a closure runs before the
            // declaration — either way it must be a module slot.
            for &d in decls {
                self.out.global_vars.insert(d);
            }
        }
    }

    fn use_self(&mut self) {
        let current = self.fns.len() - 1;
        for i in (0..self.fns.len()).rev() {
            if let Some(owner) = self.fns[i].self_owner {
                self.out.self_used.insert(owner);
                if i != current {
                    self.out.self_captured.insert(owner);
                }
                return;
            }
        }
    }

    fn function(&mut self, f: &'a FunctionDecl<'a>, kind: FnKind, self_owner: Option<u32>) {
        self.fns.push(FnScope::new(kind, self_owner));
        for p in f.params {
            self.declare(p.name.name, p.name.span.start);
        }
        self.block_inner(f.body);
        self.end_function(f.body);
    }

    /// A block run later as its own function (`协程 {…}`, `创建 {…}`, `启动 {…}`).
    fn deferred_block(&mut self, b: &'a Block<'a>) {
        // Only a block in a loop runs more than once per frame, and can share its closure.
        if let Some(f) = self.fns.last_mut()
            && f.loops > 0
        {
            f.task_blocks = f.task_blocks.saturating_add(1);
        }
        self.fns.push(FnScope::new(FnKind::Closure, None));
        self.block_inner(b);
        self.end_function(b);
    }

    /// Leaves the function whose body is `body`, noting its task blocks.
    fn end_function(&mut self, body: &Block<'_>) {
        if let Some(f) = self.fns.pop()
            && f.task_blocks > 0
        {
            self.out.task_blocks.insert(body.span.start, f.task_blocks);
        }
    }

    fn loop_body(&mut self, b: &'a Block<'a>) {
        if let Some(f) = self.fns.last_mut() {
            f.loops += 1;
        }
        self.block(b);
        if let Some(f) = self.fns.last_mut() {
            f.loops -= 1;
        }
    }

    fn block(&mut self, b: &'a Block<'a>) {
        self.push_scope();
        self.block_inner(b);
        self.pop_scope();
    }

    fn block_inner(&mut self, b: &'a Block<'a>) {
        for s in b.stmts {
            self.stmt(s);
        }
        if let Some(t) = b.tail {
            self.expr(t);
        }
    }

    fn stmt(&mut self, s: &'a Stmt<'a>) {
        match s.kind {
            StmtKind::Package(_) | StmtKind::Import(_) => {}
            StmtKind::Struct(_) | StmtKind::Enum(_) => {}
            StmtKind::Break | StmtKind::Continue | StmtKind::Empty => {}
            StmtKind::Let(decl) => {
                let is_closure = decl
                    .value
                    .is_some_and(|v| matches!(v.kind, ExprKind::Closure(_)));
                if is_closure {
                    self.declare(decl.name.name, decl.name.span.start);
                }
                if let Some(v) = decl.value {
                    self.expr(v);
                }
                if !is_closure {
                    self.declare(decl.name.name, decl.name.span.start);
                }
            }
            StmtKind::Function(f) => {
                if self.fns.len() == 1 && self.in_toplevel_scope() {
                    self.function(f, FnKind::Named, None);
                } else {
                    // A function declared inside a block is a local closure that can
                    // call itself.
                    self.declare(f.name.name, f.name.span.start);
                    self.function(f, FnKind::Closure, None);
                }
            }
            StmtKind::Methods(m) => {
                for f in m.methods {
                    self.function(f, FnKind::Named, Some(f.span.start));
                }
            }
            StmtKind::Expr { expr, .. } => self.expr(expr),
            StmtKind::Assign { target, value, .. } => {
                self.expr(target);
                self.expr(value);
            }
            StmtKind::Send { channel, value } => {
                self.expr(channel);
                self.expr(value);
            }
            StmtKind::While { cond, body } => {
                self.expr(cond);
                self.loop_body(body);
            }
            StmtKind::For { var, iter, body } => {
                self.expr(iter);
                self.push_scope();
                self.declare(var.name, var.span.start);
                self.loop_body(body);
                self.pop_scope();
            }
            StmtKind::Loop { body } => self.loop_body(body),
            StmtKind::Return(e) => {
                if let Some(e) = e {
                    self.expr(e);
                }
            }
            StmtKind::Throw(e) => self.expr(e),
            StmtKind::Try(t) => {
                self.block(t.body);
                if let Some(c) = &t.catch {
                    self.push_scope();
                    if let Some(b) = c.binding {
                        self.declare(b.name, b.span.start);
                    }
                    self.block(c.body);
                    self.pop_scope();
                }
                if let Some(f) = t.finally {
                    self.block(f);
                }
            }
            StmtKind::Select(sel) => {
                for case in sel.cases {
                    self.push_scope();
                    match case.kind {
                        SelectCaseKind::Recv { binding, channel } => {
                            self.expr(channel);
                            if let Some(b) = binding {
                                self.declare(b.name, b.span.start);
                            }
                        }
                        SelectCaseKind::Send { channel, value } => {
                            self.expr(channel);
                            self.expr(value);
                        }
                        SelectCaseKind::Timeout(e) => self.expr(e),
                        SelectCaseKind::Default => {}
                    }
                    for s in case.body {
                        self.stmt(s);
                    }
                    self.pop_scope();
                }
            }
        }
    }

    fn in_toplevel_scope(&self) -> bool {
        self.fns.first().is_some_and(|f| f.scopes.len() == 1)
    }

    fn expr(&mut self, e: &'a Expr<'a>) {
        crate::deep::deep(|| self.expr_level(e));
    }

    /// `expr`, one level of the tree (`deep` grows the stack between levels).
    fn expr_level(&mut self, e: &'a Expr<'a>) {
        match &e.kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Nil
            | ExprKind::Error => {}
            ExprKind::SelfValue => self.use_self(),
            ExprKind::Name(id) => self.use_name(id.name, false),
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i)),
            ExprKind::Dict(pairs) => {
                for (k, v) in pairs.iter() {
                    self.expr(k);
                    self.expr(v);
                }
            }
            ExprKind::StructLit { path, fields } => {
                self.type_path(path);
                for f in fields.iter() {
                    match f.value {
                        Some(v) => self.expr(v),
                        None => self.use_name(f.name.name, false),
                    }
                }
            }
            ExprKind::Unary { operand, .. } => self.expr(operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::Range { start, end, .. } => {
                self.expr(start);
                self.expr(end);
            }
            ExprKind::Call { callee, args } => {
                self.expr(callee);
                args.iter().for_each(|a| self.expr(a));
            }
            ExprKind::Field { object, .. } => self.expr(object),
            ExprKind::Index { object, index } => {
                self.expr(object);
                self.expr(index);
            }
            ExprKind::Path(path) => self.type_path(path),
            ExprKind::Generic { base, .. } => self.expr(base),
            ExprKind::Closure(f) => self.function(f, FnKind::Closure, None),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond);
                self.block(then);
                if let Some(o) = otherwise {
                    self.expr(o);
                }
            }
            ExprKind::Match { scrutinee, arms } => {
                self.expr(scrutinee);
                for arm in arms.iter() {
                    self.push_scope();
                    self.pattern(arm.pattern);
                    if let Some(g) = arm.guard {
                        self.expr(g);
                    }
                    self.stmt(arm.body);
                    self.pop_scope();
                }
            }
            ExprKind::Block(b) => self.block(b),
            ExprKind::Coroutine(body) | ExprKind::Create(body) | ExprKind::Spawn(body) => {
                match body {
                    TaskBody::Block(b) => self.deferred_block(b),
                    TaskBody::Call(c) => self.expr(c),
                }
            }
            ExprKind::Await(x) | ExprKind::Resume(x) | ExprKind::Recv(x) | ExprKind::Deref(x) => {
                self.expr(x)
            }
            ExprKind::Suspend(x) => {
                if let Some(x) = x {
                    self.expr(x);
                }
            }
            ExprKind::AddrOf(x) => match &x.kind {
                ExprKind::Name(id) => self.use_name(id.name, true),
                _ => self.expr(x),
            },
        }
    }

    fn type_path(&mut self, path: &'a TypePath<'a>) {
        match path.qualifier {
            Some(q) => self.expr(q),
            None => self.use_name(path.name.name, false),
        }
    }

    fn pattern(&mut self, p: &'a Pattern<'a>) {
        match &p.kind {
            PatternKind::Wildcard | PatternKind::Literal(_) | PatternKind::Range { .. } => {}
            PatternKind::Binding(id) => self.declare(id.name, id.span.start),
            PatternKind::Or(alts) => {
                // Every alternative binds the same names (E3013); declare the first's.
                if let Some(first) = alts.first() {
                    self.pattern(first);
                }
            }
            PatternKind::Variant { path, args } => {
                self.type_path(path);
                for a in args.iter().flat_map(|a| a.iter()) {
                    self.pattern(a);
                }
            }
            PatternKind::Struct { path, fields } => {
                self.type_path(path);
                for f in fields.iter() {
                    match f.pattern {
                        Some(p) => self.pattern(p),
                        None => self.declare(f.name.name, f.name.span.start),
                    }
                }
            }
        }
    }
}
