//! [`BinTable`]: the longest-prefix match from an account number to its bank, over BIN prefixes
//! of [`BIN_PREFIX_LENGTH_MIN`] to [`BIN_PREFIX_LENGTH_MAX`] digits.
//!
//! A digit trie kept flat in one `Vec` of nodes: each node holds the indices of its ten children
//! (one per decimal digit) and the bank of the prefix that ends there, if any. A lookup walks one
//! node per digit of the account, at most [`BIN_PREFIX_LENGTH_MAX`] of them, remembering the last
//! bank it passed: the longest matching prefix. It allocates nothing and does not depend on how
//! many prefixes there are; a sorted list searched once per prefix length would pay up to five
//! binary searches of ~12 probes over thousands of prefixes instead (the `stage_route` bench
//! compares the two).
//!
//! Inserting and removing are the control plane (route change events, start-up): they are
//! exact, and may allocate when the trie grows beyond the
//! [`BIN_TABLE_SPARE_NODE_COUNT`] nodes reserved at construction. Removing prunes the nodes no
//! prefix needs any more and keeps them for later inserts.

use crate::constants::{BIN_PREFIX_LENGTH_MAX, BIN_PREFIX_LENGTH_MIN, BIN_TABLE_SPARE_NODE_COUNT};
use crate::event::ParticipantId;
use crate::network::BinPrefix;

/// Children a node has: one per decimal digit.
const DIGIT_COUNT: usize = 10;

/// The root's index. The root is nobody's child, so its index doubles as [`NO_CHILD`].
const ROOT: u32 = 0;

/// In a node's children: no child for this digit.
const NO_CHILD: u32 = ROOT;

/// One node of the trie: the prefix spelled by the digits on the path from the root to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Node {
    /// By digit: the child's index in `BinTable::nodes`, or [`NO_CHILD`].
    children: [u32; DIGIT_COUNT],
    /// The bank this prefix routes to, when the prefix is in the table. Only nodes
    /// [`BIN_PREFIX_LENGTH_MIN`] to [`BIN_PREFIX_LENGTH_MAX`] deep have one.
    bank: Option<ParticipantId>,
}

impl Node {
    const EMPTY: Node = Node {
        children: [NO_CHILD; DIGIT_COUNT],
        bank: None,
    };

    fn is_unused(&self) -> bool {
        self.bank.is_none() && self.children.iter().all(|&child| child == NO_CHILD)
    }
}

/// A node is ten child indices and a bank: 44 bytes, as [`BinTable::node_count`] says.
const _: () = assert!(std::mem::size_of::<Node>() == 44);

/// The BIN table: which bank an account number belongs to, by the longest of its 6 to 10 digit
/// prefixes in the table.
#[derive(Clone, Debug)]
pub struct BinTable {
    /// The trie; index [`ROOT`] is the root (the empty prefix, which never has a bank).
    nodes: Vec<Node>,
    /// Indices of nodes pruned by [`BinTable::remove`], reused by [`BinTable::insert`].
    free: Vec<u32>,
    /// Prefixes in the table: nodes with a bank.
    prefix_count: usize,
}

impl BinTable {
    /// The table holding `prefixes`; a prefix listed twice routes to the bank listed last.
    ///
    /// # Panics
    ///
    /// If a prefix is not 6 to 10 ASCII digits: the configuration loader refuses such a file, so
    /// one reaching here is a bug.
    pub fn new(prefixes: &[BinPrefix]) -> BinTable {
        let mut table = BinTable {
            nodes: Vec::with_capacity(1 + prefixes.len() * 2 + BIN_TABLE_SPARE_NODE_COUNT),
            free: Vec::new(),
            prefix_count: 0,
        };
        table.nodes.push(Node::EMPTY);
        for row in prefixes {
            table.insert(row.prefix.as_bytes(), row.bank);
        }
        table.nodes.reserve(BIN_TABLE_SPARE_NODE_COUNT);
        table
    }

    /// Whether `prefix` may be in the table: 6 to 10 ASCII digits.
    pub fn is_prefix(prefix: &[u8]) -> bool {
        (BIN_PREFIX_LENGTH_MIN..=BIN_PREFIX_LENGTH_MAX).contains(&prefix.len())
            && prefix.iter().all(u8::is_ascii_digit)
    }

