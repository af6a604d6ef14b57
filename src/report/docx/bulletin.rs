//! The public bulletin (通报) as a Word document: the paragraphs of [`crate::report::bulletin::blocks`]
//! (the same text as its page and its Markdown) laid out as an official document.

use super::Official;
use crate::error::AppResult;
use crate::report::Snapshot;
use crate::report::bulletin::{Block, blocks};

/// The bulletin of `snapshot` as DOCX.
pub fn render(snapshot: &Snapshot) -> AppResult<Vec<u8>> {
    let mut doc = Official::new();
    let blocks = blocks(snapshot);
    let signature: Vec<&Block> = blocks.iter().filter(|b| b.kind == "sign").collect();
    for block in &blocks {
        let text = block.text.as_str();
        match (block.kind, block.number) {
            ("title", _) => doc.title(text),
            ("h2", _) => doc.heading(text),
            ("h3", _) => doc.subheading(text),
            ("sign", _) => {}
            // A problem: its number and its first sentence (the problem's title) as the
            // third-level heading, the rest as text.
            (_, Some(n)) => {
                let (head, rest) = first_sentence(text);
                doc.item(&format!("{n}. {head}"), rest);
            }
            // A section's item, （一）title。text: its heading run in 楷体.
            _ if numbered_item(text) => {
                let (head, rest) = first_sentence(text);
                doc.subitem(head, rest);
            }
            _ => doc.paragraph(text),
        }
    }
    if let [issuer, date, ..] = signature.as_slice() {
        doc.signature(&issuer.text, &date.text);
    }
    doc.finish()
}

/// Whether `text` opens with a bracketed Chinese number, as （一） or (二).
fn numbered_item(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('（').or_else(|| text.strip_prefix('(')) else {
        return false;
    };
    let numerals = rest.trim_start_matches(|c: char| "一二三四五六七八九十".contains(c));
    numerals.len() < rest.len() && numerals.starts_with(['）', ')'])
}

/// `text` cut after its first full stop (。), or whole.
pub fn first_sentence(text: &str) -> (&str, &str) {
    match text.find('。') {
        Some(at) => text.split_at(at + '。'.len_utf8()),
        None => (text, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::{first_sentence, numbered_item};

    #[test]
    fn a_problem_splits_after_its_title() {
        assert!(numbered_item("（一）加强领导。") && numbered_item("(十二)x"));
        assert!(!numbered_item("（2020年）制定") && !numbered_item("一是"));
        assert_eq!(first_sentence("标题。描述。"), ("标题。", "描述。"));
        assert_eq!(first_sentence("无句号"), ("无句号", ""));
    }
}
