//! What a list costs for the complexity limit: every connection field, root or nested, is
//! priced by [`super::catalogue::page_cost`], which reads its `first` and `last` and asks this.

/// A page's cost: its size (the default when neither `first` nor `last` is given) times its
/// content, plus one.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let size = first
        .or(last)
        .map_or(crate::domain::reads::page::DEFAULT_SIZE as usize, |n| {
            n.max(0) as usize
        });
    size.max(1) * child + 1
}
