//! The channel tree of a guild: folders (which Beep lets nest) holding text and
//! voice channels. Pure functions over the layout; the services apply a proposed
//! change to a copy of the layout and ask [`check`] whether the result is valid
//! before writing it.

use std::collections::{HashMap, HashSet};

use beep_types::ChannelId;
use beep_types::v10::channel::ChannelType;

/// One channel as the tree sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub id: ChannelId,
    pub kind: ChannelType,
    pub parent: Option<ChannelId>,
}

/// Why a layout is not a valid tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeError {
    /// A channel's parent is not a channel of the guild.
    UnknownParent(ChannelId),
    /// A channel's parent is not a folder.
    ParentNotFolder(ChannelId),
    /// A folder would contain itself.
    Cycle(ChannelId),
    /// A folder would sit deeper than allowed.
    TooDeep(ChannelId),
}

/// Check that every parent is a folder of the layout, that no folder contains
/// itself, and that no folder is nested deeper than `max_depth` (a folder at the
/// top level has depth 1). Text and voice channels may sit in any folder.
pub fn check(nodes: &[Node], max_depth: u32) -> Result<(), TreeError> {
    let by_id: HashMap<ChannelId, &Node> = nodes.iter().map(|n| (n.id, n)).collect();
    for n in nodes {
        if let Some(p) = n.parent {
            let Some(parent) = by_id.get(&p) else {
                return Err(TreeError::UnknownParent(n.id));
            };
            if parent.kind != ChannelType::Folder {
                return Err(TreeError::ParentNotFolder(n.id));
            }
        }
    }
    for n in nodes.iter().filter(|n| n.kind == ChannelType::Folder) {
        // Walk up; more steps than there are nodes means a cycle.
        let mut depth = 1u32;
        let mut seen = HashSet::new();
        let mut at = n.parent;
        while let Some(p) = at {
            if !seen.insert(p) || p == n.id {
                return Err(TreeError::Cycle(n.id));
            }
            depth += 1;
            at = by_id.get(&p).and_then(|x| x.parent);
        }
        if depth > max_depth {
            return Err(TreeError::TooDeep(n.id));
        }
    }
    Ok(())
}

/// `root` and everything inside it, parents before their children.
pub fn subtree(nodes: &[Node], root: ChannelId) -> Vec<ChannelId> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let at = out[i];
        for n in nodes {
            if n.parent == Some(at) && !out.contains(&n.id) {
                out.push(n.id);
            }
        }
        i += 1;
    }
    out
}

/// The position a new channel takes in `parent`: after its last sibling.
pub fn next_position(siblings: impl Iterator<Item = i64>) -> i64 {
    siblings.max().map_or(0, |p| p.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn id(n: u64) -> ChannelId {
        ChannelId(beep_types::Snowflake(n))
    }

    fn folder(n: u64, parent: Option<u64>) -> Node {
        Node {
            id: id(n),
            kind: ChannelType::Folder,
            parent: parent.map(id),
        }
    }

    fn text(n: u64, parent: Option<u64>) -> Node {
        Node {
            id: id(n),
            kind: ChannelType::Text,
            parent: parent.map(id),
        }
    }

    #[test]
    fn folders_nest_up_to_the_limit() {
        let three = [
            folder(1, None),
            folder(2, Some(1)),
            folder(3, Some(2)),
            text(4, Some(3)),
        ];
        assert_eq!(
            check(&three, 3),
            Ok(()),
            "a channel in a depth-3 folder is fine"
        );
        let mut four = three.to_vec();
        four.push(folder(5, Some(3)));
        assert_eq!(check(&four, 3), Err(TreeError::TooDeep(id(5))));
        assert_eq!(check(&four, 4), Ok(()));
        assert_eq!(
            check(&[folder(1, None), folder(2, Some(1))], 1),
            Err(TreeError::TooDeep(id(2)))
        );
    }

    #[test]
    fn parents_must_be_folders_of_the_guild() {
        assert_eq!(
            check(&[text(1, None), text(2, Some(1))], 3),
            Err(TreeError::ParentNotFolder(id(2)))
        );
        assert_eq!(
            check(&[text(2, Some(9))], 3),
            Err(TreeError::UnknownParent(id(2)))
        );
    }

    #[test]
    fn cycles_are_refused() {
        assert_eq!(
            check(&[folder(1, Some(2)), folder(2, Some(1))], 10),
            Err(TreeError::Cycle(id(1)))
        );
        assert_eq!(
            check(&[folder(1, Some(1))], 10),
            Err(TreeError::Cycle(id(1)))
        );
    }

    #[test]
    fn subtrees_list_parents_first() {
        let nodes = [
            folder(1, None),
            folder(2, Some(1)),
            text(3, Some(2)),
            text(4, Some(1)),
            text(5, None),
        ];
        assert_eq!(subtree(&nodes, id(1)), vec![id(1), id(2), id(4), id(3)]);
        assert_eq!(subtree(&nodes, id(5)), vec![id(5)]);
    }

    #[test]
    fn new_channels_go_last() {
        assert_eq!(next_position([].into_iter()), 0);
        assert_eq!(next_position([3, 1, 2].into_iter()), 4);
    }

    /// The depth of a folder counted naively from the root down, or `None` when
    /// the walk up never ends.
    fn naive_depth(nodes: &[Node], n: &Node) -> Option<u32> {
        let mut depth = 1;
        let mut at = n.parent;
        while let Some(p) = at {
            depth += 1;
            if depth as usize > nodes.len() + 1 {
                return None;
            }
            at = nodes.iter().find(|x| x.id == p)?.parent;
        }
        Some(depth)
    }

    proptest! {
        /// Random forests of folders: `check` accepts exactly the acyclic ones
        /// whose folders are all within the limit.
        #[test]
        fn check_agrees_with_a_naive_walk(
            parents in proptest::collection::vec(proptest::option::of(0u64..8), 1..8),
            max_depth in 1u32..5,
        ) {
            let nodes: Vec<Node> = parents
                .iter()
                .enumerate()
                .map(|(i, p)| folder(i as u64, p.filter(|p| (*p as usize) < parents.len())))
                .collect();
            let depths: Vec<Option<u32>> = nodes.iter().map(|n| naive_depth(&nodes, n)).collect();
            let valid = depths.iter().all(|d| d.is_some_and(|d| d <= max_depth));
            prop_assert_eq!(check(&nodes, max_depth).is_ok(), valid);
        }
    }
}
