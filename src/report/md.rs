//! Markdown from data: every text a user wrote (a title, a department, a measure, the
//! bulletin's prose) reaches a Markdown document through [`Md`], whose `Display` writes it as
//! literal text. No HTML from data (`<`, `>` and `&` become entities, so `<script>` reads as
//! the characters it is), and no Markdown structure from data: emphasis, code, links, images,
//! table cells, headings and lists written in a text show as the characters typed.
//!
//! Build one with [`line`] (a heading, a list item or a table cell: line breaks become
//! spaces, since a line break would end the line's block), [`paragraph`] (a paragraph of its
//! own: its line breaks kept) or [`in_html`] (inside an HTML element of rectrack's own, where
//! Markdown is not read: HTML escaping by maud, on one line, Markdown's characters as character
//! references). Rectrack's own words (labels, dates, numbers) are written as they are.

use std::fmt::{self, Write};

/// Where in a Markdown document a text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Line,
    Paragraph,
    Html,
}

/// A user's text on its way into Markdown: displays escaped for where it goes.
#[derive(Debug, Clone, Copy)]
pub struct Md<'a> {
    text: &'a str,
    context: Context,
}

/// Text within a line of Markdown (a heading, a list item, a table cell).
pub fn line(text: &str) -> Md<'_> {
    Md {
        text,
        context: Context::Line,
    }
}

/// Text that is a paragraph (or paragraphs) of its own.
pub fn paragraph(text: &str) -> Md<'_> {
    Md {
        text,
        context: Context::Paragraph,
    }
}

/// Text inside an HTML element that rectrack writes into Markdown.
pub fn in_html(text: &str) -> Md<'_> {
    Md {
        text,
        context: Context::Html,
    }
}

impl fmt::Display for Md<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.context == Context::Html {
            // Inside an HTML block CommonMark reads no Markdown (a backslash would show), and
            // a blank line would end the block: HTML escaping, on one line; the characters that
            // are Markdown elsewhere as character references, for renderers that read Markdown
            // inside HTML all the same.
            let mut escaped = String::with_capacity(self.text.len());
            fmt::Write::write_str(&mut maud::Escaper::new(&mut escaped), &one_line(self.text))?;
            for c in escaped.chars() {
                if INLINE.contains(&c) {
                    write!(f, "&#{};", u32::from(c))?;
                } else {
                    f.write_char(c)?;
                }
            }
            return Ok(());
        }
        escape(f, self.text, self.context == Context::Paragraph)
    }
}

/// Line breaks (`\r\n`, `\r`, `\n`) as spaces.
fn one_line(text: &str) -> String {
    text.replace("\r\n", " ").replace(['\r', '\n'], " ")
}

/// Characters that are Markdown (CommonMark and GitHub's tables, strikethrough and math)
/// wherever they stand in a line.
const INLINE: [char; 10] = ['\\', '`', '*', '_', '[', ']', '#', '~', '|', '$'];

/// Writes `text` as literal Markdown text. Wherever they stand: [`INLINE`] characters are
/// backslash-escaped, `<`, `>`, `&` written as entities. At the start of a line, where they
/// would open a block: indentation (a code block) is dropped, and `-`, `+`, `=` (a list, a
/// setext heading's underline) and the `.` or `)` after leading digits (a numbered list) are
/// escaped. Line breaks are kept when `keep_breaks`, spaces otherwise.
fn escape(out: &mut impl fmt::Write, text: &str, keep_breaks: bool) -> fmt::Result {
    let mut chars = text.chars().peekable();
    let mut line_start = true;
    while let Some(c) = chars.next() {
        if c == '\r' || c == '\n' {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            if keep_breaks {
                out.write_char('\n')?;
                line_start = true;
            } else {
                out.write_char(' ')?;
            }
            continue;
        }
        if line_start {
            if c == ' ' || c == '\t' {
                continue;
            }
            line_start = false;
            if matches!(c, '-' | '+' | '=') {
                out.write_char('\\')?;
                out.write_char(c)?;
                continue;
            }
            if c.is_ascii_digit() {
                out.write_char(c)?;
                while let Some(&d) = chars.peek()
                    && d.is_ascii_digit()
                {
                    out.write_char(d)?;
                    chars.next();
                }
                if let Some(&mark) = chars.peek()
                    && (mark == '.' || mark == ')')
                {
                    chars.next();
                    out.write_char('\\')?;
                    out.write_char(mark)?;
                }
                continue;
            }
        }
        match c {
            '&' => out.write_str("&amp;")?,
            '<' => out.write_str("&lt;")?,
            '>' => out.write_str("&gt;")?,
            c if INLINE.contains(&c) => {
                out.write_char('\\')?;
                out.write_char(c)?;
            }
            c => out.write_char(c)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_shows_as_typed_and_never_as_html_or_structure() {
        assert_eq!(
            line("<script>alert(1)</script>").to_string(),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            line("<img src=x onerror=alert(1)> & co").to_string(),
            "&lt;img src=x onerror=alert(1)&gt; &amp; co"
        );
        assert_eq!(line("a | b").to_string(), "a \\| b");
        assert_eq!(line("# 标题 #").to_string(), "\\# 标题 \\#");
        assert_eq!(
            line("[x](javascript:alert(1))").to_string(),
            "\\[x\\](javascript:alert(1))"
        );
        assert_eq!(
            line("`code` *em* _em_ ~~s~~").to_string(),
            "\\`code\\` \\*em\\* \\_em\\_ \\~\\~s\\~\\~"
        );
        assert_eq!(
            line("第一行\n- 第二行\r\n第三行").to_string(),
            "第一行 - 第二行 第三行"
        );
        assert_eq!(line("- 列表").to_string(), "\\- 列表");
        assert_eq!(line("1. 编号").to_string(), "1\\. 编号");
        assert_eq!(line("1.5万元").to_string(), "1\\.5万元");
        assert_eq!(line("共57.1%").to_string(), "共57.1%");
        assert_eq!(
            paragraph("一段\n\n    缩进\n===\n2) 项\n+ 项\n> 引用").to_string(),
            "一段\n\n缩进\n\\===\n2\\) 项\n\\+ 项\n&gt; 引用"
        );
        assert_eq!(
            in_html("A & B <b>\"x\"</b>\n\n# y").to_string(),
            "A &amp; B &lt;b&gt;&quot;x&quot;&lt;/b&gt;  &#35; y"
        );
    }
}