    /// The bank of the longest prefix of `account` in the table; `None` when no prefix matches or
    /// `account` holds a byte that is not an ASCII digit. Walks at most ten nodes; allocates
    /// nothing.
    #[inline]
    pub fn lookup(&self, account: &[u8]) -> Option<ParticipantId> {
        if !account.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut node = &self.nodes[ROOT as usize];
        let mut bank = None;
        for &byte in account.iter().take(BIN_PREFIX_LENGTH_MAX) {
            let child = node.children[usize::from(byte - b'0')];
            if child == NO_CHILD {
                break;
            }
            node = &self.nodes[child as usize];
            bank = node.bank.or(bank);
        }
        bank
    }

    /// Routes `prefix` to `bank`, replacing the bank it routed to if it was in the table.
    /// Control plane: may allocate once the spare nodes are used up.
    ///
    /// # Panics
    ///
    /// If `prefix` is not 6 to 10 ASCII digits ([`BinTable::is_prefix`]): callers check first.
    pub fn insert(&mut self, prefix: &[u8], bank: ParticipantId) {
        assert!(
            Self::is_prefix(prefix),
            "BIN prefix {:?} is not 6 to 10 digits",
            String::from_utf8_lossy(prefix)
        );
        let mut node = ROOT;
        for &byte in prefix {
            let digit = usize::from(byte - b'0');
            let mut child = self.nodes[node as usize].children[digit];
            if child == NO_CHILD {
                child = self.allocate();
                self.nodes[node as usize].children[digit] = child;
            }
            node = child;
        }
        if self.nodes[node as usize].bank.replace(bank).is_none() {
            self.prefix_count += 1;
        }
    }

    /// Removes `prefix` from the table; false if it was not in it (including when it is not a
    /// valid prefix). Longer prefixes under it stay, and accounts it matched fall back to the
    /// next shorter prefix, if any. Nodes no prefix needs any more are kept for later inserts.
    pub fn remove(&mut self, prefix: &[u8]) -> bool {
        if !Self::is_prefix(prefix) {
            return false;
        }
        // The nodes on the path, root first: path[depth] spells prefix[..depth].
        let mut path = [ROOT; BIN_PREFIX_LENGTH_MAX + 1];
        let mut node = ROOT;
        for (depth, &byte) in prefix.iter().enumerate() {
            node = self.nodes[node as usize].children[usize::from(byte - b'0')];
            if node == NO_CHILD {
                return false;
            }
            path[depth + 1] = node;
        }
        if self.nodes[node as usize].bank.take().is_none() {
            return false;
        }
        self.prefix_count -= 1;
        // Prune from the end of the path up while a node leads nowhere.
        for depth in (1..=prefix.len()).rev() {
            let index = path[depth];
            if !self.nodes[index as usize].is_unused() {
                break;
            }
            let digit = usize::from(prefix[depth - 1] - b'0');
            self.nodes[path[depth - 1] as usize].children[digit] = NO_CHILD;
            self.free.push(index);
        }
        true
    }

    /// Prefixes in the table.
    pub fn len(&self) -> usize {
        self.prefix_count
    }

    /// Whether the table holds no prefix.
    pub fn is_empty(&self) -> bool {
        self.prefix_count == 0
    }

    /// Trie nodes in use, the root included: what the table costs in memory, 44 bytes a node.
    pub fn node_count(&self) -> usize {
        self.nodes.len() - self.free.len()
    }

    /// Every prefix in the table and its bank, in increasing byte order of the prefix (a prefix
    /// before the longer ones under it): a depth-first walk of the trie, digits in order.
    /// Control plane: allocates each prefix's string.
    pub fn prefixes(&self) -> Prefixes<'_> {
        Prefixes {
            table: self,
            stack: vec![(ROOT, 0, 0)],
            digits: [0; BIN_PREFIX_LENGTH_MAX],
        }
    }

    /// A fresh node: a pruned one if any, else a new one at the end.
    fn allocate(&mut self) -> u32 {
        match self.free.pop() {
            Some(index) => {
                self.nodes[index as usize] = Node::EMPTY;
                index
            }
            None => {
                let index = u32::try_from(self.nodes.len())
                    .expect("a BIN table of 4 billion nodes: the configuration is not a network's");
                self.nodes.push(Node::EMPTY);
                index
            }
        }
    }
}

