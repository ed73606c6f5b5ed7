//! The iterator behind `对于 x 在 值`: one per loop, held in a register.

use std::sync::Arc;

use parking_lot::Mutex;

use super::{DictObj, ListObj, RangeObj, StrObj};
use crate::value::{Value, drop_queue};

#[derive(Debug)]
pub enum IterState {
    /// Walked by index, re-reading the length each step (QI-LANGUAGE.md §10).
    List {
        list: Value,
        index: usize,
    },
    /// By byte offset of the next character.
    Str {
        text: Value,
        offset: usize,
    },
    /// Keys by position; `version` catches key changes during the walk (E7010).
    Dict {
        dict: Value,
        index: usize,
        version: u64,
    },
    Range {
        range: RangeObj,
        index: u64,
    },
    Done,
}

#[derive(Debug)]
pub struct IterObj {
    pub state: Mutex<IterState>,
}

impl IterObj {
    pub fn new(state: IterState) -> IterObj {
        IterObj {
            state: Mutex::new(state),
        }
    }
}

/// What one step of an iterator gives.
pub enum Step {
    Item(Value),
    Done,
    /// The dict's keys changed since the walk began.
    DictChanged,
}

impl IterState {
    pub fn step(&mut self) -> Step {
        match self {
            IterState::List { list, index } => {
                let Some(l) = list.as_obj::<ListObj>() else {
                    return Step::Done;
                };
                match l.get(*index) {
                    Some(v) => {
                        *index += 1;
                        Step::Item(v)
                    }
                    None => Step::Done,
                }
            }
            IterState::Str { text, offset } => {
                let Some(s) = text.as_obj::<StrObj>() else {
                    return Step::Done;
                };
                match s.as_str()[*offset..].chars().next() {
                    Some(c) => {
                        *offset += c.len_utf8();
                        Step::Item(Value::new(StrObj::new(c.to_string())))
                    }
                    None => Step::Done,
                }
            }
            IterState::Dict {
                dict,
                index,
                version,
            } => {
                let Some(d) = dict.as_obj::<DictObj>() else {
                    return Step::Done;
                };
                let inner = d.inner.lock();
                if inner.version != *version {
                    return Step::DictChanged;
                }
                match inner.map.get_index(*index) {
                    Some((k, _)) => {
                        *index += 1;
                        Step::Item(k.value().clone())
                    }
                    None => Step::Done,
                }
            }
            IterState::Range { range, index } => match range.nth(*index) {
                Some(n) => {
                    *index += 1;
                    Step::Item(Value::int(n))
                }
                None => Step::Done,
            },
            IterState::Done => Step::Done,
        }
    }
}

impl Drop for IterObj {
    fn drop(&mut self) {
        let state = std::mem::replace(self.state.get_mut(), IterState::Done);
        match state {
            IterState::List { list: v, .. }
            | IterState::Str { text: v, .. }
            | IterState::Dict { dict: v, .. } => drop_queue::release_one(v),
            _ => {}
        }
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<IterObj>();
    check::<Arc<IterObj>>();
}
