//! One collection: trial deletion over the graph reachable from the suspects.
//!
//! With the world stopped, the objects reachable from the suspects (through traced
//! edges) are gathered, and for each the references coming from inside that set are
//! counted. An object whose reference count is higher than that is held from outside —
//! a register of a running or parked task, a global, the host, a timer — and it, and
//! everything it reaches, is alive. What is left is held only by itself: garbage cycles
//! and what hangs off them. Their references are cut and counting frees them.
//!
//! This is the synchronous variant of Bacon and Rajan's trial deletion: the side table
//! plays the part of their in-object colours and temporary counts, since an `Arc` has
//! room for neither.

use std::collections::HashMap;

use super::trace::{children, cut, has_children, is_traced};
use crate::value::{Value, WeakValue, drop_queue};

/// What one collection did.
#[derive(Default)]
pub struct Collected {
    /// Objects examined.
    pub scanned: usize,
    /// Garbage objects whose references were cut (freed as a result).
    pub freed: usize,
    /// One member of every live cycle found. A cycle alive now can die later without
    /// any new store (its last outside reference just goes away), so these stay
    /// suspects for the next collection.
    pub live_cycles: Vec<WeakValue>,
}

struct Node {
    /// Our own strong reference: exactly one per node, subtracted below.
    value: Value,
    /// References to this node from nodes.
    internal: usize,
    /// Where this node's outgoing edges start in `edges`; they end where the next
    /// node's start.
    first_edge: usize,
    /// Held from outside without looking (an unfinished task: it may still run).
    opaque: bool,
    alive: bool,
}

/// Runs one collection over `suspects`. The caller has stopped every mutator.
pub fn collect(suspects: Vec<WeakValue>) -> Collected {
    let mut nodes: Vec<Node> = Vec::with_capacity(suspects.len());
    let mut index: HashMap<u64, usize, foldhash::fast::FixedState> =
        HashMap::with_capacity_and_hasher(suspects.len() * 2, Default::default());
    for s in suspects {
        let Some(v) = s.upgrade() else { continue };
        if !is_traced(v.tag()) {
            continue;
        }
        index.entry(v.payload()).or_insert_with(|| {
            nodes.push(node(v));
            nodes.len() - 1
        });
    }

    // Gather: every node's edges, adding the nodes they lead to.
    let mut edges: Vec<usize> = Vec::new();
    let mut found: Vec<Value> = Vec::new();
    let mut i = 0;
    while i < nodes.len() {
        nodes[i].first_edge = edges.len();
        found.clear();
        if children(&nodes[i].value, &mut found).is_none() {
            nodes[i].opaque = true;
        }
        for child in found.drain(..) {
            let at = match index.get(&child.payload()) {
                // Already a node: drop the extra reference `children` made.
                Some(&at) => at,
                // Cannot be on a cycle: freed by counting if its holders are cut.
                None if !has_children(&child) => continue,
                None => {
                    nodes.push(node(child));
                    index.insert(nodes[nodes.len() - 1].value.payload(), nodes.len() - 1);
                    nodes.len() - 1
                }
            };
            nodes[at].internal += 1;
            edges.push(at);
        }
        i += 1;
    }
    let edges_of = |nodes: &[Node], i: usize| {
        let end = nodes.get(i + 1).map_or(edges.len(), |n| n.first_edge);
        nodes[i].first_edge..end
    };

    // Alive: held from outside, then everything reachable from those.
    let mut stack: Vec<usize> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        // Our own reference is the `- 1`.
        let outside = n.value.ref_count().saturating_sub(1) > n.internal;
        if outside || n.opaque {
            stack.push(i);
        }
    }
    while let Some(i) = stack.pop() {
        if nodes[i].alive {
            continue;
        }
        nodes[i].alive = true;
        for e in edges_of(&nodes, i) {
            let to = edges[e];
            if !nodes[to].alive {
                stack.push(to);
            }
        }
    }

    let live_cycles = cycles(&nodes, &edges)
        .into_iter()
        .filter(|&i| nodes[i].alive)
        .filter_map(|i| WeakValue::new(&nodes[i].value))
        .collect();

    // Cut the garbage.
    let mut freed = 0;
    let mut dropped: Vec<Value> = Vec::new();
    for n in nodes.iter().filter(|n| !n.alive) {
        cut(&n.value, &mut dropped);
        freed += 1;
    }
    let scanned = nodes.len();
    drop_queue::release(dropped);
    drop_queue::release(nodes.into_iter().map(|n| n.value));
    Collected {
        scanned,
        freed,
        live_cycles,
    }
}

/// One node of each cycle (strongly connected component with an edge inside it), by
/// Tarjan's algorithm without recursion.
fn cycles(nodes: &[Node], edges: &[usize]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = nodes.len();
    let edge_range = |i: usize| {
        let end = nodes.get(i + 1).map_or(edges.len(), |x| x.first_edge);
        nodes[i].first_edge..end
    };
    let mut order = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    let mut counter = 0;
    // (node, next edge to look at)
    let mut work: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if order[root] != UNSEEN {
            continue;
        }
        work.push((root, edge_range(root).start));
        order[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut next)) = work.last_mut() {
            let range = edge_range(v);
            if *next < range.end {
                let w = edges[*next];
                *next += 1;
                if order[w] == UNSEEN {
                    order[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, edge_range(w).start));
                } else if on_stack[w] {
                    low[v] = low[v].min(order[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == order[v] {
                let mut size = 0;
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    size += 1;
                    if w == v {
                        break;
                    }
                }
                let self_loop = edge_range(v).any(|e| edges[e] == v);
                if size > 1 || self_loop {
                    out.push(v);
                }
            }
        }
    }
    out
}

fn node(value: Value) -> Node {
    Node {
        value,
        internal: 0,
        first_edge: 0,
        opaque: false,
        alive: false,
    }
}