/// The prefixes of a [`BinTable`] in increasing order: [`BinTable::prefixes`].
pub struct Prefixes<'a> {
    table: &'a BinTable,
    /// Nodes still to visit, the next on top: (index, depth, the digit that leads to it).
    /// At most ten children per level of a walk at most [`BIN_PREFIX_LENGTH_MAX`] deep.
    stack: Vec<(u32, usize, u8)>,
    /// The digits of the path to the node being visited: `digits[..depth]`.
    digits: [u8; BIN_PREFIX_LENGTH_MAX],
}

impl Iterator for Prefixes<'_> {
    type Item = BinPrefix;

    fn next(&mut self) -> Option<BinPrefix> {
        while let Some((index, depth, digit)) = self.stack.pop() {
            if depth > 0 {
                // Visited since this node's parent: only its earlier siblings and their
                // subtrees, which wrote digits from `depth - 1` on, so `digits[..depth - 1]`
                // still spells the parent's path.
                self.digits[depth - 1] = digit;
            }
            let node = &self.table.nodes[index as usize];
            for digit in (0..DIGIT_COUNT).rev() {
                let child = node.children[digit];
                if child != NO_CHILD && depth < BIN_PREFIX_LENGTH_MAX {
                    self.stack.push((child, depth + 1, b'0' + digit as u8));
                }
            }
            if let Some(bank) = node.bank {
                let prefix = String::from_utf8_lossy(&self.digits[..depth]).into_owned();
                return Some(BinPrefix { prefix, bank });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(prefix: &str, bank: u16) -> BinPrefix {
        BinPrefix {
            prefix: prefix.to_string(),
            bank: ParticipantId(bank),
        }
    }

    fn table() -> BinTable {
        BinTable::new(&[
            row("622202", 101),
            row("62220299", 102),
            row("6222029901", 103),
            row("621700", 104),
            row("955880", 105),
        ])
    }

    #[test]
    fn lookup_takes_the_longest_matching_prefix() {
        let table = table();
        #[rustfmt::skip]
        let rows: &[(&str, &[u8], Option<u16>)] = &[
            ("six-digit prefix", b"6222020200112233", Some(101)),
            ("eight-digit prefix nested in it", b"6222029900112233", Some(102)),
            ("ten-digit prefix nested in both", b"6222029901112233", Some(103)),
            ("ten-digit path, last digit differs", b"6222029902112233", Some(102)),
            ("another six-digit prefix", b"621700123456789", Some(104)),
            ("no prefix matches", b"6228480000000000", None),
            ("first digits match, sixth differs", b"6222030000000000", None),
            ("account is the prefix exactly", b"955880", Some(105)),
            ("account shorter than any prefix", b"62220", None),
            ("empty account", b"", None),
            ("non-digit after the prefix", b"62220202001122x3", None),
            ("non-digit inside the prefix", b"6222x20200112233", None),
            ("space separated", b"6222 0202 0011 2233", None),
        ];
        for (description, account, expected) in rows {
            assert_eq!(
                table.lookup(account),
                expected.map(ParticipantId),
                "{description}"
            );
        }
        assert_eq!(table.len(), 5);
    }

    #[test]
    fn insert_replaces_and_adds_nested_prefixes() {
        let mut table = table();
        table.insert(b"622202", ParticipantId(201));
        assert_eq!(table.len(), 5, "replacing does not add");
        assert_eq!(table.lookup(b"6222020200112233"), Some(ParticipantId(201)));
        assert_eq!(table.lookup(b"6222029900112233"), Some(ParticipantId(102)));
        table.insert(b"6222020", ParticipantId(202));
        assert_eq!(table.len(), 6);
        assert_eq!(table.lookup(b"6222020200112233"), Some(ParticipantId(202)));
        assert_eq!(table.lookup(b"6222021200112233"), Some(ParticipantId(201)));
    }

    #[test]
    fn remove_restores_the_shorter_match_and_prunes() {
        let mut table = table();
        let nodes_before = table.node_count();
        // (description, prefix removed, whether it was in the table, account, its bank after)
        type Row<'a> = (&'a str, &'a [u8], bool, &'a [u8], Option<u16>);
        #[rustfmt::skip]
        let rows: &[Row] = &[
            ("ten-digit falls back to eight", b"6222029901", true, b"6222029901112233", Some(102)),
            ("removed twice", b"6222029901", false, b"6222029901112233", Some(102)),
            ("eight-digit falls back to six", b"62220299", true, b"6222029901112233", Some(101)),
            ("a path but no prefix", b"6222029", false, b"6222029901112233", Some(101)),
            ("never in the table", b"123456", false, b"1234560000000000", None),
            ("too short", b"62220", false, b"6222020000000000", Some(101)),
            ("too long", b"62220299011", false, b"6222020000000000", Some(101)),
            ("not digits", b"62220x", false, b"6222020000000000", Some(101)),
            ("six-digit leaves nothing", b"622202", true, b"6222020000000000", None),
        ];
        for (description, prefix, removed, account, expected) in rows {
            assert_eq!(table.remove(prefix), *removed, "{description}");
            assert_eq!(
                table.lookup(account),
                expected.map(ParticipantId),
                "{description}"
            );
        }
        assert_eq!(table.len(), 2);
        assert_eq!(table.lookup(b"621700123456789"), Some(ParticipantId(104)));
        // The ten nodes of "6222029901" (which "622202" and "62220299" lie on) are pruned but for
        // "6" and "62", which "621700" still needs.
        assert_eq!(table.node_count(), nodes_before - 8);
        // Pruned nodes are reused, not added.
        let capacity = table.nodes.len();
        table.insert(b"6222029901", ParticipantId(106));
        assert_eq!(table.nodes.len(), capacity);
        assert_eq!(table.lookup(b"6222029901112233"), Some(ParticipantId(106)));
        assert_eq!(table.lookup(b"6222020000000000"), None);
    }

    #[test]
    fn prefixes_walk_in_increasing_order_after_changes() {
        let mut table = table();
        table.insert(b"0000001", ParticipantId(107));
        assert!(table.remove(b"62220299"));
        let listed: Vec<(String, u16)> = table
            .prefixes()
            .map(|row| (row.prefix, row.bank.0))
            .collect();
        let expected = [
            ("0000001", 107),
            ("621700", 104),
            ("622202", 101),
            ("6222029901", 103),
            ("955880", 105),
        ];
        let expected: Vec<(String, u16)> = expected
            .iter()
            .map(|(prefix, bank)| (prefix.to_string(), *bank))
            .collect();
        assert_eq!(listed, expected);
        assert_eq!(listed.len(), table.len());
        // Rebuilt from its own listing, a table answers the same.
        let rows: Vec<BinPrefix> = table.prefixes().collect();
        let rebuilt = BinTable::new(&rows);
        assert_eq!(rebuilt.prefixes().collect::<Vec<_>>(), rows);
        assert_eq!(BinTable::new(&[]).prefixes().count(), 0);
    }

    #[test]
    fn a_prefix_listed_twice_routes_to_the_last_bank() {
        let table = BinTable::new(&[row("622202", 101), row("622202", 102)]);
        assert_eq!(table.len(), 1);
        assert_eq!(table.lookup(b"6222021234567890"), Some(ParticipantId(102)));
        assert!(BinTable::new(&[]).is_empty());
    }

    #[test]
    fn prefixes_are_six_to_ten_digits() {
        let rows: &[(&[u8], bool)] = &[
            (b"622202", true),
            (b"6222029901", true),
            (b"62220", false),
            (b"62220299011", false),
            (b"62220a", false),
            (b"", false),
        ];
        for (prefix, expected) in rows {
            assert_eq!(BinTable::is_prefix(prefix), *expected, "{prefix:?}");
        }
    }

    #[test]
    #[should_panic(expected = "is not 6 to 10 digits")]
    fn inserting_a_malformed_prefix_is_a_bug() {
        table().insert(b"62220", ParticipantId(101));
    }

    #[test]
    fn spare_nodes_are_reserved_so_route_changes_do_not_allocate() {
        let mut table = table();
        let capacity = table.nodes.capacity();
        assert!(capacity - table.nodes.len() >= BIN_TABLE_SPARE_NODE_COUNT);
        for index in 0..BIN_TABLE_SPARE_NODE_COUNT / BIN_PREFIX_LENGTH_MAX {
            table.insert(
                format!("{:010}", 1_000_000_000 + index).as_bytes(),
                ParticipantId(101),
            );
        }
        assert_eq!(table.nodes.capacity(), capacity);
    }
}
